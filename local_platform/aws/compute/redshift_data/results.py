"""Results as the Data API returns them: column metadata and typed fields; errors as Redshift words them."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math

_INTEGER_TYPES = {"int2", "int4", "int8", "oid"}
_FLOAT_TYPES = {"float4", "float8"}
_SIGNED_TYPES = _INTEGER_TYPES | _FLOAT_TYPES | {"numeric"}
_TEXT_TYPES = {"varchar", "bpchar", "text", "name", "char"}


def result_set(conn, description, rows) -> tuple[list[dict], list[list[dict]]]:
    """Column metadata and typed records, as GetStatementResult returns them."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT oid::int, typname FROM pg_type WHERE oid = ANY(%s)", ([column.type_code for column in description],)
        )
        type_names = dict(cur.fetchall())
    columns = []
    for column in description:
        type_name = type_names.get(column.type_code, "unknown")
        columns.append(
            {
                "name": column.name,
                "label": column.name,
                "typeName": type_name,
                "nullable": 1,
                "isSigned": type_name in _SIGNED_TYPES,
                "isCaseSensitive": type_name in _TEXT_TYPES,
                "isCurrency": False,
                "length": max(column.internal_size or 0, 0),
                "precision": column.precision or 0,
                "scale": column.scale or 0,
                "schemaName": "",
                "tableName": "",
            }
        )
    return columns, [[field(value) for value in row] for row in rows]


def field(value) -> dict:
    """One value as a Redshift Data API Field."""
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value} if math.isfinite(value) else {"stringValue": str(value)}
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return {"stringValue": value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()}
    if isinstance(value, (bytes, memoryview)):
        return {"blobValue": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, (dict, list)):
        return {"stringValue": json.dumps(value)}
    return {"stringValue": str(value)}  # also DECIMAL, which Redshift returns as text to keep its precision


def error_message(exc: Exception) -> str:
    """The Error text of a failed statement: PostgreSQL's own message, as Redshift words it."""
    diag = getattr(exc, "diag", None)
    if diag is not None and diag.message_primary:
        message = f"ERROR: {diag.message_primary}"
        return f"{message} Detail: {diag.message_detail}" if diag.message_detail else message
    text = str(exc).strip()
    return text if text.startswith("ERROR:") else f"ERROR: {text}"
