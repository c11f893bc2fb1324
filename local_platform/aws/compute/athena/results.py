"""Types and values as Athena shows them: Glue (Hive) types to DuckDB and back, ``ColumnInfo``, values as the
strings of ``GetQueryResults`` and of the result CSV (``"a","b"`` quoted, NULL empty, header row first).
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import re

import pyarrow as pa
import pyarrow.compute as pc

from local_platform.aws.compute.athena.errors import AthenaQueryError
from local_platform.aws.compute.athena.translate import split_top_level

_HIVE_TO_DUCKDB = {
    "string": "VARCHAR",
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "real": "FLOAT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "binary": "BLOB",
}


def duckdb_type(hive_type: str) -> str:
    """The DuckDB type a Glue column type reads as."""
    hive_type = hive_type.strip().lower()
    if hive_type.startswith("array<"):
        return duckdb_type(hive_type[6:-1]) + "[]"
    if hive_type.startswith("map<"):
        key, value = split_top_level(hive_type[4:-1])
        return f"MAP({duckdb_type(key)}, {duckdb_type(value)})"
    if hive_type.startswith("struct<"):
        fields = [f.split(":", 1) for f in split_top_level(hive_type[7:-1])]
        return "STRUCT(" + ", ".join(f'"{n.strip()}" {duckdb_type(t)}' for n, t in fields) + ")"
    if hive_type.startswith(("varchar", "char")):
        return "VARCHAR"
    if hive_type.startswith("decimal"):
        args = re.findall(r"\d+", hive_type)
        return f"DECIMAL({args[0]},{args[1] if len(args) > 1 else 0})" if args else "DECIMAL(10,0)"
    if hive_type in _HIVE_TO_DUCKDB:
        return _HIVE_TO_DUCKDB[hive_type]
    raise AthenaQueryError("NOT_SUPPORTED", f"column type '{hive_type}' is not supported by the local Athena engine")


_DUCKDB_TO_HIVE = {
    "VARCHAR": "string",
    "BIGINT": "bigint",
    "HUGEINT": "bigint",
    "INTEGER": "int",
    "SMALLINT": "smallint",
    "TINYINT": "tinyint",
    "DOUBLE": "double",
    "FLOAT": "float",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "BLOB": "binary",
    '"NULL"': "string",
    "NULL": "string",
}
_DUCKDB_TO_TRINO = {
    "VARCHAR": "varchar",
    "BIGINT": "bigint",
    "HUGEINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "TINYINT": "tinyint",
    "DOUBLE": "double",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp(3)",
    "TIMESTAMP_MS": "timestamp(3)",
    "TIMESTAMP_NS": "timestamp(3)",
    "TIMESTAMP_S": "timestamp(3)",
    "TIMESTAMP WITH TIME ZONE": "timestamp(3) with time zone",
    "BLOB": "varbinary",
    "TIME": "time(3)",
    "INTERVAL": "interval day to second",
    "UUID": "uuid",
    "JSON": "json",
    '"NULL"': "unknown",
    "NULL": "unknown",
}


def _struct_fields(duck: str) -> list[tuple[str, str]]:
    fields = []
    for part in split_top_level(duck[duck.index("(") + 1 : -1]):
        name, _, field_type = part.partition(" ")
        fields.append((name.strip('"'), field_type))
    return fields


def hive_type(duck: str) -> str:
    """The Glue column type CTAS registers for a DuckDB result type."""
    duck = str(duck)
    if duck.endswith("[]"):
        return f"array<{hive_type(duck[:-2])}>"
    if duck.startswith("MAP("):
        key, value = split_top_level(duck[4:-1])
        return f"map<{hive_type(key)},{hive_type(value)}>"
    if duck.startswith("STRUCT("):
        return "struct<" + ",".join(f"{n}:{hive_type(t)}" for n, t in _struct_fields(duck)) + ">"
    if duck.startswith("DECIMAL"):
        return duck.lower()
    if duck in _DUCKDB_TO_HIVE:
        return _DUCKDB_TO_HIVE[duck]
    raise AthenaQueryError("NOT_SUPPORTED", f"Unsupported Hive type: {trino_type(duck)}")


def trino_type(duck: str) -> str:
    """How Trino names a DuckDB result type (in error messages and type checks)."""
    duck = str(duck)
    if duck.endswith("[]"):
        return f"array({trino_type(duck[:-2])})"
    if duck.startswith("MAP("):
        key, value = split_top_level(duck[4:-1])
        return f"map({trino_type(key)}, {trino_type(value)})"
    if duck.startswith("STRUCT("):
        return "row(" + ", ".join(f"{n} {trino_type(t)}" for n, t in _struct_fields(duck)) + ")"
    if duck.startswith("DECIMAL"):
        return duck.lower()
    return _DUCKDB_TO_TRINO.get(duck, duck.lower())


_COLUMN_INFO_TYPES = {
    "real": "float",
    "timestamp(3)": "timestamp",
    "time(3)": "time",
    "timestamp(3) with time zone": "timestamp with time zone",
}
_PRECISION = {
    "varchar": 2147483647,
    "bigint": 19,
    "integer": 10,
    "smallint": 5,
    "tinyint": 3,
    "double": 17,
    "float": 7,
    "timestamp": 3,
    "date": 0,
    "boolean": 0,
}


def column_info(name: str, duck: str) -> dict:
    """One ``ResultSetMetadata.ColumnInfo`` entry, as Athena fills it for a query result."""
    trino = trino_type(duck)
    base = _COLUMN_INFO_TYPES.get(trino, trino.split("(")[0])
    precision, scale = _PRECISION.get(base, 0), 0
    if base == "decimal":
        precision, scale = (int(x) for x in re.findall(r"\d+", trino)[:2])
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": base,
        "Precision": precision,
        "Scale": scale,
        "Nullable": "UNKNOWN",
        "CaseSensitive": base == "varchar",
    }


def ddl_column_info(name: str) -> dict:
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": "string",
        "Precision": 0,
        "Scale": 0,
        "Nullable": "UNKNOWN",
        "CaseSensitive": False,
    }


# ---- values ------------------------------------------------------------------------------------------------------


def java_double(value: float, single: bool = False) -> str:
    """Java's Double.toString / Float.toString, which Trino uses to print doubles and reals."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    if single:
        import numpy as np

        digits = np.format_float_scientific(np.float32(value), unique=True, trim="-")
    else:
        digits = f"{value:.{_shortest_digits(value) - 1}e}"
    mantissa, exponent = digits.lower().split("e")
    exponent = int(exponent)
    sign = "-" if mantissa.startswith("-") else ""
    figures = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    if -3 <= exponent < 7:
        if exponent >= 0:
            whole = figures[: exponent + 1].ljust(exponent + 1, "0")
            fraction = figures[exponent + 1 :] or "0"
        else:
            whole, fraction = "0", "0" * (-exponent - 1) + figures
        return f"{sign}{whole}.{fraction}"
    return f"{sign}{figures[0]}.{figures[1:] or '0'}E{exponent}"


