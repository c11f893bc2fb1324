"""COPY's readers: the objects of an S3 prefix (CSV, JSON, Parquet) as rows of the target's columns."""

from __future__ import annotations

import io
import json

from local_platform.aws.compute.redshift_data.models import StatementError
from local_platform.aws.compute.redshift_sql import (
    CopyCommand,
)


def load_object(conn, command: CopyCommand, columns: list[str], body: bytes) -> int:
    """Load one S3 object's rows into the COPY's table; return how many."""
    from psycopg2.extras import execute_values

    column_sql = ", ".join(columns)
    if command.format == "csv":
        for _ in range(command.ignore_header):
            body = body.partition(b"\n")[2]
        with conn.cursor() as cur:
            options = cur.mogrify("FORMAT csv, DELIMITER %s, QUOTE %s", (command.delimiter, command.quote))
            if command.null_as is not None:
                options += cur.mogrify(", NULL %s", (command.null_as,))
            cur.copy_expert(
                f"COPY {command.table} ({column_sql}) FROM STDIN WITH ({options.decode()})", io.BytesIO(body)
            )
            return cur.rowcount
    if command.format == "json":
        rows = [json_row(obj, columns, command.json_ignore_case) for obj in json_objects(body.decode("utf-8"))]
    else:
        rows = parquet_rows(body, columns)
    with conn.cursor() as cur:
        execute_values(cur, f"INSERT INTO {command.table} ({column_sql}) VALUES %s", rows, page_size=1000)
    return len(rows)


def json_objects(text: str):
    """The JSON objects of a file, one after another (newline-delimited or simply concatenated, as Redshift
    accepts)."""
    decoder = json.JSONDecoder()
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise StatementError(f"ERROR: Invalid JSON in COPY source: {exc}") from exc
        if not isinstance(value, dict):
            raise StatementError("ERROR: COPY JSON 'auto' expects a JSON object per record")
        yield value


def json_row(obj: dict, columns: list[str], ignore_case: bool) -> list:
    """The column values of a JSON 'auto' record: keys matched to column names (exactly, as Redshift's 'auto'
    does; case-insensitively for 'auto ignorecase'), nested values as JSON text, missing keys as NULL."""
    if ignore_case:
        obj = {key.lower(): value for key, value in obj.items()}
        columns = [column.lower() for column in columns]
    return [_sql_value(obj.get(column.strip('"').replace('""', '"'))) for column in columns]


def parquet_rows(body: bytes, columns: list[str]) -> list[list]:
    """Rows of a Parquet file for the target columns; Redshift matches columnar files by position."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.ParquetFile(pa.BufferReader(body)).read()
    if table.num_columns != len(columns):
        raise StatementError(
            f"ERROR: Parquet file has {table.num_columns} columns ({', '.join(table.column_names)}) but the COPY "
            f"targets {len(columns)} ({', '.join(columns)}); columnar COPY matches columns by position"
        )
    return [[_sql_value(value) for value in row.values()] for row in table.to_pylist()]


def _sql_value(value):
    return json.dumps(value, default=str) if isinstance(value, (dict, list)) else value
