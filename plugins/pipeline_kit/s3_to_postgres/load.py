"""The load itself, on one PostgreSQL transaction (PostgreSQL 16+, as Aurora PostgreSQL 16: ``pg_input_is_valid``):

1. ``COPY`` the well-formed records (``records``), as text with their line numbers, into a temporary table;
2. replace this source's quarantine for the logical date in ``<table>_rejects`` with the structural rejects;
3. fast path: one ``MERGE`` into the target casting every value strictly. A clean file is done here, with no
   per-row checks. Any bad value, missing value or key repeated in the file makes it fail (savepoint);
4. otherwise, set-wise: each row's problems (every column's reason), then keys repeated in the file (the first
   occurrence loads, the others are quarantined naming it), then the same ``MERGE`` over the good rows;
5. commit. Rows equal to the target are not rewritten; inserted and updated are counted from PostgreSQL's own
   transaction statistics, unchanged is the rest.

A failure anywhere (a constraint of the target, a lost connection) rolls everything back: target and quarantine
stay as they were. When the share of quarantined rows exceeds ``max_reject_rate`` the quarantine is committed
for inspection, the target is left untouched and ``TooManyRejects`` is raised.

rows read = loaded + quarantined; loaded = inserted + updated + unchanged. A key that arrives again with different
values is an update (counted; the file's value wins). With a ``Slice`` (e.g. the drop date), each file owns its
slice of the target: loads into one slice never touch another, whatever their order, and rows of the slice the
file no longer holds are deleted (counted as ``deleted``).
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import itertools
import time
from collections.abc import Iterable, Sequence
from typing import Any

from airflow.providers.common.compat.sdk import AirflowFailException

from pipeline_kit.s3_to_postgres.columns import (
    Column,
    SurrogateKey,
    problem,
    problem_kinds,
    quote_ident,
    quote_literal,
    strict_cast,
)
from pipeline_kit.s3_to_postgres.records import HeaderError, Reject, Structure, batched, copy_records

# SQLSTATEs the fast path gives way on: bad data (class 22), a key twice in the file (21000 from MERGE, 23505),
# a missing value (23502). Anything else is a real failure.
_FALL_BACK = ("22", "21000", "23505", "23502")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class TooManyRejects(AirflowFailException):
    """More rows were quarantined than the load allows (not retried: the same file fails the same way)."""


class EmptySource(AirflowFailException):
    """The source has no data rows and the load was told to fail on that (not retried)."""


class BadHeader(AirflowFailException):
    """The header lacks a column the target needs (not retried: no row of the file can load)."""


@dataclasses.dataclass(frozen=True)
class Slice:
    """The part of the target one file replaces: the rows whose ``name`` column equals ``value`` (e.g. the drop
    date). The file's rows get that value; rows of the slice the file no longer holds are deleted, so the slice
    always mirrors the last file loaded into it and loads into other slices never touch it."""

    name: str
    pg_type: str
    value: str

    @property
    def sql_value(self) -> str:
        return f"{quote_literal(self.value)}::{self.pg_type}"


@dataclasses.dataclass(frozen=True)
class Target:
    """``table`` (schema.table) must have a unique constraint on ``key_columns`` (plus the slice's column).
    ``columns``: what the file fills, in target terms; None: every column of the table but the slice's and the
    surrogate key, named in the header as in the table, typed and nullable as the table says (read from
    PostgreSQL's catalog, so the DDL is the one place that says it)."""

    table: str
    columns: Sequence[Column] | None
    key_columns: Sequence[str]
    surrogate_key: SurrogateKey | None = None
    slice: Slice | None = None

    def with_table_columns(self, cursor) -> Target:
        """This target with ``columns`` read from the table when not given."""
        if self.columns is not None:
            return self
        cursor.execute(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (self.table,),
        )
        filled_elsewhere = {
            self.slice.name if self.slice else None,
            self.surrogate_key.name if self.surrogate_key else None,
        }
        columns = [
            Column(name, pg_type, not not_null)
            for name, pg_type, not_null in cursor.fetchall()
            if name not in filled_elsewhere
        ]
        return dataclasses.replace(self, columns=columns)

    @property
    def column_names(self) -> list[str]:
        return (
            ([self.slice.name] if self.slice else [])
            + [column.name for column in self.columns]
            + ([self.surrogate_key.name] if self.surrogate_key else [])
        )

    @property
    def match_columns(self) -> list[str]:
        """What identifies a row of the target: the slice's column and the key."""
        return ([self.slice.name] if self.slice else []) + list(self.key_columns)

    @property
    def rejects_table(self) -> str:
        return f"{self.table}_rejects"


def header_positions(header: Sequence[str], columns: Sequence[Column]) -> list[int]:
    """Where each column's field sits in the header (matched by name); raises BadHeader naming what is missing."""
    if len(set(header)) != len(header):
        raise BadHeader(f"header {list(header)} repeats a field name")
    missing = [column.header for column in columns if column.header not in header]
    if missing:
        raise BadHeader(f"header {list(header)} lacks field(s) {missing}")
    return [header.index(column.header) for column in columns]


def sqlstate(exc: BaseException) -> str:
    return getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None) or ""


def copy_in(cursor, sql: str, chunks: Iterable[bytes]) -> None:
    """``COPY ... FROM STDIN`` fed from byte chunks, with psycopg 3 or psycopg2."""
    if hasattr(cursor, "copy"):
        with cursor.copy(sql) as copy:
            for chunk in chunks:
                copy.write(chunk)
    else:
        import io

        class _Reader(io.RawIOBase):
            def __init__(self):
                self._chunks, self._pending = iter(chunks), b""

            def readable(self) -> bool:
                return True

            def readinto(self, buffer) -> int:
                while len(self._pending) < len(buffer):
                    chunk = next(self._chunks, None)
                    if chunk is None:
                        break
                    self._pending += chunk
                size = min(len(buffer), len(self._pending))
                buffer[:size], self._pending = self._pending[:size], self._pending[size:]
                return size

        cursor.copy_expert(sql, _Reader(), size=1 << 16)


class Load:
    """One load of one CSV stream into one target (see the module docstring)."""

    def __init__(self, conn, target: Target, source_key: str, logical_date: str, max_reject_rate: float | None = None):
        self.conn = conn
        self.max_reject_rate = max_reject_rate
        self.target = target
        self.source_key = source_key
        self.logical_date = logical_date
        self.stage = "_stage_" + hashlib.md5(target.table.encode()).hexdigest()[:12]
        self.structure = Structure()
        self.positions: list[int] = []
        self._failed_with = ""

    # -- SQL pieces ---------------------------------------------------------------------------------------
    def _field(self, column: Column) -> str:
        return f"NULLIF(s.c{self.positions[self.target.columns.index(column)]}, '')"

    def _typed_select(self, where: str = "TRUE") -> str:
        """The staged rows as the target's typed columns (and line_no), surrogate key included."""
        target = self.target
        values = [
            f"{strict_cast(column, self._field(column))} AS {quote_ident(column.name)}" for column in target.columns
        ]
        if target.slice:
            values.insert(0, f"{target.slice.sql_value} AS {quote_ident(target.slice.name)}")
        select = f"SELECT s.line_no, {', '.join(values)} FROM {self.stage} s WHERE {where}"
        if not target.surrogate_key:
            return select
        fields = ", ".join(quote_ident(name) for name in self._surrogate_fields())
        texts = ", ".join(f"{quote_ident(name)}::text" for name in self._surrogate_fields())
        occurrence = f"row_number() OVER (PARTITION BY {fields} ORDER BY line_no)"
        key = f"md5(concat_ws(chr(31), {texts}, ({occurrence})::text))"
        return f"SELECT typed.*, {key} AS {quote_ident(target.surrogate_key.name)} FROM ({select}) typed"

    def _surrogate_fields(self) -> list[str]:
        by_header = {column.header: column.name for column in self.target.columns}
        return [by_header[field] for field in self.target.surrogate_key.fields]

    def _merge_sql(self, source: str) -> str:
        target = self.target
        names = target.column_names
        on = " AND ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in target.match_columns)
        others = [name for name in names if name not in target.match_columns]
        insert = (
            f"WHEN NOT MATCHED THEN INSERT ({', '.join(map(quote_ident, names))}) "
            f"VALUES ({', '.join('s.' + quote_ident(n) for n in names)})"
        )
        if not others:
            return f"MERGE INTO {quote_ident(target.table)} AS t USING ({source}) AS s ON {on} {insert}"
        changed = (
            f"({', '.join('t.' + quote_ident(n) for n in others)}) IS DISTINCT FROM "
            f"({', '.join('s.' + quote_ident(n) for n in others)})"
        )
        update = ", ".join(f"{quote_ident(n)} = s.{quote_ident(n)}" for n in others)
        return (
            f"MERGE INTO {quote_ident(target.table)} AS t USING ({source}) AS s ON {on} "
            f"WHEN MATCHED AND {changed} THEN UPDATE SET {update} {insert}"
        )

    def _raw(self, alias: str) -> str:
        """A staged row's raw text: kept for records with quotes, the fields joined back for plain lines."""
        fields = ", ".join(f"{alias}.c{i}" for i in range(len(self.structure.header)))
        return f"coalesce({alias}.raw, array_to_string(ARRAY[{fields}], ',', ''))"

    # -- steps ----------------------------------------------------------------------------------------------
    def _stage(self, cursor, chunks: Iterable[bytes]) -> None:
        """COPY the well-formed records into a staging table shaped by the header (created once it is read)."""

        def on_header(header: list[str]) -> tuple[int, list[int]]:
            self.positions = header_positions(header, self.target.columns)
            fields = ", ".join(f"c{i} text" for i in range(len(header)))
            cursor.execute(f"CREATE TEMP TABLE {self.stage} (line_no integer, raw text, {fields}) ON COMMIT DROP")
            typed = [
                position for position, column in zip(self.positions, self.target.columns, strict=True) if column.typed
            ]
            return len(header), typed

        records = copy_records(chunks, on_header, self.structure)
        first = next(records, None)  # reads the header, so the staging table exists
        if first is None:
            return
        copy_in(cursor, f"COPY {self.stage} FROM STDIN (FORMAT csv)", batched(itertools.chain([first], records)))

    def _stats(self, cursor) -> tuple[int, int]:
        """Rows inserted and updated in the target so far in this transaction (PostgreSQL's own counts)."""
        table = quote_literal(self.target.table)
        cursor.execute(
            f"SELECT pg_stat_get_xact_tuples_inserted({table}::regclass), "
            f"pg_stat_get_xact_tuples_updated({table}::regclass)"
        )
        return cursor.fetchone()

    def _merge(self, cursor, source: str) -> tuple[int, int]:
        """(inserted, updated) by a MERGE of ``source`` (a failure here is the load's failure)."""
        before = self._stats(cursor)
        cursor.execute(self._merge_sql(source))
        after = self._stats(cursor)
        return after[0] - before[0], after[1] - before[1]

    def _value_rejects(self, cursor) -> list[Reject]:
        """Rows whose values do not load (every column's reason), then later rows repeating a key."""
        columns = self.target.columns
        reasons = ", ".join(problem(column, self._field(column)) for column in columns)
        cursor.execute(
            f"CREATE TEMP TABLE {self.stage}_bad ON COMMIT DROP AS SELECT line_no, raw, reason FROM "
            f"(SELECT s.line_no, {self._raw('s')} AS raw, concat_ws('; ', {reasons}) AS reason FROM {self.stage} s) r "
            "WHERE reason <> ''"
        )
        keys = [
            name
            for name in self.target.key_columns
            if not (self.target.surrogate_key and name == self.target.surrogate_key.name)
        ]
        if keys:
            key_values = ", ".join(quote_ident(k) for k in keys)
            described = " || ', ' || ".join(f"{quote_literal(k + '=')} || {quote_ident(k)}::text" for k in keys)
            good = self._typed_select(f"s.line_no NOT IN (SELECT line_no FROM {self.stage}_bad)")
            cursor.execute(
                f"INSERT INTO {self.stage}_bad (line_no, raw, reason) "
                f"SELECT d.line_no, {self._raw('st')}, 'duplicate key (' || d.described || "
                f"', first on line ' || d.first_line || ')' FROM (SELECT line_no, {described} AS described, "
                f"min(line_no) OVER (PARTITION BY {key_values}) AS first_line FROM ({good}) g) d "
                f"JOIN {self.stage} st ON st.line_no = d.line_no WHERE d.line_no <> d.first_line"
            )
        cursor.execute(f"SELECT line_no, raw, reason FROM {self.stage}_bad ORDER BY line_no")
        return [Reject(*row) for row in cursor.fetchall()]

    def _replace_rejects(self, cursor, rejects: Sequence[Reject]) -> None:
        table = quote_ident(self.target.rejects_table)
        # Loads of other days may create it at the same moment: one at a time (this transaction only).
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.target.rejects_table,))
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " source_key text NOT NULL, line_number integer NOT NULL, raw_line text, reason text NOT NULL,"
            " logical_date date NOT NULL, rejected_at timestamptz NOT NULL DEFAULT now(),"
            " PRIMARY KEY (source_key, logical_date, line_number))"
        )
        cursor.execute(
            f"DELETE FROM {table} WHERE source_key = %s AND logical_date = %s", (self.source_key, self.logical_date)
        )
        if rejects:
            lines = (
                "\t".join(
                    field.translate(_COPY_ESCAPES)
                    for field in (
                        self.source_key,
                        str(reject.line_number),
                        reject.raw_line.replace("\x00", "\\x00"),
                        reject.reason,
                        self.logical_date,
                    )
                )
                + "\n"
                for reject in rejects
            )
            copy_in(
                cursor,
                f"COPY {table} (source_key, line_number, raw_line, reason, logical_date) FROM STDIN",
                batched(lines),
            )

    # -- the whole load -------------------------------------------------------------------------------------
    def run(self, chunks: Iterable[bytes], fail_on_empty: bool = False, log=None) -> dict[str, Any]:
        started = time.monotonic()
        try:
            with self.conn.cursor() as cursor:
                cursor.execute("SHOW server_version_num")
                if int(cursor.fetchone()[0]) < 160000:
                    raise AirflowFailException("the load needs PostgreSQL 16 or later (Aurora PostgreSQL 16)")
                # Hash joins of a large file against a large table stay in memory (this transaction only).
                cursor.execute("SET LOCAL work_mem = '256MB'")
                self.target = self.target.with_table_columns(cursor)
                try:
                    self._stage(cursor, chunks)
                except HeaderError as exc:
                    raise BadHeader(f"{self.source_key}: {exc}") from exc
                structure = self.structure
                if structure.read == 0 and fail_on_empty:
                    raise EmptySource(f"{self.source_key} has no data rows")
                staged = structure.read - len(structure.rejects)
                self._check_rate(cursor, structure.rejects)
                inserted = updated = deleted = 0
                rejects = list(structure.rejects)
                good = "TRUE"
                if staged:
                    try:
                        inserted, updated = self._fast(cursor)
                    except _GiveWay:
                        value_rejects = self._value_rejects(cursor)
                        rejects = sorted(rejects + value_rejects, key=lambda reject: reject.line_number)
                        self._check_rate(cursor, rejects)
                        good = f"s.line_no NOT IN (SELECT line_no FROM {self.stage}_bad)"
                        inserted, updated = self._merge(cursor, self._typed_select(good))
                if self.target.slice:
                    deleted = self._delete_rest_of_slice(cursor, good if staged else None)
                self._replace_rejects(cursor, rejects)
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise
        loaded = structure.read - len(rejects)
        counts = {
            "source": self.source_key,
            "table": self.target.table,
            "logical_date": self.logical_date,
            "read": structure.read,
            "loaded": loaded,
            "quarantined": len(rejects),
            "inserted": inserted,
            "updated": updated,
            "unchanged": loaded - inserted - updated,
            "deleted": deleted,
            "blank_lines": structure.blank_lines,
            "quarantine_reasons": dict(
                collections.Counter(kind for reject in rejects for kind in problem_kinds(reject.reason))
            ),
            "quarantine_table": self.target.rejects_table,
            "seconds": round(time.monotonic() - started, 3),
        }
        if log:
            log.info(
                "Loaded %s into %s: read %d, loaded %d (inserted %d, updated %d, unchanged %d), quarantined %d "
                "in %.1fs",
                self.source_key,
                self.target.table,
                counts["read"],
                loaded,
                inserted,
                updated,
                counts["unchanged"],
                len(rejects),
                counts["seconds"],
            )
            for reject in rejects[:10]:
                log.warning("Quarantined line %d: %s", reject.line_number, reject.reason)
        return counts

    def _delete_rest_of_slice(self, cursor, good: str | None) -> int:
        """Delete the slice's rows whose key the file's good rows (``good``: a condition on staged rows; None:
        there are none) do not hold; return how many."""
        target = self.target
        where = f"t.{quote_ident(target.slice.name)} = {target.slice.sql_value}"
        if good is not None:
            keys = " AND ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in target.key_columns)
            where += f" AND NOT EXISTS (SELECT 1 FROM ({self._typed_select(good)}) s WHERE {keys})"
        cursor.execute(f"DELETE FROM {quote_ident(target.table)} t WHERE {where}")
        return cursor.rowcount

    def _attempt(self, cursor, sql: str) -> int | None:
        """Run ``sql`` in a savepoint: its row count if it ran, None (rolled back) if the data made it fail."""
        cursor.execute("SAVEPOINT attempt")
        try:
            cursor.execute(sql)
            rowcount = cursor.rowcount
        except Exception as exc:  # noqa: BLE001 - only data problems are an answer, the rest re-raise
            if not sqlstate(exc).startswith(_FALL_BACK):
                raise
            cursor.execute("ROLLBACK TO SAVEPOINT attempt")
            self._failed_with = sqlstate(exc)
            return None
        cursor.execute("RELEASE SAVEPOINT attempt")
        return rowcount

    def _fast(self, cursor) -> tuple[int, int]:
        """(inserted, updated) when every staged row loads as it is: first as plain inserts (every key new, the
        common first load), else as a MERGE (keys already there: a rerun or a changed file). Raises _GiveWay
        when a row does not load (a bad or missing value, a key twice in the file)."""
        names = ", ".join(map(quote_ident, self.target.column_names))
        insert = (
            f"INSERT INTO {quote_ident(self.target.table)} ({names}) SELECT {names} FROM ({self._typed_select()}) s"
        )
        if (inserted := self._attempt(cursor, insert)) is not None:
            return inserted, 0
        if self._failed_with == "23505":  # a key that exists: merge instead
            before = self._stats(cursor)
            if self._attempt(cursor, self._merge_sql(self._typed_select())) is not None:
                after = self._stats(cursor)
                return after[0] - before[0], after[1] - before[1]
        raise _GiveWay()

    def _check_rate(self, cursor, rejects: Sequence[Reject]) -> None:
        read, limit = self.structure.read, self.max_reject_rate
        if limit is None or not read or len(rejects) / read <= limit:
            return
        cursor.execute("ROLLBACK")  # nothing of the target changes; the quarantine is kept for inspection
        self._replace_rejects(cursor, rejects)
        self.conn.commit()
        raise TooManyRejects(
            f"{len(rejects)} of {read} rows of {self.source_key} quarantined ({len(rejects) / read:.1%} > "
            f"{limit:.1%}); target {self.target.table} left unchanged; see {self.target.rejects_table}; "
            f"first: line {rejects[0].line_number}: {rejects[0].reason}"
        )


class _GiveWay(Exception):
    """The fast path cannot take this file: its rows are checked one by one (set-wise)."""


def load_csv(
    conn,
    chunks: Iterable[bytes],
    *,
    target: Target,
    source_key: str,
    logical_date: str,
    max_reject_rate: float | None = None,
    fail_on_empty: bool = False,
    log=None,
) -> dict[str, Any]:
    """Load the CSV bytes in ``chunks`` into ``target`` on ``conn`` (committed on success, rolled back on failure).
    Separate from the operator so that the benchmark, vn_stock and the tests drive exactly this code path."""
    return Load(conn, target, source_key, logical_date, max_reject_rate).run(chunks, fail_on_empty, log)