def _shortest_digits(value: float) -> int:
    for digits in range(1, 18):
        if float(f"{value:.{digits - 1}e}") == value:
            return digits
    return 17


def _text(value, duck: str) -> str:
    """One non-null value as Trino prints it (also inside arrays, maps and rows)."""
    if duck.endswith("[]"):
        inner = duck[:-2]
        return "[" + ", ".join("null" if v is None else _text(v, inner) for v in value) + "]"
    if duck.startswith("MAP("):
        key_type, value_type = split_top_level(duck[4:-1])
        items = value.items() if isinstance(value, dict) else value
        return (
            "{"
            + ", ".join(f"{_text(k, key_type)}=" + ("null" if v is None else _text(v, value_type)) for k, v in items)
            + "}"
        )
    if duck.startswith("STRUCT("):
        return (
            "{"
            + ", ".join(
                f"{name}=" + ("null" if value.get(name) is None else _text(value.get(name), t))
                for name, t in _struct_fields(duck)
            )
            + "}"
        )
    if duck == "BOOLEAN":
        return "true" if value else "false"
    if duck in ("DOUBLE", "FLOAT"):
        return java_double(float(value), single=duck == "FLOAT")
    if duck.startswith("TIMESTAMP"):
        text = value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
        return text + " UTC" if "TIME ZONE" in duck else text
    if duck.startswith("DECIMAL"):
        return f"{value:f}"
    if duck == "BLOB":
        return " ".join(f"{b:02x}" for b in value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def format_column(column: pa.ChunkedArray, duck: str) -> pa.Array:
    """A result column as Athena's strings (nulls stay null)."""
    duck = str(duck)
    if duck == "VARCHAR":
        return column.combine_chunks() if column.num_chunks else pa.array([], pa.string())
    if duck in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "DATE") or duck.startswith(("UBIGINT", "UINTEGER")):
        return pc.cast(column, pa.string()).combine_chunks()
    if duck == "BOOLEAN":
        return pc.if_else(column, "true", "false").combine_chunks()
    if duck == "HUGEINT":
        return pc.cast(pc.cast(column, pa.int64()), pa.string()).combine_chunks()
    return pa.array([None if v is None else _text(v, duck) for v in column.to_pylist()], pa.string())


@dataclasses.dataclass
class ResultSet:
    """What GetQueryResults pages through: a header row (queries) and rows of strings."""

    column_info: list[dict]
    rows: pa.Table  # all columns strings
    header: bool
    update_count: int | None = None

    @property
    def row_count(self) -> int:
        return (self.rows.num_rows if self.column_info else 0) + (1 if self.header else 0)

    def page(self, offset: int, size: int) -> list[dict]:
        rows: list[list[str | None]] = []
        if self.header and offset == 0:
            rows.append([c["Name"] for c in self.column_info])
            size -= 1
        start = max(offset - (1 if self.header else 0), 0)
        for record in [] if not self.column_info else self.rows.slice(start, max(size, 0)).to_pylist():
            rows.append(list(record.values()))
        return [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows]

    def csv(self) -> bytes:
        """Athena's result CSV: every value double-quoted, NULL as nothing, header first."""
        import pyarrow.csv as pacsv

        buffer = io.BytesIO()
        names = [c["Name"] for c in self.column_info]
        table = pa.Table.from_arrays(self.rows.columns, names=[f"c{i}" for i in range(len(names))])
        buffer.write((",".join('"' + n.replace('"', '""') + '"' for n in names) + "\n").encode())
        if table.num_rows:
            pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="all_valid"))
        return buffer.getvalue()

    def text(self) -> bytes:
        """A DDL statement's ``.txt`` output: its rows, tab-separated, unquoted."""
        return "".join("\t".join(v or "" for v in row.values()) + "\n" for row in self.rows.to_pylist()).encode()


def string_table(columns: list[list[str | None]], names: list[str]) -> pa.Table:
    return pa.Table.from_arrays([pa.array(c, pa.string()) for c in columns], names=[f"c{i}" for i in range(len(names))])
