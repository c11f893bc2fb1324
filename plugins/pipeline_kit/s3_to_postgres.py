"""Fast, idempotent S3 CSV -> PostgreSQL load: stream, validate, COPY into a staging table, merge in one transaction.

The Amazon/Postgres providers have no operator that streams an object into ``COPY ... FROM STDIN`` and then
merges, so this one does, in four steps on ONE database transaction:

1. stream the S3 object line by line (never held whole in memory) through pure validation functions that cast
   each field to its PostgreSQL type and set aside malformed rows with a reason;
2. ``COPY`` the good rows (already in COPY text format) into a temporary staging table shaped like the target;
3. replace this source's rejects for the logical date in the quarantine table ``<schema>.<table>_rejects``
   (source key, line number, raw line, reason, logical date) — created on first use;
4. ``INSERT ... ON CONFLICT (key columns) DO UPDATE`` from staging into the target.

Commit happens only after the merge, so a rerun of the same logical date changes nothing, and any failure
(a constraint violated by the merge, a lost connection) leaves the target and the quarantine as they were.
When the reject rate exceeds ``max_reject_rate`` the rejects are committed for inspection, the target is left
untouched and the task fails.

An empty object (zero bytes, or a header and no rows) is a defined outcome: nothing is merged, the counts are
zero and the task succeeds unless ``fail_on_empty``. A missing object fails with :class:`SourceFileMissing`.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

NULL = r"\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_INTEGER_RANGES = {"smallint": 2**15, "integer": 2**31, "int": 2**31, "bigint": 2**63}
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


class SourceFileMissing(AirflowException):
    """The S3 object to load does not exist."""


class TooManyRejects(AirflowException):
    """More rows were quarantined than the load allows."""


class EmptySource(AirflowException):
    """The S3 object has no data rows and the load was told to fail on that."""


@dataclasses.dataclass(frozen=True)
class Column:
    """A target column; ``source`` names its CSV header field (default: ``name``); ``fmt`` is a strptime
    format for date/timestamp fields that are not ISO 8601."""

    name: str
    pg_type: str
    nullable: bool = True
    source: str | None = None
    fmt: str | None = None

    @property
    def header(self) -> str:
        return self.source or self.name


@dataclasses.dataclass(frozen=True)
class SurrogateKey:
    """A key column for sources without one: md5 of the named fields plus the occurrence number of that
    combination in the file, so identical rows stay distinct and the same file always gets the same keys."""

    name: str
    fields: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Reject:
    line_number: int
    raw_line: str
    reason: str


def as_columns(columns: Sequence[Column | tuple]) -> list[Column]:
    return [column if isinstance(column, Column) else Column(*column) for column in columns]


# ---- pure validation / casting ----------------------------------------------------------------------------

def cast_value(text: str, column: Column) -> str:
    """The field as a COPY text value (``\\N`` for NULL); raises ValueError with a readable reason."""
    text = text.strip()
    if text == "":
        if column.nullable:
            return NULL
        raise ValueError(f"{column.name}: missing value")
    pg_type = column.pg_type.lower()
    if pg_type in _INTEGER_RANGES:
        try:
            number = int(text)
        except ValueError:
            raise ValueError(f"{column.name}: {text!r} is not an integer") from None
        limit = _INTEGER_RANGES[pg_type]
        if not -limit <= number < limit:
            raise ValueError(f"{column.name}: {text} out of range for {pg_type}")
        return str(number)
    if pg_type.startswith(("numeric", "decimal")):
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{column.name}: {text!r} is not a number") from None
        if not number.is_finite():
            raise ValueError(f"{column.name}: {text!r} is not a finite number")
        return str(number)
    if pg_type in ("double precision", "real", "float", "float8", "float4"):
        try:
            return repr(float(text))
        except ValueError:
            raise ValueError(f"{column.name}: {text!r} is not a number") from None
    if pg_type == "date":
        try:
            parsed = datetime.strptime(text, column.fmt).date() if column.fmt else date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{column.name}: {text!r} is not a date ({column.fmt or 'YYYY-MM-DD'})") from None
        return parsed.isoformat()
    if pg_type.startswith("timestamp"):
        try:
            parsed = datetime.strptime(text, column.fmt) if column.fmt else datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{column.name}: {text!r} is not a timestamp") from None
        return parsed.isoformat()
    if pg_type in ("boolean", "bool"):
        lowered = text.lower()
        if lowered in _TRUE:
            return "t"
        if lowered in _FALSE:
            return "f"
        raise ValueError(f"{column.name}: {text!r} is not a boolean")
    # text, varchar, ...: kept as written, escaped for COPY
    return text.translate(_COPY_ESCAPES)


def header_positions(header: Sequence[str], columns: Sequence[Column]) -> list[int]:
    """Where each column's field sits in the CSV header; raises ValueError naming missing fields."""
    names = [field.strip().lstrip("\ufeff") for field in header]
    missing = [column.header for column in columns if column.header not in names]
    if missing:
        raise ValueError(f"header {names} lacks field(s) {missing}")
    return [names.index(column.header) for column in columns]


