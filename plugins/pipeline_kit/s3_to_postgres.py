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
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, BaseOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

NULL = r"\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_INTEGER_RANGES = {"smallint": 2**15, "integer": 2**31, "int": 2**31, "bigint": 2**63}
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


class SourceFileMissing(AirflowException):
    """The S3 object to load does not exist (retried: a producer may still be writing it)."""


class TooManyRejects(AirflowFailException):
    """More rows were quarantined than the load allows (not retried: the same file fails the same way)."""


class EmptySource(AirflowFailException):
    """The S3 object has no data rows and the load was told to fail on that (not retried)."""


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

def caster(column: Column) -> Callable[[str], str]:
    """A function from a CSV field to its COPY text value (``\\N`` for NULL) that raises ValueError with a
    readable reason. Built once per column so that the per-row work is a regex match or a C-level parse."""
    name, pg_type = column.name, column.pg_type.lower()
    if pg_type in _INTEGER_RANGES:
        limit = _INTEGER_RANGES[pg_type]

        def convert(text: str) -> str:
            if not _INTEGER.fullmatch(text):
                raise ValueError(f"{name}: {text!r} is not an integer")
            if len(text) > 9 and not -limit <= int(text) < limit:
                raise ValueError(f"{name}: {text} out of range for {pg_type}")
            return text
    elif pg_type.startswith(("numeric", "decimal", "double", "real", "float")):
        def convert(text: str) -> str:
            if not _NUMBER.fullmatch(text):
                raise ValueError(f"{name}: {text!r} is not a number")
            return text
    elif pg_type == "date" and column.fmt:
        def convert(text: str) -> str:
            try:
                return datetime.strptime(text, column.fmt).date().isoformat()
            except ValueError:
                raise ValueError(f"{name}: {text!r} is not a date ({column.fmt})") from None
    elif pg_type == "date":
        def convert(text: str) -> str:
            try:
                if _ISO_DATE.fullmatch(text):
                    return date.fromisoformat(text).isoformat()
            except ValueError:
                pass
            raise ValueError(f"{name}: {text!r} is not a date (YYYY-MM-DD)")
    elif pg_type.startswith("timestamp"):
        def convert(text: str) -> str:
            try:
                parsed = datetime.strptime(text, column.fmt) if column.fmt else datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{name}: {text!r} is not a timestamp") from None
            return parsed.isoformat()
    elif pg_type in ("boolean", "bool"):
        def convert(text: str) -> str:
            lowered = text.lower()
            if lowered in _TRUE:
                return "t"
            if lowered in _FALSE:
                return "f"
            raise ValueError(f"{name}: {text!r} is not a boolean")
    else:  # text, varchar, ...: kept as written, escaped for COPY
        def convert(text: str) -> str:
            return text.translate(_COPY_ESCAPES)

    nullable = column.nullable

    def cast(text: str) -> str:
        text = text.strip()
        if not text:
            if nullable:
                return NULL
            raise ValueError(f"{name}: missing value")
        return convert(text)

    return cast


def cast_value(text: str, column: Column) -> str:
    """One field cast as its column's ``caster`` does it."""
    return caster(column)(text)


def header_positions(header: Sequence[str], columns: Sequence[Column]) -> list[int]:
    """Where each column's field sits in the CSV header; raises ValueError naming missing fields."""
    names = [field.strip().lstrip("\ufeff") for field in header]
    missing = [column.header for column in columns if column.header not in names]
    if missing:
        raise ValueError(f"header {names} lacks field(s) {missing}")
    return [names.index(column.header) for column in columns]


def surrogate_key_value(fields: Sequence[str], occurrence: int) -> str:
    return hashlib.md5("\x1f".join([*fields, str(occurrence)]).encode()).hexdigest()


def fast_pattern(column: Column) -> str | None:
    """A regex for the field as written when it needs no quoting, stripping or escaping (None: no fast path)."""
    pg_type = column.pg_type.lower()
    if column.fmt:
        return None
    if pg_type in _INTEGER_RANGES:
        pattern = _INTEGER.pattern
    elif pg_type.startswith(("numeric", "decimal", "double", "real", "float")):
        pattern = _NUMBER.pattern
    elif pg_type == "date":
        pattern = _ISO_DATE.pattern
    elif pg_type.startswith(("text", "varchar", "character varying", "char")):
        pattern = r'[^,"\t\\\r\n ](?:[^,"\t\\\r\n]*[^,"\t\\\r\n ])?'
    else:
        return None
    return f"((?:{pattern})?)" if column.nullable else f"({pattern})"


