"""The DuckDB ledger: connection, numbered migrations, transactions, named queries, Arrow inserts.

DuckDB errors are translated into ``LedgerStoreError`` here and nowhere else. The connection's time
zone is pinned to UTC so that dates and months of TIMESTAMPTZ values are UTC whatever the machine says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ledger.errors import LedgerStoreError

_MIGRATION_RE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# Tables an ingest writes, keyed by upload_id (an unfinished upload is removed from all of them).
# The seven columns of ``fetches`` a fetch's user agent and address decide: stored once per kind
# (``fetch_kinds``), each row with its kind's number (``fetch_rows.kind``).
KIND_COLUMNS = ("bot", "operator", "purpose", "ai", "attribution", "verification", "ip_list")
# The tables that hold an upload's rows (the fetches' own: their kinds are shared, ``fetch_kinds``).
UPLOAD_TABLES = ("fetch_rows", "referrals", "rejects", "traffic_daily", "upload_windows", "uploads")
# Rows per DuckDB row group: DuckDB's default, which every ledger is created with.
ROW_GROUP_ROWS = 122_880
PENDING_BYTES = 64 << 20  # rows a table may hold back for a whole row group, in bytes


@cache
def named_query(name: str) -> str:
    """The text of ``ledger/store/queries/<name>.sql``."""
    return resources.files("ledger.store").joinpath("queries", f"{name}.sql").read_text(encoding="utf-8")


def migrations() -> list[tuple[int, str, str]]:
    """(number, file name, SQL) of every packaged migration, in order."""
    found = []
    for entry in resources.files("ledger.store").joinpath("migrations").iterdir():
        match = _MIGRATION_RE.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


class Ledger:
    """One open ledger file. Use as a context manager, or call ``close()``."""

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise LedgerStoreError(
                f"{self.path}: no ledger here yet; ingest a log first (royalty ingest ...) or pass --db"
            )
        # the kinds of fetches stored (committed, or in the open transaction), their values by number: read
        # once (``insert_kinds``), forgotten at a rollback
        self._kinds: dict[int, tuple[Any, ...]] | None = None
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
            self.con.execute("SET TimeZone = 'UTC'")
        except duckdb.Error as exc:
            raise translate(exc, self.path) from exc
        if not read_only:
            self.migrate()
            self.recover()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied, each in its own transaction; returns their names."""
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (number INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL)"
        )
        applied = {row[0] for row in self.con.execute("SELECT number FROM schema_migrations").fetchall()}
        done = []
        for number, name, sql in migrations():
            if number in applied:
                continue
            with self.transaction():
                self.con.execute(sql)
                self.con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [number, name, now()])
            done.append(name)
        return done

    def commit_and_continue(self) -> None:
        """Inside ``transaction()``: commit what is written so far and go on in a new transaction."""
        self.execute("COMMIT")
        self.execute("BEGIN TRANSACTION")

    @contextmanager
    def limits(self, *, memory: str, threads: int) -> Iterator[None]:
        """DuckDB's memory limit (e.g. '256MB') and thread count for a block of work, then back to what
        they were (DuckDB's defaults unless set otherwise: its memory limit reads back rounded).

        DuckDB's blocks are also taken from a pool of ``memory`` kept by the database once set (it cannot be
        reduced, nor reset; it takes pages only as it uses them) rather than from new memory, which the
        kernel maps and zeroes page by page for each row group written: a 5M-line gzip log's ingest had
        255,000 page faults, 214,000 with it, and 0.16 s less time in seven runs of eight."""
        current = "SELECT current_setting('memory_limit'), current_setting('threads')"
        [before] = self.execute(current).fetchall()
        self.execute(f"SET memory_limit = '{int(memory.removesuffix('MB'))}MB'")
        self.execute(f"SET threads = {int(threads)}")
        with suppress(duckdb.InvalidInputException):  # already larger (another ledger on the same database)
            self.con.execute(f"SET block_allocator_memory = '{int(memory.removesuffix('MB'))}MB'")
        try:
            yield
        finally:
            self.execute("RESET memory_limit")
            self.execute("RESET threads")
            [defaults] = self.execute(current).fetchall()
            if defaults != before:
                self.execute(f"SET memory_limit = '{before[0]}'")
                self.execute(f"SET threads = {int(before[1])}")

    def begin_upload(self, upload_id: str, source: str) -> None:
        """Mark an upload as in progress, at the latest with the first of its rows committed before its
        final transaction (``RowGroupWriter``'s ``before_commit``)."""
        self.execute("INSERT INTO uploads_pending VALUES (?, ?, ?)", [upload_id, source, now()])

    def end_upload(self, upload_id: str) -> None:
        """Inside the upload's final transaction: it is complete."""
        self.execute("DELETE FROM uploads_pending WHERE upload_id = ?", [upload_id])

    def discard_upload(self, upload_id: str) -> None:
        """Remove every row of an unfinished upload, in one transaction."""
        with self.transaction():
            self.delete_upload(upload_id)

    def delete_upload(self, upload_id: str) -> None:
        """Inside a transaction: delete every row of an upload, and its in-progress mark."""
        for table in UPLOAD_TABLES:
            self.execute(f"DELETE FROM {table} WHERE upload_id = ?", [upload_id])
        self.execute("DELETE FROM uploads_pending WHERE upload_id = ?", [upload_id])

    def recover(self) -> list[str]:
        """Remove uploads a killed process left unfinished; returns their ids."""
        if not self.rows("SELECT 1 FROM information_schema.tables WHERE table_name = 'uploads_pending'"):
            return []
        left = [row["upload_id"] for row in self.rows("SELECT upload_id FROM uploads_pending ORDER BY upload_id")]
        for upload_id in left:
            self.discard_upload(upload_id)
        return left

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: an exception (including KeyboardInterrupt) rolls everything back."""
        try:
            self.con.execute("BEGIN TRANSACTION")
        except duckdb.Error as exc:
            raise translate(exc, self.path) from exc
        try:
            yield
        except BaseException:
            self._kinds = None
            self.con.execute("ROLLBACK")
            raise
        try:
            self.con.execute("COMMIT")
        except duckdb.Error as exc:
            self._kinds = None  # DuckDB rolled the transaction back, and the kinds stored in it
            raise translate(exc, self.path) from exc

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
        if sql == "ROLLBACK":
            self._kinds = None
        try:
            return self.con.execute(sql, params) if params is not None else self.con.execute(sql)
        except duckdb.Error as exc:
            raise translate(exc, self.path) from exc

    def arrow(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pa.Table:
        try:
            return self.con.sql(sql, params=params).to_arrow_table()
        except duckdb.Error as exc:
            raise translate(exc, self.path) from exc

    def rows(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        result = self.execute(sql, params)
        columns = [d[0] for d in result.description or []]
        return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        """Append an Arrow table to a ledger table, matching columns by name.

        One statement reads the rows as a stream of record batches through a DuckDB replacement scan (the
        local variable named in it): DuckDB 2.0's relation API binds the rows' statement once more before
        it inserts, and registering a view of them costs two more calls (one statement a small file's
        table: 1.05 -> 0.82 ms; 122,880 rows of fetches the same, 130 ms). A table, rather than a stream,
        is scanned through pyarrow's dataset API (2.2 -> 1.7 ms for 846 rows of fetches)."""
        if data.num_rows == 0:
            return
        if table == "fetches":  # a view: the rows go to fetch_rows, their kinds to fetch_kinds
            self.insert_fetches(data)
            return
        columns = ", ".join(data.column_names)  # matched by name, in whichever order the rows have them
        _ledger_rows = data.to_reader()  # the statement reads it by its name
        try:
            self.con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _ledger_rows")
        except duckdb.Error as exc:
            raise translate(exc, self.path) from exc

    def insert_fetches(self, data: pa.Table) -> None:
        """Rows with the ``fetches`` view's columns: their kinds in ``fetch_kinds`` (``with_kinds``), the
        rest in ``fetch_rows``."""
        import polars as pl

        from ledger.store.kinds import with_kinds

        frame = pl.from_arrow(data)
        assert isinstance(frame, pl.DataFrame)
        missing = [column for column in KIND_COLUMNS if column not in frame.columns]  # null, as columns not given
        frame = frame.with_columns(pl.lit(None, pl.Boolean if c == "ai" else pl.String).alias(c) for c in missing)
        rows, kinds = with_kinds(frame)
        self.insert_kinds(kinds.to_arrow())
        self.insert_arrow("fetch_rows", rows.to_arrow())

    def insert_fetches_query(self, columns: str, select: str, params: Mapping[str, Any] | None = None) -> None:
        """The rows a query makes, with the ``fetches`` view's ``columns`` (a synthetic ledger built in SQL,
        bench/): their kinds numbered by DuckDB's hash of the values, stored as ``insert_kinds`` does."""
        kind = f"CAST(hash({', '.join(KIND_COLUMNS)}) // 2 AS BIGINT)"
        own = ", ".join(column for column in self.columns("fetch_rows") if column != "kind")
        self.execute("CREATE OR REPLACE TEMP TABLE _staged_fetches AS SELECT * FROM fetches LIMIT 0")
        self.execute(f"INSERT INTO _staged_fetches ({columns}) {select}", params)
        kinds = self.arrow(f"SELECT DISTINCT {kind} AS kind, {', '.join(KIND_COLUMNS)} FROM _staged_fetches")
        self.insert_kinds(kinds)
        self.execute(f"INSERT INTO fetch_rows ({own}, kind) SELECT {own}, {kind} FROM _staged_fetches")
        self.execute("DROP TABLE _staged_fetches")

    def columns(self, table: str) -> list[str]:
        """A table's column names, in order."""
        return [row[0] for row in self.execute(f"DESCRIBE {table}").fetchall()]

    def insert_kinds(self, kinds: pa.Table) -> None:
        """Kinds of fetches (``ledger.store.kinds.with_kinds``), those not stored yet: before the rows that
        name them, in the same transaction (the ``fetches`` view shows a row only with its kind). A number
        that names other values already is refused: its rows would show that kind's. The kinds stored are
        read once (a few dozen rows) and kept until a rollback: a batch's are compared here, and only new
        ones written (a lookup of each batch's kinds took 0.3 s of the writer's CPU over the bench file)."""
        if kinds.num_rows == 0:
            return
        rows = kinds.select(["kind", *KIND_COLUMNS]).to_pylist()
        given = {row["kind"]: tuple(row[column] for column in KIND_COLUMNS) for row in rows}
        if len(given) < len(rows):
            raise self._kind_clash("was made for two kinds of fetch")
        if self._kinds is None:
            stored = self.execute(f"SELECT kind, {', '.join(KIND_COLUMNS)} FROM fetch_kinds").fetchall()
            self._kinds = {row[0]: tuple(row[1:]) for row in stored}
        if any(self._kinds.get(number, values) != values for number, values in given.items()):
            raise self._kind_clash("would name two kinds of fetch")
        new = [row for row in rows if row["kind"] not in self._kinds]
        if not new:
            return
        _ledger_kinds = pa.Table.from_pylist(new, schema=kinds.select(["kind", *KIND_COLUMNS]).schema)  # read by name
        columns = ", ".join(("kind", *KIND_COLUMNS))
        try:
            self.con.execute(f"INSERT INTO fetch_kinds ({columns}) SELECT {columns} FROM _ledger_kinds")
        except duckdb.Error as exc:
            raise translate(exc, self.path) from exc
        self._kinds.update((row["kind"], given[row["kind"]]) for row in new)

    def _kind_clash(self, what: str) -> LedgerStoreError:
        return LedgerStoreError(
            f"{self.path}: a fetch kind number {what}; nothing of this upload is written. Report this, with the "
            "polars version: it should not happen"
        )


