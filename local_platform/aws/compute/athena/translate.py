"""Athena's Trino SQL -> DuckDB with sqlglot: statement kinds, catalog tables referenced, partition predicates,
Trino's typing rules DuckDB would let through, result column names, and what cannot be carried (refused).
"""

from __future__ import annotations

import dataclasses
import logging
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

from local_platform.aws.compute.athena.errors import AthenaQueryError, not_supported, position_of

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its fallback warnings become our refusals instead

HIVE_TO_TRINO = {
    "string": "varchar",
    "int": "integer",
    "float": "real",
    "binary": "varbinary",
    "timestamp": "timestamp(3)",
}
_CHARACTER = {
    exp.DataType.Type.VARCHAR,
    exp.DataType.Type.CHAR,
    exp.DataType.Type.TEXT,
    exp.DataType.Type.NCHAR,
    exp.DataType.Type.NVARCHAR,
}
_NUMERIC = exp.DataType.NUMERIC_TYPES
_TEMPORAL = exp.DataType.TEMPORAL_TYPES
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)
_OPERATOR_SYMBOLS = {
    exp.EQ: "=",
    exp.NEQ: "<>",
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.Add: "+",
    exp.Sub: "-",
    exp.Mul: "*",
    exp.Div: "/",
    exp.Mod: "%",
}


def hive_to_trino_type(hive_type: str) -> str:
    """A Glue (Hive) column type as Trino spells it: ``string`` -> ``varchar``, ``array<int>`` -> ``array(integer)``."""
    hive_type = hive_type.strip().lower()
    for prefix, trino in (("array<", "array"), ("map<", "map"), ("struct<", "row")):
        if hive_type.startswith(prefix) and hive_type.endswith(">"):
            parts = split_top_level(hive_type[len(prefix) : -1])
            if trino == "row":
                fields = [p.split(":", 1) for p in parts]
                return "row(" + ", ".join(f"{name.strip()} {hive_to_trino_type(t)}" for name, t in fields) + ")"
            return f"{trino}(" + ", ".join(hive_to_trino_type(p) for p in parts) + ")"
    base = re.match(r"[a-z]+", hive_type)
    if base and base.group() in ("varchar", "char", "decimal"):
        return hive_type
    return HIVE_TO_TRINO.get(hive_type, hive_type)


def split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def node_position(sql: str, node: exp.Expression) -> tuple[int, int] | None:
    """Where a node starts in the query text (its first identifier's or literal's token)."""
    starts = [c.meta["start"] for c in node.walk() if "start" in (getattr(c, "meta", None) or {})]
    return position_of(sql, min(starts)) if starts else None


def parse_trino(sql: str) -> exp.Expression:
    """One Trino statement; syntax errors as Athena's SYNTAX_ERROR, several statements refused as Athena does."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="trino") if s is not None]
    except ParseError as exc:
        error = exc.errors[0] if exc.errors else {}
        line, col = error.get("line"), error.get("col")
        highlight = error.get("highlight") or ""
        position = (line, max(col - len(highlight) + 1, 1)) if line and col else None
        raise AthenaQueryError(
            "SYNTAX_ERROR", f"mismatched input '{highlight}'. {error.get('description') or exc}", position=position
        ) from exc
    if not statements:
        raise AthenaQueryError("SYNTAX_ERROR", "mismatched input '<EOF>'", position=(1, 1))
    if len(statements) > 1:
        raise AthenaQueryError("GENERIC_USER_ERROR", "Only one sql statement is allowed. Got: " + sql.strip())
    return statements[0]


def bind_parameters(tree: exp.Expression, parameters: list[str] | None, sql: str) -> exp.Expression:
    """Replace ``?`` placeholders by ExecutionParameters (SQL literals, in order), as Athena's prepared queries do."""
    placeholders = [p for p in tree.walk(bfs=False) if isinstance(p, exp.Placeholder) and p.name in ("", "?")]
    parameters = parameters or []
    if len(placeholders) != len(parameters):
        raise AthenaQueryError(
            "GENERIC_USER_ERROR",
            f"Incorrect number of parameters: expected {len(placeholders)} but found {len(parameters)}",
        )
    for placeholder, value in zip(placeholders, parameters, strict=True):
        try:
            placeholder.replace(sqlglot.parse_one(value, read="trino"))
        except ParseError as exc:
            raise AthenaQueryError("SYNTAX_ERROR", f"Execution parameter {value!r} is not a SQL literal") from exc
    return tree


# ---- statement kinds -------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Query:
    tree: exp.Expression  # SELECT / set operation / VALUES


@dataclasses.dataclass
class CreateTableAs:
    table: exp.Table
    if_not_exists: bool
    query: exp.Expression
    properties: dict[str, object]  # lower-case property name -> python value (str, list of str)
    with_data: bool


@dataclasses.dataclass
class InsertInto:
    table: exp.Table
    columns: list[str] | None
    query: exp.Expression


@dataclasses.dataclass
class Unload:
    query: exp.Expression
    location: str
    properties: dict[str, object]


