"""Schema inference the way AWS Glue's built-in classifiers do it, for CSV, JSON lines and Parquet.

Pure functions over bytes and text, no AWS: the crawler (``glue_crawlers/``) feeds them S3 objects.
Types are Glue (Hive) type names. Internally a type is a primitive name (``"bigint"``), ``("array", t)``
or ``("struct", {name: t})``; ``None`` means "only nulls seen so far" and ends up as ``string``.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import gzip
import io
import json
import re

CSV_DELIMITERS = (",", "\t", "|", ";", "\x01")  # the ones Glue's built-in CSV classifier recognises
SNIFF_ROWS = 50
SAMPLE_BYTES = 1 << 20  # like Glue's built-in classifiers, read the start of a text file, not all of it
PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Hive's timestamp text form, the one LazySimpleSerDe reads back: "yyyy-MM-dd HH:mm:ss[.fffffffff]".
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?")
_NUMERIC_RANK = {"tinyint": 1, "smallint": 2, "int": 3, "bigint": 4, "float": 5, "double": 6}


class SchemaError(ValueError):
    """A layout a crawler cannot catalog (mixed formats in one folder, ...): the crawl fails with this message."""


class UnreadableObject(SchemaError):
    """One object no classifier can read (malformed JSON, corrupt Parquet or gzip): the crawl skips it, as AWS's
    crawler leaves an object it cannot classify out of its table, and logs why."""


@dataclasses.dataclass(frozen=True)
class FolderInference:
    """The schemas of a folder's readable objects, and why each of the others was skipped (both by key)."""

    schemas: dict[str, FileSchema]
    unreadable: dict[str, str]


@dataclasses.dataclass(frozen=True)
class CsvLayout:
    delimiter: str
    has_header: bool
    quoted: bool


@dataclasses.dataclass(frozen=True)
class FileSchema:
    """What one object contributes to its table."""

    classification: str  # csv | json | parquet
    columns: list[tuple[str, object]]  # (name, internal type)
    record_count: int
    compression: str = "none"
    csv_layout: CsvLayout | None = None


# ---- primitive values -------------------------------------------------------------------------


def csv_value_type(text: str) -> str | None:
    """Glue type of one CSV cell; None for an empty cell (a null)."""
    value = text.strip()
    if not value:
        return None
    if value.lower() in ("true", "false"):
        return "boolean"
    if _INT.fullmatch(value):
        return "bigint" if -(2**63) <= int(value) < 2**63 else "string"
    if _FLOAT.fullmatch(value):
        return "double"
    if _DATE.fullmatch(value) and _parses(dt.date.fromisoformat, value):
        return "date"
    if _TIMESTAMP.fullmatch(value) and _parses(dt.datetime.fromisoformat, value[:26]):
        return "timestamp"
    return "string"


def _parses(parse, value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def json_value_type(value) -> object:
    """Internal type of one decoded JSON value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint" if -(2**63) <= value < 2**63 else "string"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        element = None
        for item in value:
            element = merge_types(element, json_value_type(item))
        return ("array", element)
    fields: dict[str, object] = {}
    for key, item in value.items():
        fields[key] = merge_types(fields.get(key), json_value_type(item))
    return ("struct", fields)


def merge_types(a, b):
    """The narrowest type that holds values of both: numbers widen, anything else incompatible is string."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    if isinstance(a, str) and isinstance(b, str):
        if a in _NUMERIC_RANK and b in _NUMERIC_RANK:
            return a if _NUMERIC_RANK[a] > _NUMERIC_RANK[b] else b
        return "string"
    if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0] == "array":
        return ("array", merge_types(a[1], b[1]))
    if isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0] == "struct":
        fields = dict(a[1])
        for key, value in b[1].items():
            fields[key] = merge_types(fields.get(key), value)
        return ("struct", fields)
    return "string"


def glue_type(internal) -> str:
    """Render an internal type as the Glue type string."""
    if internal is None:
        return "string"
    if isinstance(internal, str):
        return internal
    kind, inner = internal
    if kind == "array":
        return f"array<{glue_type(inner)}>"
    if kind == "map":
        return f"map<{glue_type(inner[0])},{glue_type(inner[1])}>"
    return "struct<" + ",".join(f"{name}:{glue_type(t)}" for name, t in inner.items()) + ">"


def merge_columns(column_lists: list[list[tuple[str, object]]]) -> list[tuple[str, object]]:
    """Union of columns by name, in order of first appearance, types merged."""
    merged: dict[str, object] = {}
    for columns in column_lists:
        for name, internal in columns:
            merged[name] = merge_types(merged.get(name), internal)
    return list(merged.items())


def render_columns(columns: list[tuple[str, object]]) -> list[tuple[str, str]]:
    return [(name, glue_type(internal)) for name, internal in columns]


# ---- CSV ---------------------------------------------------------------------------------------