def surrogate_key_value(fields: Sequence[str], occurrence: int) -> str:
    return hashlib.md5("\x1f".join([*fields, str(occurrence)]).encode()).hexdigest()


class RowValidator:
    """Turns CSV records into COPY lines or rejects. Stateful only for what spans rows: duplicate keys
    (later duplicates are rejected, the first occurrence loads) and surrogate-key occurrence counters."""

    def __init__(self, header: Sequence[str], columns: Sequence[Column], key_columns: Sequence[str],
                 surrogate_key: SurrogateKey | None = None):
        self.columns = list(columns)
        self.positions = header_positions(header, self.columns)
        self.width = len(header)
        source_columns = [column.name for column in self.columns]
        self.key_index = [source_columns.index(name) for name in key_columns if name in source_columns]
        self.surrogate_key = surrogate_key
        if surrogate_key:
            headers = [column.header for column in self.columns]
            self.surrogate_index = [headers.index(field) for field in surrogate_key.fields]
        self.occurrences: dict[tuple, int] = {}
        self.first_seen: dict[tuple, int] = {}

    def validate(self, record: Sequence[str], line_number: int) -> str:
        """The COPY text line for ``record`` (no newline); raises ValueError with the reject reason."""
        if len(record) != self.width:
            raise ValueError(f"expected {self.width} fields, got {len(record)}")
        values = []
        problems = []
        for column, position in zip(self.columns, self.positions, strict=True):
            try:
                values.append(cast_value(record[position], column))
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            raise ValueError("; ".join(problems))
        if self.surrogate_key:
            natural = tuple(values[i] for i in self.surrogate_index)
            occurrence = self.occurrences.get(natural, 0) + 1
            self.occurrences[natural] = occurrence
            values.append(surrogate_key_value(natural, occurrence))
        if self.key_index:
            key = tuple(values[i] for i in self.key_index)
            if NULL in key:
                raise ValueError("key column is empty")
            if (first := self.first_seen.setdefault(key, line_number)) != line_number:
                raise ValueError(f"duplicate key {key} (first on line {first})")
        return "\t".join(values)


@dataclasses.dataclass
class ParseResult:
    read: int = 0
    rejects: list[Reject] = dataclasses.field(default_factory=list)


class _LineTracker:
    """Feeds text lines to csv.reader while remembering the physical lines of the current record."""

    def __init__(self, lines: Iterable[str]):
        self._lines = iter(lines)
        self.current: list[str] = []
        self.line_number = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.line_number += 1
        self.current.append(line)
        return line