_UNLOAD = re.compile(
    r"^\s*UNLOAD\s*\((?P<query>.*)\)\s*TO\s*'(?P<to>[^']*)'\s*(?:WITH\s*\((?P<with>.*)\))?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)


def property_values(properties: exp.Properties | None, sql: str) -> dict[str, object]:
    found: dict[str, object] = {}
    for prop in properties.expressions if properties else []:
        if isinstance(prop, exp.WithDataProperty):
            found["__with_data"] = not prop.args.get("no")
            continue
        if isinstance(prop, exp.FileFormatProperty):
            name, value = "format", prop.this
        elif isinstance(prop, exp.PartitionedByProperty):
            name, value = "partitioned_by", prop.this
        elif isinstance(prop, exp.LocationProperty):
            name, value = "location", prop.this
        elif isinstance(prop, exp.Property):
            name, value = prop.name.lower(), prop.args.get("value")
        else:
            raise not_supported(f"table property {prop.sql('trino')}", node_position(sql, prop))
        if isinstance(value, exp.Array):
            found[name] = [v.name if isinstance(v, exp.Literal) else v.sql("trino") for v in value.expressions]
        elif isinstance(value, exp.Schema):
            found[name] = [c.name for c in value.expressions]
        elif isinstance(value, (exp.Literal, exp.Var, exp.Identifier, exp.Column)):
            found[name] = value.name
        else:
            found[name] = value.sql("trino") if value is not None else None
    return found


def classify(sql: str) -> Query | CreateTableAs | InsertInto | Unload:
    """What a (non-DDL) statement asks for; anything else Athena runs is refused naming it."""
    unload = _UNLOAD.match(sql)
    if unload:
        query = parse_trino(unload.group("query"))
        props = {}
        if unload.group("with"):
            holder = parse_trino(f"CREATE TABLE x WITH ({unload.group('with')}) AS SELECT 1")
            props = property_values(holder.args.get("properties"), sql)
        return Unload(query, unload.group("to"), props)
    tree = parse_trino(sql)
    position = node_position(sql, tree)
    if isinstance(tree, (exp.Query, exp.Values)):
        return Query(tree)
    if isinstance(tree, exp.Create):
        kind = (tree.args.get("kind") or "").upper()
        if kind == "TABLE" and tree.expression is not None:
            props = property_values(tree.args.get("properties"), sql)
            with_data = props.pop("__with_data", True)
            return CreateTableAs(tree.this, bool(tree.args.get("exists")), tree.expression, props, with_data)
        raise not_supported(f"CREATE {kind}" + (" (views)" if kind == "VIEW" else ""), position)
    if isinstance(tree, exp.Insert):
        if tree.args.get("overwrite"):
            raise AthenaQueryError("SYNTAX_ERROR", "mismatched input 'OVERWRITE'. Expecting: 'INTO'", position=position)
        target = tree.this
        columns = None
        if isinstance(target, exp.Schema):
            columns = [c.name.lower() for c in target.expressions]
            target = target.this
        return InsertInto(target, columns, tree.expression)
    if isinstance(tree, (exp.Delete, exp.Update, exp.Merge)):
        raise AthenaQueryError(
            "NOT_SUPPORTED", "Modifying Hive table rows is only supported for transactional tables", position=position
        )
    statement = tree.sql("trino").split()[0].upper() if tree.sql("trino") else type(tree).__name__
    raise not_supported(f"the statement {statement}", position)


# ---- tables a query reads ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class TableRef:
    node: exp.Table
    catalog: str | None
    database: str | None
    name: str

    @property
    def alias(self) -> str:
        return self.node.alias_or_name.lower()


def cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias.lower() for cte in tree.find_all(exp.CTE)}


def table_refs(tree: exp.Expression) -> list[TableRef]:
    """Every reference to a catalog table (CTE references excluded), in query order."""
    ctes = cte_names(tree)
    refs = []
    for node in tree.find_all(exp.Table):
        if not node.name or isinstance(node.this, (exp.Func, exp.Anonymous)):
            continue
        if not node.db and node.name.lower() in ctes:
            continue
        refs.append(TableRef(node, node.catalog.lower() or None, node.db.lower() or None, node.name.lower()))
    return refs