def sniff_csv(text: str) -> CsvLayout:
    """Delimiter, header and quoting of CSV text, by Glue's rules.

    The delimiter is the first of Glue's candidates that splits the sampled rows into the same number (>1)
    of fields. The first row is a header when its cells are distinct non-empty strings and at least one
    column of the other rows parses as something other than string (Glue's "sufficiently different" rule;
    an all-string file therefore gets col0, col1, ... as on AWS).
    """
    lines = [line for line in text.splitlines() if line.strip()][:SNIFF_ROWS]
    delimiter = ","
    for candidate in CSV_DELIMITERS:
        widths = {len(row) for row in csv.reader(lines, delimiter=candidate)}
        if len(widths) == 1 and widths.pop() > 1:
            delimiter = candidate
            break
    rows = list(csv.reader(lines, delimiter=delimiter))
    quoted = any(line.lstrip().startswith('"') or f'{delimiter}"' in line for line in lines)
    return CsvLayout(delimiter, _looks_like_header(rows), quoted)


def _looks_like_header(rows: list[list[str]]) -> bool:
    if not rows:
        return False
    first = [cell.strip() for cell in rows[0]]
    if any(not cell for cell in first) or len(set(first)) != len(first):
        return False
    if any(csv_value_type(cell) != "string" for cell in first):
        return False
    if len(rows) == 1:
        return True  # a header-only file (an empty extract) must not turn its folder's header into data
    return any(t not in (None, "string") for t in _csv_column_types(rows[1:], len(first)))


def _csv_column_types(rows: list[list[str]], width: int) -> list:
    types: list = [None] * width
    for row in rows:
        for index, cell in enumerate(row[:width]):
            types[index] = merge_types(types[index], csv_value_type(cell))
    return types


def infer_csv_columns(text: str, layout: CsvLayout | None = None) -> list[tuple[str, str]]:
    """Glue columns of CSV text: header names (lower-cased) or col0.., and the inferred types."""
    return render_columns(_csv_schema(text, layout or sniff_csv(text))[0])


def _csv_schema(text: str, layout: CsvLayout) -> tuple[list[tuple[str, object]], int]:
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=layout.delimiter) if any(c.strip() for c in row)]
    if layout.has_header:
        names, rows = [cell.strip().lower() for cell in rows[0]], rows[1:]
    else:
        names = [f"col{i}" for i in range(max((len(row) for row in rows), default=0))]
    return list(zip(names, _csv_column_types(rows, len(names)), strict=True)), len(rows)


# ---- JSON --------------------------------------------------------------------------------------


