"""The store's writes: rows go in by column name, in any order; the row-group writer commits whole row
groups as they fill (the lead table's rows in as they come, the others' waiting) and the rest is
inserted on flush, in order."""

from __future__ import annotations

import pyarrow as pa
import pytest

from ledger.errors import LedgerStoreError
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


def line_numbers(ledger: Ledger, table: str = "rejects") -> list[int]:
    """The rows in the writer's transaction (the ledger's own connection sees them before they are committed)."""
    return [row["line_no"] for row in ledger.rows(f"SELECT line_no FROM {table} ORDER BY rowid")]


def committed(ledger: Ledger, table: str = "rejects") -> list[int]:
    """The rows committed: what another connection to the same ledger sees."""
    other = ledger.con.cursor()
    try:
        return [row[0] for row in other.execute(f"SELECT line_no FROM {table} ORDER BY rowid").fetchall()]
    finally:
        other.close()


def referrals(first: int, n: int) -> pa.Table:
    return pa.table(
        {
            "upload_id": ["u"] * n,
            "line_no": pa.array(range(first, first + n), pa.int64()),
            "ts": pa.array([0] * n, pa.timestamp("us", tz="UTC")),
            "outlet": ["o"] * n,
            "product": ["p"] * n,
            "operator": ["op"] * n,
        }
    )


def test_the_lead_goes_in_as_it_comes_and_is_committed_at_whole_row_groups(ledger: Ledger) -> None:
    with ledger.transaction():
        writer = RowGroupWriter(ledger, rows=4)
        writer.add("rejects", rejects(1, 3))  # the first table with rows leads
        assert (line_numbers(ledger), committed(ledger)) == ([1, 2, 3], [])
        writer.add("rejects", rejects(4, 6))  # 9 rows: two whole row groups committed, one row in
        assert (line_numbers(ledger), committed(ledger)) == (list(range(1, 10)), list(range(1, 9)))
        writer.add("rejects", rejects(10, 0))
        writer.add("rejects", rejects(10, 2))
        assert committed(ledger) == list(range(1, 9))
        writer.flush()
        assert line_numbers(ledger) == list(range(1, 12))  # every row once, in the order added
    assert committed(ledger) == list(range(1, 12))


def test_each_whole_row_group_is_committed_and_the_rest_is_left_to_the_caller(ledger: Ledger) -> None:
    with pytest.raises(RuntimeError), ledger.transaction():
        writer = RowGroupWriter(ledger, rows=4)
        writer.add("rejects", rejects(1, 10))
        writer.flush()
        raise RuntimeError("the upload fails after its rows were added")
    # the two whole row groups were committed (an upload removes them by its id: ingest's discard_upload);
    # the rest was in the failed transaction
    assert line_numbers(ledger) == list(range(1, 9))


def test_other_tables_wait_for_the_leads_whole_row_group(ledger: Ledger) -> None:
    with ledger.transaction():
        writer = RowGroupWriter(ledger, rows=2)
        writer.add("rejects", rejects(1, 1))  # leads
        writer.add("referrals", referrals(1, 3))  # a whole row group, but the lead's is open: it waits
        assert line_numbers(ledger, "referrals") == []
        assert committed(ledger) == []
        writer.add("rejects", rejects(2, 1))  # the lead's row group: committed with the others' whole ones
        assert (committed(ledger), committed(ledger, "referrals")) == ([1, 2], [1, 2])
        writer.add("referrals", referrals(4, 1))  # the lead is still the rejects: 3 and 4 make a row group
        assert committed(ledger, "referrals") == [1, 2, 3, 4]
        writer.add("referrals", referrals(5, 1))
        writer.flush()
        assert committed(ledger, "referrals") == [1, 2, 3, 4]
    assert committed(ledger, "referrals") == [1, 2, 3, 4, 5]


