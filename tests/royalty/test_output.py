"""Tables for people: a table that cannot fit the terminal without cutting words is shown a row a block."""

from __future__ import annotations

import pyarrow as pa
import pytest

from royalty.output import OutputFormat, emit

AGENT = "Mozilla/5.0 (compatible; GPTBot/1.2; +https://openai.com/gptbot)"
WIDE = pa.table(
    {
        "line_no": [1, 2],
        "ts": ["2026-10-15T07:00:00.123000Z", "2026-10-15T07:00:01Z"],
        **{f"field_{n}": [f"value-{n}-of-line-one", f"value-{n}-of-line-two"] for n in range(10)},
        "user_agent": [AGENT, "curl/8.0"],
    }
)


def shown(table: pa.Table, width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    emit(table, OutputFormat.table, title="t")
    return capsys.readouterr().out


def test_a_table_too_wide_for_the_terminal_is_shown_a_row_a_block(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`royalty ingest --dry-run` on an 80-column terminal cut its 16 columns to a letter each."""
    out = shown(WIDE, 80, monkeypatch, capsys)
    assert "…" not in out  # no value cut
    assert max(len(line) for line in out.splitlines()) <= 80
    rows = [line.split("│") for line in out.splitlines() if line.startswith("│")]
    fields = [cells[1].strip() for cells in rows if cells[1].strip()]  # a wrapped value's next line has none
    assert fields == list(WIDE.column_names) * 2  # each row's fields, in order, one block after the other
    assert "value-9-of-line-two" in out and "2026-10-15T07:00:00.123000Z" in out
    assert sum(1 for line in out.splitlines() if line.startswith("├")) == 1  # the rule between the two rows


def test_a_table_that_fits_stays_a_table(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    narrow = pa.table({"outlet": ["dala"], "operator": ["OpenAI"], "fetches": [1234]})
    out = shown(narrow, 80, monkeypatch, capsys)
    assert "┃ outlet ┃ operator ┃ fetches ┃" in out and "1,234" in out
    wrapped = pa.table({"outlet": ["dala"], "title": ["a headline of many words " * 6]})  # wraps, cuts no word
    assert "┃ outlet ┃ title" in shown(wrapped, 80, monkeypatch, capsys)
    wide = shown(WIDE, 1000, monkeypatch, capsys)  # a terminal wide enough: the table
    assert "┃ line_no ┃ ts" in wide and "…" not in wide