def json_records(text: str, source: str = "input") -> list[dict]:
    """Records of a JSON-lines text (or of one JSON document: an object or an array of objects)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = None
    if isinstance(document, dict):
        return [document]
    if isinstance(document, list) and all(isinstance(item, dict) for item in document):
        return document
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UnreadableObject(
                f"{source}: line {number} is not valid JSON ({exc.msg}, column {exc.colno})"
            ) from exc
        if not isinstance(record, dict):
            raise UnreadableObject(f"{source}: line {number} is not a JSON object")
        records.append(record)
    return records


def infer_json_columns(text: str, source: str = "input") -> list[tuple[str, str]]:
    """Glue columns of JSON lines: top-level keys (lower-cased) in order of first appearance."""
    return render_columns(_json_schema(json_records(text, source)))


def _json_schema(records: list[dict]) -> list[tuple[str, object]]:
    columns: dict[str, object] = {}
    for record in records:
        for key, value in record.items():
            name = key.lower()
            columns[name] = merge_types(columns.get(name), json_value_type(value))
    return list(columns.items())


# ---- Parquet -----------------------------------------------------------------------------------


def arrow_type(pa_type) -> object:
    """Internal (Glue) type of a pyarrow type."""
    import pyarrow as pa
    import pyarrow.types as pat

    if pat.is_dictionary(pa_type):
        return arrow_type(pa_type.value_type)
    simple = {
        pa.bool_(): "boolean",
        pa.int8(): "tinyint",
        pa.int16(): "smallint",
        pa.int32(): "int",
        pa.int64(): "bigint",
        pa.uint8(): "smallint",
        pa.uint16(): "int",
        pa.uint32(): "bigint",
        pa.uint64(): "bigint",
        pa.float16(): "float",
        pa.float32(): "float",
        pa.float64(): "double",
        pa.string(): "string",
        pa.large_string(): "string",
        pa.binary(): "binary",
        pa.large_binary(): "binary",
        pa.date32(): "date",
        pa.date64(): "date",
    }
    if pa_type in simple:
        return simple[pa_type]
    if pat.is_timestamp(pa_type):
        return "timestamp"
    if pat.is_decimal(pa_type):
        return f"decimal({pa_type.precision},{pa_type.scale})"
    if pat.is_list(pa_type) or pat.is_large_list(pa_type) or pat.is_fixed_size_list(pa_type):
        return ("array", arrow_type(pa_type.value_type))
    if pat.is_struct(pa_type):
        return ("struct", {pa_type.field(i).name: arrow_type(pa_type.field(i).type) for i in range(pa_type.num_fields)})
    if pat.is_map(pa_type):
        return ("map", (arrow_type(pa_type.key_type), arrow_type(pa_type.item_type)))
    return "string"


def infer_parquet_columns(data: bytes, source: str = "input") -> list[tuple[str, str]]:
    """Glue columns of a Parquet file, from its footer."""
    return render_columns(_parquet_schema(data, source)[0])


def _parquet_schema(data: bytes, source: str) -> tuple[list[tuple[str, object]], int]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise UnreadableObject(f"{source}: not a readable Parquet file ({exc})") from exc
    schema = parquet.schema_arrow
    columns = [(field.name.lower(), arrow_type(field.type)) for field in schema]
    return columns, parquet.metadata.num_rows


# ---- one object --------------------------------------------------------------------------------


def classify(key: str, data: bytes) -> str:
    """csv | json | parquet, from the content (as Glue classifiers do), the file extension breaking ties."""
    name = key.lower().removesuffix(".gz")
    if data.startswith(PARQUET_MAGIC) or name.endswith((".parquet", ".parq")):
        return "parquet"
    if name.endswith((".json", ".jsonl", ".ndjson")):
        return "json"
    if name.endswith((".csv", ".tsv", ".psv")):
        return "csv"
    return "json" if data.lstrip()[:1] in (b"{", b"[") else "csv"


def needs_whole_object(key: str, head: bytes) -> bool:
    """Whether the first bytes of an object are not enough to infer it: Parquet (footer) or gzip."""
    return head.startswith(GZIP_MAGIC) or classify(key, head) == "parquet"


def infer_file_schema(key: str, data: bytes, has_header: bool | None = None, size: int | None = None) -> FileSchema:
    """Classify one object and infer its columns; raises UnreadableObject on data Glue could not classify.

    Text is inferred from its first SAMPLE_BYTES (whole lines), the record count extrapolated from them.
    ``data`` may be just those first bytes of an object of ``size`` bytes (see ``needs_whole_object``).
    ``has_header`` overrides the CSV header rule (see ``infer_folder_schemas``).
    """
    compression = "none"
    if data.startswith(GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise UnreadableObject(f"{key}: corrupt gzip data ({exc})") from exc
        compression, size = "gzip", None
    classification = classify(key, data)
    if classification == "parquet":
        columns, count = _parquet_schema(data, key)
        return FileSchema("parquet", columns, count)
    sample, fraction = _text_sample(data, size or len(data))
    text = sample.decode("utf-8-sig", errors="replace")  # a stray non-UTF-8 byte makes its column a string
    if classification == "json":
        records = json_records(text, key)
        return FileSchema("json", _json_schema(records), round(len(records) / fraction), compression)
    layout = sniff_csv(text)
    if has_header is not None:
        layout = dataclasses.replace(layout, has_header=has_header)
    columns, count = _csv_schema(text, layout)
    return FileSchema("csv", columns, round(count / fraction), compression, layout)


def _text_sample(data: bytes, total: int) -> tuple[bytes, float]:
    """The whole lines within the first SAMPLE_BYTES of a text of ``total`` bytes, and the share they are."""
    if len(data) <= SAMPLE_BYTES and total == len(data):
        return data, 1.0
    cut = data.rfind(b"\n", 0, SAMPLE_BYTES) + 1 or min(len(data), SAMPLE_BYTES)
    return data[:cut], cut / total


def infer_folder_schemas(files: list[tuple[str, bytes, int]]) -> FolderInference:
    """Schemas of the objects (key, data, object size) of one table folder, and the objects it could not read.

    Glue's header rule works per file, so a file whose rows are all text (an extract saying "no results")
    would have its header read as data. When another CSV of the folder has a header and this file's first
    row is that same header, the first row is read as a header here too.
    """
    schemas, unreadable = {}, {}
    for key, data, size in files:
        try:
            schemas[key] = infer_file_schema(key, data, size=size)
        except UnreadableObject as exc:
            unreadable[key] = str(exc)
    headers = {_names(s) for s in schemas.values() if s.csv_layout and s.csv_layout.has_header}
    for key, data, size in files:
        schema = schemas.get(key)
        if headers and schema and schema.csv_layout and not schema.csv_layout.has_header:
            as_header = infer_file_schema(key, data, has_header=True, size=size)
            if _names(as_header) in headers:
                schemas[key] = as_header
    return FolderInference(schemas, unreadable)


def _names(schema: FileSchema) -> tuple[str, ...]:
    return tuple(name for name, _ in schema.columns)
