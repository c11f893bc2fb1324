"""The load itself, on one PostgreSQL transaction (PostgreSQL 16+, as Aurora PostgreSQL 16: ``pg_input_is_valid``):

1. typed path, for a clean file: ``COPY`` the well-formed records (``records``; the malformed ones are set
   aside) into columns of the target's types, so that PostgreSQL casts while it reads, each field checked
   against its shape (``columns.shape``) on the way: straight into the target when the target (its slice) is
   empty, else into a temporary table, unique on the key, whose rows that differ from the target's (one join)
   one ``MERGE`` then applies. A field off its shape, a value PostgreSQL cannot read, a missing value or a key
   repeated in the file makes this path give way (savepoint) to:
2. checked path (also for a surrogate key, which numbers rows by line): the file again (kept as it streamed),
   ``COPY`` as text with line numbers into a temporary table; each row's problems (every column's reason), then
   keys repeated in the file (the first occurrence loads, the others are quarantined naming it), then the same
   ``MERGE`` over the good rows;
3. replace this source's quarantine for the logical date in ``<table>_rejects`` with the rejects;
4. commit. Rows equal to the target are not rewritten; inserted and updated are counted from PostgreSQL's own
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
import contextlib
import dataclasses
import hashlib
import itertools
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from airflow.providers.common.compat.sdk import AirflowFailException

from pipeline_kit.s3_to_postgres.columns import (
    Column,
    SurrogateKey,
    cast,
    problem,
    problem_kinds,
    quote_ident,
    quote_literal,
)
from pipeline_kit.s3_to_postgres.records import (
    HeaderError,
    Layout,
    OffShape,
    Reject,
    Structure,
    batched,
    copy_records,
)

# SQLSTATEs the typed path gives way on: bad data (class 22), a key twice in the file (21000 from MERGE, 23505),
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
    """``COPY ... FROM STDIN`` fed from byte chunks, with psycopg 3 or psycopg2. An exception raised while producing
    the chunks aborts the COPY and is raised as it is."""
    if hasattr(cursor, "copy"):
        with cursor.copy(sql) as copy:
            for chunk in chunks:
                copy.write(chunk)
        return
    import io

    class _Reader(io.RawIOBase):
        def __init__(self):
            self._chunks, self._pending = iter(chunks), b""
            self.error: BaseException | None = None

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            try:
                while len(self._pending) < len(buffer):
                    chunk = next(self._chunks, None)
                    if chunk is None:
                        break
                    self._pending += chunk
            except Exception as exc:
                self.error = exc  # psycopg2 reports it as the server's "COPY from stdin failed"
                raise
            size = min(len(buffer), len(self._pending))
            buffer[:size], self._pending = self._pending[:size], self._pending[size:]
            return size

    reader = _Reader()
    try:
        cursor.copy_expert(sql, reader, size=1 << 16)
    except Exception:
        if reader.error is not None:
            raise reader.error from None
        raise


class _Kept:
    """Chunks read once as they stream, kept in a temporary file so that they can be read again (``again``)."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = iter(chunks)
        self._file = tempfile.TemporaryFile()

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self._file.write(chunk)
            yield chunk

    def again(self) -> Iterator[bytes]:
        """Every chunk from the first: those kept, then those not read yet."""
        self._file.seek(0)
        while chunk := self._file.read(1 << 20):
            yield chunk
        yield from self._chunks

    def close(self) -> None:
        self._file.close()


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
        self.typed_stage = False  # the stage holds typed values (typed path) or text with line numbers

    # -- SQL pieces ---------------------------------------------------------------------------------------
    def _staged(self, column: Column) -> str:
        """The stage's column for a target column (the stage has the header's fields, in order)."""
        return f"c{self.positions[self.target.columns.index(column)]}"

    def _field(self, column: Column) -> str:
        return f"NULLIF(s.{self._staged(column)}, '')"

    def _value(self, column: Column) -> str:
        return f"s.{self._staged(column)}" if self.typed_stage else cast(column, self._field(column))

    def _typed_select(self, where: str = "TRUE") -> str:
        """The staged rows as the target's typed columns (and line_no, staged as text), surrogate key included."""
        target = self.target
        values = [f"{self._value(column)} AS {quote_ident(column.name)}" for column in target.columns]
        if target.slice:
            values.insert(0, f"{target.slice.sql_value} AS {quote_ident(target.slice.name)}")
        if not self.typed_stage:
            values.insert(0, "s.line_no")
        select = f"SELECT {', '.join(values)} FROM {self.stage} s WHERE {where}"
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

    def _differing(self) -> str:
        """The staged rows the target does not hold as they are (a new key, or other values)."""
        target = self.target
        same = " AND ".join(
            f"t.{quote_ident(n)} = s.{quote_ident(n)}"
            if n in target.match_columns
            else f"t.{quote_ident(n)} IS NOT DISTINCT FROM s.{quote_ident(n)}"
            for n in target.column_names
        )
        return (
            f"SELECT s.* FROM ({self._typed_select()}) s "
            f"WHERE NOT EXISTS (SELECT FROM {quote_ident(target.table)} t WHERE {same})"
        )

    def _raw(self, alias: str) -> str:
        """A staged row's raw text: kept for records with quotes, the fields joined back for plain lines."""
        fields = ", ".join(f"{alias}.c{i}" for i in range(len(self.structure.header)))
        return f"coalesce({alias}.raw, array_to_string(ARRAY[{fields}], ',', ''))"

    # -- steps ----------------------------------------------------------------------------------------------
    def _copy(self, cursor, chunks: Iterable[bytes], typed_form: bool) -> bool:
        """COPY the well-formed records in the typed form (see the module docstring) or as text with line numbers
        into the stage, created once the header is read. True if they went straight into the target."""
        target = self.target
        by_header = {column.header: column for column in target.columns}
        destination: list[tuple[str, bool]] = []  # (COPY statement, straight into the target?) once known

        def on_header(header: list[str]) -> Layout:
            self.positions = header_positions(header, target.columns)
            fields = [by_header.get(name) for name in header]
            stage_columns = [f"c{i}" for i in range(len(header))]
            if not typed_form:
                texts = ", ".join(f"{name} text" for name in stage_columns)
                cursor.execute(f"CREATE TEMP TABLE {self.stage} (line_no integer, raw text, {texts}) ON COMMIT DROP")
                destination.append((f"COPY {self.stage} FROM STDIN (FORMAT csv)", False))
                return Layout(fields)
            self.typed_stage = True
            if None not in fields and self._copies_straight_in(cursor):
                # Every field has its column and no row of the target can conflict: no stage at all.
                names = [quote_ident(column.name) for column in fields]
                suffix = ""
                if target.slice:
                    suffix = ',"' + target.slice.value.replace('"', '""') + '"'
                sql = (
                    f"COPY {quote_ident(target.table)} ({', '.join(names)}"
                    f"{', ' + quote_ident(target.slice.name) if target.slice else ''}) "
                    f"FROM STDIN (FORMAT csv, FORCE_NULL ({', '.join(names)}))"
                )
                destination.append((sql, True))
                return Layout(fields, typed_form=True, suffix=suffix)
            typed = ", ".join(
                f"{name} {column.pg_type if column else 'text'}"
                for name, column in zip(stage_columns, fields, strict=True)
            )
            cursor.execute(f"CREATE TEMP TABLE {self.stage} ({typed}) ON COMMIT DROP")
            forced_null = f"FORCE_NULL ({', '.join(stage_columns)})"
            destination.append((f"COPY {self.stage} FROM STDIN (FORMAT csv, {forced_null})", False))
            return Layout(fields, typed_form=True)

        try:
            records = copy_records(chunks, on_header, self.structure)
            first = next(records, None)  # reads the header, so the destination exists
        except HeaderError as exc:
            raise BadHeader(f"{self.source_key}: {exc}") from exc
        if first is None:
            return False
        sql, direct = destination[0]
        copy_in(cursor, sql, batched(itertools.chain([first], records)))
        return direct

    def _copies_straight_in(self, cursor) -> bool:
        """Typed records can go straight into the target: each column's declared type is the table's (up to a
        modifier, met on the way in by either path), and no row of the target's slice (of the whole target,
        without a slice) exists, so none can conflict."""
        target = self.target
        cursor.execute(
            "SELECT bool_and(atttypid = declared::regtype) FROM unnest(%s::text[], %s::text[]) AS c(name, declared) "
            "JOIN pg_attribute ON attrelid = %s::regclass AND attname = name AND NOT attisdropped",
            ([column.name for column in target.columns], [column.pg_type for column in target.columns], target.table),
        )
        if not cursor.fetchone()[0]:
            return False
        where = f"WHERE {quote_ident(target.slice.name)} = {target.slice.sql_value}" if target.slice else ""
        cursor.execute(f"SELECT NOT EXISTS (SELECT FROM {quote_ident(target.table)} {where})")
        return cursor.fetchone()[0]

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
        source = _Kept(chunks)
        try:
            with self.conn.cursor() as cursor:
                cursor.execute("SHOW server_version_num")
                if int(cursor.fetchone()[0]) < 160000:
                    raise AirflowFailException("the load needs PostgreSQL 16 or later (Aurora PostgreSQL 16)")
                # Hash joins of a large file against a large table stay in memory (this transaction only).
                cursor.execute("SET LOCAL work_mem = '256MB'")
                self.target = self.target.with_table_columns(cursor)
                outcome = None
                if self.target.surrogate_key is None:  # it numbers repeated rows by line: staged lines only
                    cursor.execute("SAVEPOINT typed")
                    try:
                        with _giving_way():
                            outcome = self._typed(cursor, source, fail_on_empty)
                    except _GiveWay:
                        cursor.execute("ROLLBACK TO SAVEPOINT typed")
                        self.structure, self.typed_stage = Structure(), False
                path = "checked" if outcome is None else "typed"
                if outcome is None:
                    outcome = self._checked(cursor, source.again(), fail_on_empty)
                inserted, updated, deleted, rejects = outcome
                self._replace_rejects(cursor, rejects)
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise
        finally:
            source.close()
        structure = self.structure
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
            "path": path,
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
                "in %.1fs (%s path)",
                self.source_key,
                self.target.table,
                counts["read"],
                loaded,
                inserted,
                updated,
                counts["unchanged"],
                len(rejects),
                counts["seconds"],
                path,
            )
            for reject in rejects[:10]:
                log.warning("Quarantined line %d: %s", reject.line_number, reject.reason)
        return counts

    def _typed(self, cursor, chunks: Iterable[bytes], fail_on_empty: bool) -> _Outcome:
        """The typed path (see the module docstring); raises what makes it give way."""
        before = self._stats(cursor)
        direct = self._copy(cursor, chunks, typed_form=True)
        rejects = list(self.structure.rejects)
        self._check_read(cursor, rejects, fail_on_empty)
        if direct:  # into an empty slice: nothing to update or delete
            return _Outcome(self._stats(cursor)[0] - before[0], 0, 0, rejects)
        if self.structure.read == len(rejects):
            return _Outcome(0, 0, self._delete_rest_of_slice(cursor, None), rejects)
        # A key twice in the file fails here (23505): MERGE alone would miss it when one of the rows equals the
        # target's (no second change to the same row).
        keys = [self._staged(column) for column in self.target.columns if column.name in self.target.key_columns]
        cursor.execute(f"CREATE UNIQUE INDEX ON {self.stage} ({', '.join(keys)})")
        # MERGE fetches each matched row of the target again: only for rows that differ, found by one join (a
        # rerun of the same file finds none and writes nothing).
        cursor.execute(f"CREATE TEMP TABLE {self.stage}_differing ON COMMIT DROP AS {self._differing()}")
        inserted = updated = 0
        if cursor.rowcount:
            inserted, updated = self._merge(cursor, f"SELECT * FROM {self.stage}_differing")
        return _Outcome(inserted, updated, self._delete_rest_of_slice(cursor, "TRUE"), rejects)

    def _checked(self, cursor, chunks: Iterable[bytes], fail_on_empty: bool) -> _Outcome:
        """The checked path (see the module docstring)."""
        self._copy(cursor, chunks, typed_form=False)
        structure = self.structure
        self._check_read(cursor, structure.rejects, fail_on_empty)
        if structure.read == len(structure.rejects):
            return _Outcome(0, 0, self._delete_rest_of_slice(cursor, None), list(structure.rejects))
        rejects = sorted(structure.rejects + self._value_rejects(cursor), key=lambda reject: reject.line_number)
        self._check_read(cursor, rejects, fail_on_empty)
        good = f"s.line_no NOT IN (SELECT line_no FROM {self.stage}_bad)"
        inserted, updated = self._merge(cursor, self._typed_select(good))
        return _Outcome(inserted, updated, self._delete_rest_of_slice(cursor, good), rejects)

    def _delete_rest_of_slice(self, cursor, good: str | None) -> int:
        """Delete the slice's rows whose key the file's good rows (``good``: a condition on staged rows; None:
        there are none) do not hold; return how many (0 without a slice)."""
        target = self.target
        if not target.slice:
            return 0
        where = f"t.{quote_ident(target.slice.name)} = {target.slice.sql_value}"
        if good is not None:
            keys = " AND ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in target.key_columns)
            where += f" AND NOT EXISTS (SELECT 1 FROM ({self._typed_select(good)}) s WHERE {keys})"
        cursor.execute(f"DELETE FROM {quote_ident(target.table)} t WHERE {where}")
        return cursor.rowcount

    def _check_read(self, cursor, rejects: Sequence[Reject], fail_on_empty: bool) -> None:
        """Fail on an empty source if told to, and when more rows are quarantined than the load allows."""
        if self.structure.read == 0 and fail_on_empty:
            raise EmptySource(f"{self.source_key} has no data rows")
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


class _Outcome(NamedTuple):
    inserted: int
    updated: int
    deleted: int
    rejects: list[Reject]


class _GiveWay(Exception):
    """The typed path cannot take this file: its rows are checked one by one (set-wise)."""


@contextlib.contextmanager
def _giving_way():
    """Data the typed path cannot take (a field off its shape, a value or key PostgreSQL refuses) -> _GiveWay."""
    try:
        yield
    except OffShape as exc:
        raise _GiveWay() from exc
    except Exception as exc:
        if sqlstate(exc).startswith(_FALL_BACK):
            raise _GiveWay() from exc
        raise


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