class RowValidator:
    """Turns CSV lines into COPY lines or rejects. Stateful only for what spans rows: duplicate keys
    (later duplicates are rejected, the first occurrence loads) and surrogate-key occurrence counters.

    A plain line (fields in header order, nothing quoted, no padding) is checked by one regex over the whole
    line, which is several times faster than casting field by field; anything else, and every line the
    fast path doubts, takes the field-by-field path, which gives the same values and the reject reasons."""

    def __init__(self, header: Sequence[str], columns: Sequence[Column], key_columns: Sequence[str],
                 surrogate_key: SurrogateKey | None = None):
        self.columns = list(columns)
        self.positions = header_positions(header, self.columns)
        self.casters = [(caster(column), position) for column, position in zip(self.columns, self.positions,
                                                                                 strict=True)]
        self.width = len(header)
        source_columns = [column.name for column in self.columns]
        self.key_index = [source_columns.index(name) for name in key_columns if name in source_columns]
        self.surrogate_key = surrogate_key
        if surrogate_key:
            headers = [column.header for column in self.columns]
            self.surrogate_index = [headers.index(field) for field in surrogate_key.fields]
        self.occurrences: dict[tuple, int] = {}
        self.first_seen: dict[tuple, int] = {}
        patterns = [fast_pattern(column) for column in self.columns]
        in_order = self.positions == list(range(self.width))
        self.fast_line = re.compile(",".join(patterns), re.ASCII) if in_order and None not in patterns else None
        self.date_groups = [i for i, c in enumerate(self.columns) if c.pg_type.lower() == "date"]
        self.integer_limits = [(i, _INTEGER_RANGES[c.pg_type.lower()]) for i, c in enumerate(self.columns)
                               if c.pg_type.lower() in _INTEGER_RANGES]
        self.nullable_groups = [i for i, c in enumerate(self.columns) if c.nullable]

    def validate_line(self, line: str, line_number: int) -> str:
        """The COPY text line (no newline) for a one-line record; raises ValueError with the reject reason."""
        values = self._fast_values(line) if self.fast_line else None
        if values is None:
            try:
                record = next(csv.reader([line], strict=True))
            except csv.Error as exc:
                raise ValueError(f"unparseable CSV: {exc}") from None
            return self.validate(record, line_number)
        return self._keyed(values, line_number)

    def _fast_values(self, line: str) -> list[str] | None:
        match = self.fast_line.fullmatch(line)
        if match is None:
            return None
        values = list(match.groups())
        try:
            for i in self.date_groups:
                if values[i]:
                    date.fromisoformat(values[i])
        except ValueError:
            return None
        for i, limit in self.integer_limits:
            if len(values[i]) > 9 and not -limit <= int(values[i]) < limit:
                return None
        for i in self.nullable_groups:
            if not values[i]:
                values[i] = NULL
        return values

    def validate(self, record: Sequence[str], line_number: int) -> str:
        """The COPY text line for a parsed ``record`` (no newline); raises ValueError with the reject reason."""
        if len(record) != self.width:
            raise ValueError(f"expected {self.width} fields, got {len(record)}")
        try:
            values = [cast(record[position]) for cast, position in self.casters]
        except ValueError:
            raise ValueError("; ".join(self._problems(record))) from None
        return self._keyed(values, line_number)

    def _keyed(self, values: list[str], line_number: int) -> str:
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

    def _problems(self, record: Sequence[str]) -> list[str]:
        """Every field's reason, not just the first one's (the slow path, for rejects only)."""
        problems = []
        for cast, position in self.casters:
            try:
                cast(record[position])
            except ValueError as exc:
                problems.append(str(exc))
        return problems


@dataclasses.dataclass
class ParseResult:
    read: int = 0
    rejects: list[Reject] = dataclasses.field(default_factory=list)


def _whole_record(line: str, lines: Iterator[str]) -> tuple[str, int]:
    """``line`` joined with the lines that continue a quoted field opened on it (at most 1,000), and how many
    lines were added."""
    added = 0
    while added < 1000:
        try:
            next(csv.reader([line], strict=True))
            break
        except csv.Error as exc:
            if str(exc) != "unexpected end of data":
                break
        following = next(lines, None)
        if following is None:
            break
        line, added = f"{line}\n{following}", added + 1
    return line, added


def copy_lines(lines: Iterable[str], columns: Sequence[Column], key_columns: Sequence[str],
               surrogate_key: SurrogateKey | None, result: ParseResult) -> Iterator[str]:
    """Yield a COPY text line (with newline) for each valid CSV record of ``lines`` (first line: header);
    count what was read and collect rejects (with their first line's number) in ``result``. Blank lines are
    skipped."""
    lines = iter(lines)
    header_line = next(lines, None)
    if header_line is None:
        return
    validator = RowValidator(next(csv.reader([header_line])), columns, key_columns, surrogate_key)
    line_number = 1
    for line in lines:
        line_number += 1
        if not line or line.isspace():
            continue
        first_line = line_number
        if '"' in line:
            line, added = _whole_record(line, lines)
            line_number += added
        result.read += 1
        try:
            yield validator.validate_line(line, first_line) + "\n"
        except ValueError as exc:
            result.rejects.append(Reject(first_line, line, str(exc)))


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
    """Upsert from ``staging`` into ``table``; rows equal to the target are not rewritten. Answers one row:
    (inserted, updated), told apart by xmax = 0 on the returned rows."""
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
    return (f"WITH merged AS (INSERT INTO {quote_ident(table)} AS t ({cols}) SELECT {cols} FROM {staging} "
            f"ON CONFLICT ({keys}) {conflict} RETURNING (xmax = 0) AS inserted) "
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged")


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
            staged_at = time.monotonic()
            if loaded:
                cursor.execute(merge_sql(table, staging, column_names, key_columns))
                counts["inserted"], counts["updated"] = cursor.fetchone()
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    counts["seconds"] = round(time.monotonic() - started, 3)
    counts["merge_seconds"] = round(time.monotonic() - staged_at, 3)
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