class RowGroupWriter:
    """Appends to ledger tables in whole row groups, each committed as soon as it is in.

    DuckDB writes a transaction's whole row groups compressed straight into the database file and only
    links them in at commit. A part of one is worse: a small part goes to the write-ahead log and is
    compressed again at the next checkpoint, and a larger one (DuckDB 2.0: 60,000 rows) is written, but
    the next rows then go into that last, partial row group (committing at half row groups made the 5M-line
    bench ingest take 8.1 s instead of 5.0 s). Committing at whole row groups writes every row once
    (measured on the fetches of 5M log lines: 1.75 -> 1.17 CPU seconds). Used inside ``Ledger.transaction()``.

    One table at a time, the lead (the first to get rows after a commit: the fetches in a log of bots),
    has its rows inserted as they come, up to its next whole row group, where they are committed: only
    the commit waits for the row group to fill, and the last rows of a file are not all inserted at its
    end, when nothing else is left to run. The other tables' rows short of a row group wait here (at most
    ``ROW_GROUP_ROWS`` per table) until ``flush`` or a commit, unless they come to ``PENDING_BYTES`` first
    (long rows, such as rejects that keep 2 KB of their line): then they go in and are committed as they
    are. A table whose rows make a whole row group while the lead's are short of one waits for the lead's
    commit, up to ``PENDING_BYTES``.
    """

    def __init__(
        self,
        ledger: Ledger,
        rows: int | None = None,
        pending_bytes: int | None = None,
        before_commit: Callable[[], None] | None = None,
        *,
        lead: bool = True,
    ) -> None:
        self.ledger = ledger
        self.rows = rows or ROW_GROUP_ROWS
        self.pending_bytes = pending_bytes or PENDING_BYTES
        self.leads = lead  # without a lead every table's rows wait (a small file's: ``take`` hands them over)
        self.before_commit = before_commit  # called once, in the transaction, before its first commit
        self.committed = False  # whether some rows were committed on the way
        self._pending: dict[str, list[pa.Table]] = {}
        self._counts: dict[str, int] = {}
        self._bytes: dict[str, int] = {}
        self._lead: str | None = None  # the table whose rows go in as they come
        self._open = 0  # the lead's rows inserted since its last whole row group

    def add(self, table: str, data: pa.Table) -> None:
        if data.num_rows == 0:
            return
        if self.leads and self._lead is None and not self._pending.get(table):
            self._lead, self._open = table, 0
        if table == self._lead:
            self._add_lead(data)
            return
        self._pending.setdefault(table, []).append(data)
        self._counts[table] = self._counts.get(table, 0) + data.num_rows
        self._bytes[table] = self._bytes.get(table, 0) + data.nbytes
        if self._bytes[table] >= self.pending_bytes or (self._counts[table] >= self.rows and not self._open):
            self._commit()

    def _add_lead(self, data: pa.Table) -> None:
        """The lead's rows in: up to each whole row group, committed there; the rest stays open."""
        while data.num_rows:
            room = self.rows - self._open
            self.ledger.insert_arrow(self._lead, data.slice(0, room))  # type: ignore[arg-type]
            self._open += min(room, data.num_rows)
            data = data.slice(room)
            if self._open == self.rows:
                self._open = 0
                self._commit(lead=self._lead)

    def _commit(self, lead: str | None = None) -> None:
        """Commit what is in, with the other tables' whole row groups (every row of those waiting with too
        many bytes); ``lead``: the lead's row group that was just completed (it stays the lead)."""
        for table, parts in self._pending.items():
            whole = self._counts[table] - self._counts[table] % self.rows
            if self._bytes[table] >= self.pending_bytes:
                whole = self._counts[table]
            if not whole:
                continue
            stacked = pa.concat_tables(parts, promote_options="default")
            self.ledger.insert_arrow(table, stacked.slice(0, whole))
            rest = stacked.slice(whole)
            self._pending[table] = [rest] if rest.num_rows else []
            self._counts[table] = rest.num_rows
            self._bytes[table] = rest.nbytes
        if not self.committed and self.before_commit is not None:
            self.before_commit()
        self.ledger.commit_and_continue()
        self.committed = True
        if lead is None:  # the lead's rows went with this commit: the next table to get rows leads
            self._lead, self._open = None, 0

    def flush(self) -> None:
        """Insert what is waiting (not committed: that is the caller's transaction's end)."""
        for table, rows in self.take().items():
            self.ledger.insert_arrow(table, rows)

    def take(self) -> dict[str, pa.Table]:
        """The rows waiting, per table, handed over instead of inserted (the caller inserts them before its
        transaction's end); the writer starts afresh."""
        taken = {
            table: pa.concat_tables(parts, promote_options="default") for table, parts in self._pending.items() if parts
        }
        self._pending.clear()
        self._counts.clear()
        self._bytes.clear()
        self._lead, self._open = None, 0
        return taken


def now() -> datetime:
    return datetime.now(UTC)


def translate(exc: duckdb.Error, path: Path) -> LedgerStoreError:
    """The one place that turns DuckDB's errors into messages that say what to do."""
    text = str(exc)
    if "Could not set lock" in text or "Conflicting lock" in text:
        return LedgerStoreError(f"{path}: the ledger is open in another process; close it and retry")
    if isinstance(exc, duckdb.IOException):
        return LedgerStoreError(f"{path}: cannot open or write the ledger ({text.splitlines()[0]})")
    if isinstance(exc, duckdb.ConstraintException):
        return LedgerStoreError(f"{path}: the ledger refused a write that would break its rules ({text})")
    return LedgerStoreError(f"{path}: ledger error: {text.splitlines()[0] if text else type(exc).__name__}")