def test_rows_that_come_to_too_many_bytes_go_in_before_a_whole_row_group(ledger: Ledger) -> None:
    with ledger.transaction():
        writer = RowGroupWriter(ledger, rows=1000, pending_bytes=rejects(1, 10).nbytes * 2)
        writer.add("referrals", referrals(1, 2))  # leads: in as it comes
        writer.add("rejects", rejects(1, 10))
        assert line_numbers(ledger) == []
        writer.add("rejects", rejects(11, 15))  # 25 rows: more bytes than allowed, far from 1,000 rows
        assert (committed(ledger), committed(ledger, "referrals")) == (list(range(1, 26)), [1, 2])
        writer.add("rejects", rejects(26, 3))  # the lead's rows went with that commit: the rejects lead now
        assert (line_numbers(ledger), committed(ledger)) == (list(range(1, 29)), list(range(1, 26)))
        writer.add("referrals", referrals(3, 1))  # waits
        assert line_numbers(ledger, "referrals") == [1, 2]
        writer.flush()
    assert (committed(ledger), committed(ledger, "referrals")) == (list(range(1, 29)), [1, 2, 3])


def test_without_a_lead_rows_wait_to_be_taken_unless_they_make_a_whole_row_group(ledger: Ledger) -> None:
    # a small file's writer: its rows are handed to the group of files committed together
    with ledger.transaction():
        writer = RowGroupWriter(ledger, rows=4, lead=False)
        writer.add("rejects", rejects(1, 3))
        writer.add("referrals", referrals(1, 2))
        assert (line_numbers(ledger), line_numbers(ledger, "referrals")) == ([], [])
        writer.add("rejects", rejects(4, 2))  # a whole row group: committed as with a lead; one row waits
        assert (committed(ledger), committed(ledger, "referrals")) == ([1, 2, 3, 4], [])
        taken = writer.take()
        assert {table: rows["line_no"].to_pylist() for table, rows in taken.items()} == {
            "rejects": [5],
            "referrals": [1, 2],
        }
        assert writer.take() == {} and line_numbers(ledger) == [1, 2, 3, 4]


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


def fetch_rows(n: int, kinds: int) -> pa.Table:
    """``n`` rows of the ``fetches`` view's columns, of ``kinds`` kinds in turn (nulls among their values)."""
    kind = [k % kinds for k in range(n)]
    return pa.table(
        {
            "upload_id": ["u"] * n,
            "line_no": pa.array(range(1, n + 1), pa.int64()),
            "ts": pa.array([k * 1_000_000 for k in range(n)], pa.timestamp("us", tz="UTC")),
            "outlet": ["o"] * n,
            "host": ["o.kz"] * n,
            "path": [f"/a/{k}" for k in range(n)],
            "url": [f"https://o.kz/a/{k}" for k in range(n)],
            "method": ["GET"] * n,
            "status": pa.array([200] * n, pa.int16()),
            "bytes": pa.array([512] * n, pa.int64()),
            "client_ip": ["203.0.113.9"] * n,
            "user_agent": ["GPTBot/1.2"] * n,
            "bot": [None if k == 1 else f"bot{k}" for k in kind],
            "operator": [f"op{k}" for k in kind],
            "purpose": ["training" if k else None for k in kind],
            "ai": [k != 2 for k in kind],
            "attribution": ["ip_attributed" if k == 1 else "declared" for k in kind],
            "verification": ["verified" if k else "spoofed" for k in kind],
            "ip_list": [None if k else "openai-gptbot" for k in kind],
            "forwarded_for": [None] * n,
            "content_type": ["text/html"] * n,
        }
    )


def test_fetches_keep_their_kinds_once_and_read_back_whole(ledger: Ledger) -> None:
    """The seven values a user agent and an address decide are stored once per kind; the view gives every
    row back with all its columns, in the table's order of old."""
    rows = fetch_rows(3000, 3)
    ledger.insert_arrow("fetches", rows)
    ledger.insert_arrow("fetches", fetch_rows(10, 3))  # kinds stored already: not stored again
    assert ledger.rows("SELECT count(*) AS n FROM fetch_kinds")[0]["n"] == 3
    assert ledger.rows("SELECT count(*) AS n FROM fetch_rows")[0]["n"] == 3010
    assert ledger.columns("fetches") == rows.column_names
    back = ledger.arrow("SELECT * FROM fetches ORDER BY line_no, ts")
    expected = sorted([*rows.to_pylist(), *fetch_rows(10, 3).to_pylist()], key=lambda r: (r["line_no"], r["ts"]))
    assert back.to_pylist() == expected