def partition_predicates(tree: exp.Expression, ref: TableRef, keys: set[str]) -> list[exp.Expression]:
    """The WHERE conjuncts of the SELECT that reads ``ref`` which constrain only its partition keys (columns
    unqualified), so a partition failing any of them holds no row the query can return. Nothing for a table on the
    nullable side of an outer join, where pruning could change the result."""
    select = ref.node.find_ancestor(exp.Select)
    if select is None or not keys:
        return []
    from_ = select.args.get("from_") or select.args.get("from")
    joins = select.args.get("joins") or []
    sources = [from_.this] if from_ is not None else []
    sources += [join.this for join in joins]
    if ref.node not in sources:  # e.g. inside a derived table's own SELECT: its WHERE is found there
        return []
    for join in joins:
        side = (join.side or "").upper()
        if (
            side == "FULL"
            or (side == "LEFT" and join.this is ref.node)
            or (side == "RIGHT" and join.this is not ref.node)
        ):
            return []
    where = select.args.get("where")
    if where is None:
        return []
    single_source = len(sources) == 1
    found = []
    for conjunct in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
        if conjunct.find(exp.Subquery, exp.Select, exp.AggFunc, exp.Window, exp.Placeholder):
            continue
        columns = list(conjunct.find_all(exp.Column))
        if not columns or not all(
            c.name.lower() in keys and ((c.table and c.table.lower() == ref.alias) or (not c.table and single_source))
            for c in columns
        ):
            continue
        unqualified = conjunct.copy()
        for column in unqualified.find_all(exp.Column):
            column.replace(exp.column(column.name.lower()))
        found.append(unqualified)
    return found


# ---- Trino typing DuckDB is laxer about -------------------------------------------------------------------------


def check_types(tree: exp.Expression, schema: dict[str, dict[str, str]], sql: str) -> None:
    """Fail as Trino does on comparisons and arithmetic between character and numeric or date/time values
    (``year = 2026`` on a varchar partition key), which DuckDB would run by casting. Best effort: a query whose
    columns sqlglot cannot resolve is left to DuckDB's own checks."""
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    try:
        typed = annotate_types(
            qualify(
                tree.copy(),
                schema=schema,
                dialect="trino",
                validate_qualify_columns=False,
                quote_identifiers=False,
                identify=False,
            ),
            schema=schema,
            dialect="trino",
        )
    except Exception:  # noqa: BLE001  (sqlglot could not resolve the query: no opinion)
        return
    for node in typed.find_all(*_COMPARISONS, *_ARITHMETIC):
        left, right = node.left.type, node.right.type
        if left is None or right is None or exp.DataType.Type.UNKNOWN in (left.this, right.this):
            continue
        if isinstance(node.left, exp.Null) or isinstance(node.right, exp.Null):
            continue
        character = (left.this in _CHARACTER, right.this in _CHARACTER)
        other = right if character[0] else left
        if character[0] != character[1] and (
            other.this in _NUMERIC or other.this in _TEMPORAL or other.this == exp.DataType.Type.BOOLEAN
        ):
            symbol = _OPERATOR_SYMBOLS[type(node)]
            shown = [_trino_type_name(t, side) for t, side in ((left, node.left), (right, node.right))]
            original = _original(tree, node)
            raise AthenaQueryError(
                "TYPE_MISMATCH",
                f"Cannot apply operator: {shown[0]} {symbol} {shown[1]}",
                position=node_position(sql, original) if original is not None else None,
            )


def _original(tree: exp.Expression, typed_node: exp.Expression) -> exp.Expression | None:
    """The node of the untouched tree that a node of the qualified copy came from (same SQL, same class)."""
    wanted = typed_node.sql("trino").replace('"', "").lower()
    for candidate in tree.find_all(type(typed_node)):
        text = candidate.sql("trino").replace('"', "").lower()
        if text == wanted or wanted.endswith(text.split(".", 1)[-1]):
            return candidate
    return None


def _trino_type_name(data_type: exp.DataType, node: exp.Expression) -> str:
    if isinstance(node, exp.Literal) and node.is_string:
        return f"varchar({len(node.this)})"
    name = data_type.sql("trino").lower()
    return {"int": "integer"}.get(name, name)


# ---- to DuckDB --------------------------------------------------------------------------------------------------


def name_outputs(query: exp.Expression, strict: bool, sql: str) -> exp.Expression:
    """Name unnamed result columns as Trino does (``_col0``, ``_col1`` ... by position); for CTAS (``strict``)
    an unnamed column is Trino's error instead."""
    select = query
    while isinstance(select, exp.SetOperation):
        select = select.left
    if isinstance(select, exp.Subquery):
        select = select.unnest()
    if not isinstance(select, exp.Select):
        return query
    for index, projection in enumerate(list(select.expressions)):
        if isinstance(projection, (exp.Alias, exp.Column, exp.Star)) or (
            isinstance(projection, exp.Dot) and isinstance(projection.expression, exp.Identifier)
        ):
            continue
        if strict:
            raise AthenaQueryError(
                "MISSING_COLUMN_NAME",
                f"Column name not specified at position {index + 1}",
                position=node_position(sql, projection),
            )
        projection.replace(exp.alias_(projection.copy(), f"_col{index}", quoted=False))
    return query


def to_duckdb(tree: exp.Expression, sql: str) -> str:
    """DuckDB SQL for a Trino tree; a construct sqlglot cannot carry, or a function it does not know, is refused."""
    for function in tree.find_all(exp.Anonymous):
        raise AthenaQueryError(
            "FUNCTION_NOT_FOUND",
            f"Function '{function.name.lower()}' not registered (or not translated by the local engine)",
            position=node_position(sql, function),
        )
    try:
        return tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        raise not_supported(f"'{tree.sql('trino')[:120]}' ({str(exc).strip()})") from exc
