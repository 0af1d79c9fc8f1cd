"""The store's writes: rows go in by column name, in any order; the row-group writer commits whole row
groups as they fill and the rest on flush, in order."""

from __future__ import annotations

import pyarrow as pa
import pytest

from ledger.store.db import Ledger, RowGroupWriter


def rejects(first: int, n: int) -> pa.Table:
    numbers = list(range(first, first + n))
    return pa.table(
        {
            "upload_id": ["u"] * n,
            "line_no": pa.array(numbers, pa.int64()),
            "reason": ["r"] * n,
            "raw": [f"line {k}" for k in numbers],
        }
    )


def line_numbers(ledger: Ledger) -> list[int]:
    return [row["line_no"] for row in ledger.rows("SELECT line_no FROM rejects ORDER BY rowid")]


def test_whole_row_groups_go_in_as_they_fill_and_the_rest_on_flush(ledger: Ledger) -> None:
    with ledger.transaction():
        writer = RowGroupWriter(ledger, rows=4)
        writer.add("rejects", rejects(1, 3))
        assert line_numbers(ledger) == []  # short of a row group: waiting
        writer.add("rejects", rejects(4, 6))  # 9 waiting: two row groups go in, one row waits
        assert line_numbers(ledger) == list(range(1, 9))
        writer.add("rejects", rejects(10, 0))
        writer.add("rejects", rejects(10, 2))
        assert line_numbers(ledger) == list(range(1, 9))
        writer.flush()
        assert line_numbers(ledger) == list(range(1, 12))  # every row once, in the order added


def test_each_whole_row_group_is_committed_and_flush_is_left_to_the_caller(ledger: Ledger) -> None:
    with pytest.raises(RuntimeError), ledger.transaction():
        writer = RowGroupWriter(ledger, rows=4)
        writer.add("rejects", rejects(1, 10))
        writer.flush()
        raise RuntimeError("the upload fails after its rows were added")
    # the two whole row groups were committed (an upload removes them by its id: ingest's discard_upload);
    # the flushed remainder was in the failed transaction
    assert line_numbers(ledger) == list(range(1, 9))


def test_tables_wait_separately(ledger: Ledger) -> None:
    referral = pa.table(
        {
            "upload_id": ["u"],
            "line_no": pa.array([1], pa.int64()),
            "ts": pa.array([0], pa.timestamp("us", tz="UTC")),
            "outlet": ["o"],
            "product": ["p"],
            "operator": ["op"],
        }
    )
    with ledger.transaction():
        writer = RowGroupWriter(ledger, rows=2)
        writer.add("referrals", referral)
        writer.add("rejects", rejects(1, 1))
        assert ledger.rows("SELECT count(*) AS n FROM referrals")[0]["n"] == 0
        writer.add("rejects", rejects(2, 1))
        assert line_numbers(ledger) == [1, 2]
        assert ledger.rows("SELECT count(*) AS n FROM referrals")[0]["n"] == 0
        writer.flush()
    assert ledger.rows("SELECT count(*) AS n FROM referrals")[0]["n"] == 1


def test_rows_that_come_to_too_many_bytes_go_in_before_a_whole_row_group(ledger: Ledger) -> None:
    with ledger.transaction():
        writer = RowGroupWriter(ledger, rows=1000, pending_bytes=rejects(1, 10).nbytes * 2)
        writer.add("rejects", rejects(1, 10))
        assert line_numbers(ledger) == []
        writer.add("rejects", rejects(11, 15))  # 25 rows: more bytes than allowed, far from 1,000 rows
        assert line_numbers(ledger) == list(range(1, 26))
        writer.add("rejects", rejects(26, 3))
        assert line_numbers(ledger) == list(range(1, 26))
        writer.flush()
    assert line_numbers(ledger) == list(range(1, 29))


def test_rows_go_into_their_columns_by_name_in_any_order(ledger: Ledger) -> None:
    ledger.insert_arrow("rejects", rejects(1, 2).select(["raw", "reason", "line_no", "upload_id"]))  # every column
    fetch = {"upload_id": ["u"], "line_no": [7], "outlet": ["o"], "operator": ["OpenAI"], "ai": [True]}
    fetch |= {"verification": ["verified"], "attribution": ["declared"], "status": pa.array([200], pa.int16())}
    stamp = pa.array([0], pa.timestamp("us", "UTC"))
    ledger.insert_arrow("fetches", pa.table(fetch).append_column("ts", stamp))  # some, the others null
    assert ledger.rows("SELECT upload_id, line_no, reason, raw FROM rejects ORDER BY line_no") == [
        {"upload_id": "u", "line_no": 1, "reason": "r", "raw": "line 1"},
        {"upload_id": "u", "line_no": 2, "reason": "r", "raw": "line 2"},
    ]
    assert ledger.rows("SELECT line_no, operator, status, path FROM fetches") == [
        {"line_no": 7, "operator": "OpenAI", "status": 200, "path": None}
    ]