def test_a_kind_number_that_would_name_two_kinds_is_refused(ledger: Ledger) -> None:
    """The view joins rows to their kind by number: a number naming other values would change what the
    rows of its first kind say. It is refused, and nothing of it is written."""
    ledger.insert_arrow("fetches", fetch_rows(3, 3))
    [stored] = ledger.arrow("SELECT * FROM fetch_kinds WHERE operator = 'op0'").to_pylist()
    other = pa.Table.from_pylist([stored | {"operator": "someone else"}])
    with pytest.raises(LedgerStoreError, match="would name two kinds of fetch"):
        ledger.insert_kinds(other)
    twice = pa.Table.from_pylist([stored | {"kind": 7}, stored | {"kind": 7, "bot": "other"}])
    with pytest.raises(LedgerStoreError, match="made for two kinds of fetch"):
        ledger.insert_kinds(twice)
    assert ledger.rows("SELECT count(*) AS n FROM fetch_kinds")[0]["n"] == 3
    assert {r["operator"] for r in ledger.rows("SELECT operator FROM fetches")} == {"op0", "op1", "op2"}


def test_a_ledger_of_fetches_in_one_table_is_migrated_to_kinds_row_for_row(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A ledger made before migration 008 keeps every fetch: the view gives back the table's rows."""
    import duckdb

    from ledger.store.db import migrations

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL)"
    )
    for number, name, sql in migrations():
        if number < 8:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [number, name])
    con.register("old_rows", fetch_rows(500, 4))
    con.execute("INSERT INTO fetches SELECT * FROM old_rows")
    before = con.sql("SELECT * FROM fetches ORDER BY line_no").to_arrow_table()
    con.close()
    with Ledger(path) as migrated:
        after = migrated.arrow("SELECT * FROM fetches ORDER BY line_no")
        assert after.column_names == before.column_names
        assert after.to_pylist() == before.to_pylist()
        assert migrated.rows("SELECT count(*) AS n FROM fetch_kinds")[0]["n"] == 4
        migrated.insert_arrow("fetches", fetch_rows(2, 4))  # and new ones go in beside them
        assert migrated.rows("SELECT count(*) AS n FROM fetches")[0]["n"] == 502


def test_kinds_rolled_back_are_stored_again_with_the_next_rows(ledger: Ledger) -> None:
    """The kinds stored are remembered so as not to look them up for every batch; a rollback takes them out
    of the ledger, and out of what is remembered: the next rows of those kinds still show."""
    with pytest.raises(RuntimeError), ledger.transaction():
        ledger.insert_arrow("fetches", fetch_rows(6, 3))
        raise RuntimeError("the upload failed")
    assert ledger.rows("SELECT count(*) AS n FROM fetch_kinds")[0]["n"] == 0
    ledger.execute("BEGIN TRANSACTION")
    ledger.insert_arrow("fetches", fetch_rows(6, 3))
    ledger.execute("ROLLBACK")  # as an ingest's group rolls back
    ledger.insert_arrow("fetches", fetch_rows(6, 3))
    assert ledger.rows("SELECT count(*) AS n FROM fetches")[0]["n"] == 6


def test_limits_keep_a_block_pool_that_a_smaller_limit_later_leaves_alone(ledger: Ledger) -> None:
    """Under ``limits``, DuckDB takes its blocks from a pool of the memory limit's size; DuckDB refuses to make
    that pool smaller, so a second block of work with a smaller limit keeps the larger pool and runs."""
    pool = "SELECT current_setting('block_allocator_memory') AS pool"
    assert ledger.rows(pool) == [{"pool": "0 bytes"}]
    with ledger.limits(memory="128MB", threads=1):
        assert ledger.rows(pool) == [{"pool": "122.0 MiB"}]
    with ledger.limits(memory="64MB", threads=1):
        assert ledger.rows("SELECT current_setting('memory_limit') AS m") == [{"m": "61.0 MiB"}]
        assert ledger.rows(pool) == [{"pool": "122.0 MiB"}]
    assert ledger.rows(pool) == [{"pool": "122.0 MiB"}]