def copy_lines(lines: Iterable[str], columns: Sequence[Column], key_columns: Sequence[str],
               surrogate_key: SurrogateKey | None, result: ParseResult) -> Iterator[str]:
    """Yield a COPY text line (with newline) for each valid CSV record of ``lines`` (first line: header);
    count what was read and collect rejects in ``result``. Blank lines are skipped."""
    tracker = _LineTracker(lines)
    reader = csv.reader(tracker, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    validator = RowValidator(header, columns, key_columns, surrogate_key)
    while True:
        tracker.current = []
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            result.read += 1
            result.rejects.append(Reject(tracker.line_number, "\n".join(tracker.current), f"unparseable CSV: {exc}"))
            continue
        if not record:
            continue
        result.read += 1
        line_number = tracker.line_number
        try:
            yield validator.validate(record, line_number) + "\n"
        except ValueError as exc:
            result.rejects.append(Reject(line_number, "\n".join(tracker.current), str(exc)))


class IteratorReader(io.RawIOBase):
    """A file object over an iterator of str chunks, for psycopg2's ``copy_expert`` (it calls read(size))."""

    def __init__(self, chunks: Iterable[str]):
        self._chunks = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while len(self._pending) < len(buffer):
            try:
                self._pending += next(self._chunks).encode()
            except StopIteration:
                break
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def batched_text(lines: Iterable[str], batch_size: int = 2000) -> Iterator[str]:
    """Join lines into larger chunks: fewer Python-level calls between the parser and COPY."""
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= batch_size:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


# ---- SQL ----------------------------------------------------------------------------------------------------

def copy_from_chunks(cursor, copy_sql: str, chunks: Iterable[str]) -> None:
    """``COPY ... FROM STDIN`` fed from text chunks, with psycopg 3 (what PostgresHook uses when installed)
    or psycopg2."""
    if hasattr(cursor, "copy"):
        with cursor.copy(copy_sql) as copy:
            for chunk in chunks:
                copy.write(chunk)
    else:
        cursor.copy_expert(copy_sql, IteratorReader(chunks), size=1 << 16)


def quote_ident(name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def rejects_table_name(table: str) -> str:
    return f"{table}_rejects"


def merge_sql(table: str, staging: str, column_names: Sequence[str], key_columns: Sequence[str]) -> str:
    """Upsert from ``staging`` into ``table``; rows equal to the target are not rewritten. RETURNING tells
    inserted (xmax = 0) from updated rows."""
    cols = ", ".join(quote_ident(name) for name in column_names)
    keys = ", ".join(quote_ident(name) for name in key_columns)
    others = [name for name in column_names if name not in key_columns]
    if others:
        assignments = ", ".join(f"{quote_ident(name)} = EXCLUDED.{quote_ident(name)}" for name in others)
        target_row = ", ".join(f"t.{quote_ident(name)}" for name in others)
        new_row = ", ".join(f"EXCLUDED.{quote_ident(name)}" for name in others)
        conflict = f"DO UPDATE SET {assignments} WHERE ({target_row}) IS DISTINCT FROM ({new_row})"
    else:
        conflict = "DO NOTHING"
    return (f"INSERT INTO {quote_ident(table)} AS t ({cols}) SELECT {cols} FROM {staging} "
            f"ON CONFLICT ({keys}) {conflict} RETURNING (xmax = 0) AS inserted")


def ensure_rejects_table(cursor, table: str) -> None:
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {quote_ident(rejects_table_name(table))} ("
        " source_key text NOT NULL, line_number integer NOT NULL, raw_line text, reason text NOT NULL,"
        " logical_date date NOT NULL, rejected_at timestamptz NOT NULL DEFAULT now(),"
        " PRIMARY KEY (source_key, logical_date, line_number))"
    )


def replace_rejects(cursor, table: str, source_key: str, logical_date: str, rejects: Sequence[Reject]) -> None:
    rejects_table = quote_ident(rejects_table_name(table))
    cursor.execute(f"DELETE FROM {rejects_table} WHERE source_key = %s AND logical_date = %s",
                   (source_key, logical_date))
    if not rejects:
        return
    lines = ("\t".join(field.translate(_COPY_ESCAPES) for field in
                       (source_key, str(reject.line_number), reject.raw_line, reject.reason, logical_date)) + "\n"
             for reject in rejects)
    copy_from_chunks(cursor, f"COPY {rejects_table} (source_key, line_number, raw_line, reason, logical_date) "
                             "FROM STDIN", batched_text(lines))


def load_lines(conn, lines: Iterable[str], *, table: str, columns: Sequence[Column], key_columns: Sequence[str],
               source_key: str, logical_date: str, surrogate_key: SurrogateKey | None = None,
               max_reject_rate: float | None = None, fail_on_empty: bool = False, log=None) -> dict[str, Any]:
    """The whole load on an open psycopg2 connection (committed on success, rolled back on failure).
    Separate from the operator so that the benchmark and tests drive exactly this code path."""
    started = time.monotonic()
    column_names = [column.name for column in columns] + ([surrogate_key.name] if surrogate_key else [])
    result = ParseResult()
    staging = "_stage_" + hashlib.md5(table.encode()).hexdigest()[:12]
    try:
        with conn.cursor() as cursor:
            # A temporary table lives and dies with this session's transaction: no clean-up, no name clashes.
            cursor.execute(f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS "
                           f"SELECT {', '.join(quote_ident(name) for name in column_names)} "
                           f"FROM {quote_ident(table)} WITH NO DATA")
            good = copy_lines(lines, columns, key_columns, surrogate_key, result)
            copy_from_chunks(cursor, f"COPY {staging} ({', '.join(quote_ident(n) for n in column_names)}) FROM STDIN",
                             batched_text(good))
            loaded = result.read - len(result.rejects)
            ensure_rejects_table(cursor, table)
            replace_rejects(cursor, table, source_key, logical_date, result.rejects)
            counts = {"source": source_key, "table": table, "logical_date": logical_date, "read": result.read,
                      "loaded": loaded, "rejected": len(result.rejects), "inserted": 0, "updated": 0,
                      "rejects_table": rejects_table_name(table)}
            reject_rate = len(result.rejects) / result.read if result.read else 0.0
            if max_reject_rate is not None and reject_rate > max_reject_rate:
                conn.commit()  # keep the rejects for inspection; the target is untouched
                raise TooManyRejects(
                    f"{len(result.rejects)} of {result.read} rows of {source_key} rejected "
                    f"({reject_rate:.1%} > {max_reject_rate:.1%}); see {rejects_table_name(table)}; "
                    f"first: line {result.rejects[0].line_number}: {result.rejects[0].reason}")
            if result.read == 0 and fail_on_empty:
                raise EmptySource(f"{source_key} has no data rows")
            if loaded:
                cursor.execute(merge_sql(table, staging, column_names, key_columns))
                flags = [row[0] for row in cursor.fetchall()]
                counts["inserted"] = sum(flags)
                counts["updated"] = len(flags) - counts["inserted"]
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    counts["seconds"] = round(time.monotonic() - started, 3)
    if log:
        log.info("Loaded %s into %s: read %d, loaded %d (inserted %d, updated %d), rejected %d in %.1fs",
                 source_key, table, counts["read"], counts["loaded"], counts["inserted"], counts["updated"],
                 counts["rejected"], counts["seconds"])
        for reject in result.rejects[:10]:
            log.warning("Rejected line %d: %s", reject.line_number, reject.reason)
        if result.read == 0:
            log.warning("%s has no data rows: nothing merged", source_key)
    return counts


def s3_lines(body, chunk_size: int = 1 << 20) -> Iterator[str]:
    """Decoded text lines of a botocore StreamingBody, read in chunks. Bytes that are not UTF-8 become U+FFFD
    rather than failing the whole file."""
    for line in body.iter_lines(chunk_size=chunk_size):
        yield line.decode("utf-8", errors="replace")


class S3ToPostgresMergeOperator(BaseOperator):
    """Load one CSV object from S3 into a PostgreSQL table keyed by ``key_columns`` (see module docstring).

    :param table: ``schema.table``; it must exist with a unique constraint on ``key_columns``.
    :param columns: ``Column`` objects or ``(name, pg_type[, nullable, source, fmt])`` tuples, in target terms.
    :param surrogate_key: generate this key column for sources without one (see ``SurrogateKey``).
    :param max_reject_rate: fail (target untouched, rejects kept) when rejected/read exceeds it.
    :param fail_on_empty: fail instead of loading nothing when the object has no data rows.
    :return: counts ``{"read", "loaded", "rejected", "inserted", "updated", ...}`` (XCom return value).
    """

    template_fields: Sequence[str] = ("s3_bucket", "s3_key", "table", "logical_date", "max_reject_rate")
    ui_color = "#c8e6f5"

    def __init__(self, *, s3_bucket: str, s3_key: str, postgres_conn_id: str, table: str,
                 columns: Sequence[Column | tuple], key_columns: Sequence[str],
                 surrogate_key: SurrogateKey | None = None, max_reject_rate: float | str | None = None,
                 fail_on_empty: bool = False, aws_conn_id: str | None = "aws_default",
                 logical_date: str = "{{ (logical_date or dag_run.run_after) | ds }}", **kwargs):
        super().__init__(**kwargs)
        self.s3_bucket = s3_bucket
        self.s3_key = s3_key
        self.postgres_conn_id = postgres_conn_id
        self.table = table
        self.columns = as_columns(columns)
        self.key_columns = list(key_columns)
        self.surrogate_key = surrogate_key
        self.max_reject_rate = max_reject_rate
        self.fail_on_empty = fail_on_empty
        self.aws_conn_id = aws_conn_id
        self.logical_date = logical_date

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from airflow.providers.postgres.hooks.postgres import PostgresHook
        from botocore.exceptions import ClientError

        source_key = f"s3://{self.s3_bucket}/{self.s3_key}"
        s3 = S3Hook(aws_conn_id=self.aws_conn_id)
        try:
            body = s3.get_key(self.s3_key, self.s3_bucket).get()["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NoSuchBucket"):
                raise SourceFileMissing(f"{source_key} does not exist; nothing to load into {self.table}") from exc
            raise
        rate = None if self.max_reject_rate in (None, "", "None") else float(self.max_reject_rate)
        conn = PostgresHook(postgres_conn_id=self.postgres_conn_id).get_conn()
        try:
            return load_lines(conn, s3_lines(body), table=self.table, columns=self.columns,
                              key_columns=self.key_columns, source_key=source_key,
                              logical_date=str(self.logical_date), surrogate_key=self.surrogate_key,
                              max_reject_rate=rate, fail_on_empty=self.fail_on_empty, log=self.log)
        finally:
            conn.close()
            body.close()
