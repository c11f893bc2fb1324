"""Running one Athena statement: Hive DDL on the Glue catalog, or Trino SQL on an in-memory DuckDB over the
tables' S3 files (only the partitions the WHERE clause leaves), with CTAS / INSERT INTO / UNLOAD writing files
and partitions back as Athena does.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import threading
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlglot import exp

from local_platform.aws.compute.athena import ddl, translate
from local_platform.aws.compute.athena.catalog import (
    JSON_SERDES,
    ORC,
    PARQUET,
    STORED_AS,
    TEXT,
    Catalog,
    Table,
    folder,
    partition_path,
    split_s3_uri,
)
from local_platform.aws.compute.athena.errors import AthenaQueryError, not_supported, position_of
from local_platform.aws.compute.athena.results import (
    ResultSet,
    column_info,
    ddl_column_info,
    duckdb_type,
    format_column,
    hive_type,
    string_table,
    trino_type,
)

log = logging.getLogger("local_platform.aws.athena")

MAX_OPEN_PARTITIONS = 100  # Athena's limit of partitions one CTAS / INSERT INTO may write
DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
WRITE_FORMATS = {"PARQUET", "TEXTFILE", "JSON", "ORC"}
CTAS_PROPERTIES = {
    "format",
    "external_location",
    "partitioned_by",
    "field_delimiter",
    "write_compression",
    "compression",
    "bucketed_by",
    "bucket_count",
    "table_type",
    "is_external",
    "location",
}


@dataclasses.dataclass
class Outcome:
    """What a finished statement produced."""

    statement_type: str  # DDL | DML | UTILITY
    substatement_type: str
    result: ResultSet
    data_scanned: int = 0
    written: list[str] = dataclasses.field(default_factory=list)  # s3 URIs of files written (the data manifest)


def statement_type(sql: str) -> tuple[str, str]:
    """(StatementType, SubstatementType) from the statement's leading words, known before it runs."""
    words = re.sub(r"(--[^\n]*|/\*.*?\*/)", " ", sql, flags=re.DOTALL).upper().split()
    head = " ".join(words[:3])
    if words[:1] == ["CREATE"] and re.search(r"\bAS\s*\(?\s*(SELECT|WITH|VALUES)\b", " ".join(words)):
        return "DDL", "CREATE_TABLE_AS_SELECT"
    for prefix, kinds in (
        ("CREATE DATABASE", ("DDL", "CREATE_DATABASE")),
        ("CREATE SCHEMA", ("DDL", "CREATE_DATABASE")),
        ("CREATE", ("DDL", "CREATE_TABLE")),
        ("DROP DATABASE", ("DDL", "DROP_DATABASE")),
        ("DROP SCHEMA", ("DDL", "DROP_DATABASE")),
        ("DROP", ("DDL", "DROP_TABLE")),
        ("ALTER", ("DDL", "ALTER_TABLE")),
        ("MSCK", ("DDL", "MSCK_REPAIR_TABLE")),
        ("SHOW", ("UTILITY", "SHOW")),
        ("DESCRIBE", ("UTILITY", "DESCRIBE")),
        ("INSERT", ("DML", "INSERT")),
        ("UNLOAD", ("DML", "UNLOAD")),
    ):
        if head.startswith(prefix):
            return kinds
    return "DML", "SELECT"


class Cancelled(Exception):
    pass


class QueryRun:
    """One statement's execution: its catalog, its scratch folder and its DuckDB connection."""

    def __init__(
        self,
        catalog: Catalog,
        scratch: Path,
        query_id: str,
        sql: str,
        database: str | None,
        catalog_name: str | None,
        parameters: list[str] | None,
        output_location: str,
    ):
        self.catalog = catalog
        self.scratch = scratch
        self.query_id = query_id
        self.sql = sql
        self.database = (database or "default").lower()
        self.catalog_name = (catalog_name or "AwsDataCatalog").lower()
        self.parameters = parameters
        self.output_location = output_location
        self.connection: duckdb.DuckDBPyConnection | None = None
        self.cancelled = threading.Event()
        self.finished = threading.Event()
        self.data_scanned = 0
        self._views = 0

    def cancel(self) -> None:
        """Interrupt DuckDB until the run notices: an interrupt that lands between two statements is lost."""
        self.cancelled.set()

        def interrupt() -> None:
            while not self.finished.wait(0.05):
                connection = self.connection
                if connection is not None:
                    try:
                        connection.interrupt()
                    except duckdb.Error:
                        pass

        threading.Thread(target=interrupt, name="athena-cancel", daemon=True).start()

    # -- entry point --

    def run(self) -> Outcome:
        if self.catalog_name != "awsdatacatalog":
            raise not_supported(f"the data catalog '{self.catalog_name}' (only AwsDataCatalog, the Glue catalog)")
        self.scratch.mkdir(parents=True, exist_ok=True)
        try:
            statement = ddl.parse(self.sql)
            if statement is not None:
                return self.run_ddl(statement)
            kind = translate.classify(self.sql)
            self.connection = self._connect()
            if self.cancelled.is_set():
                raise Cancelled()
            if isinstance(kind, translate.Query):
                return self.run_query(kind.tree)
            if isinstance(kind, translate.CreateTableAs):
                return self.run_ctas(kind)
            if isinstance(kind, translate.InsertInto):
                return self.run_insert(kind)
            return self.run_unload(kind)
        except duckdb.InterruptException as exc:
            raise Cancelled() from exc
        except duckdb.Error as exc:
            if self.cancelled.is_set():
                raise Cancelled() from exc
            raise duckdb_error(exc, self.sql) from exc
        finally:
            self.finished.set()
            if self.connection is not None:
                self.connection.close()
            shutil.rmtree(self.scratch, ignore_errors=True)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        connection = duckdb.connect(
            ":memory:",
            config={
                "threads": 2,
                "allow_unsigned_extensions": False,
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
            },
        )
        connection.execute("SET integer_division = true")  # Trino: integer / integer is an integer
        connection.execute("SET TimeZone = 'UTC'")  # Athena's session time zone
        connection.execute(f"SET temp_directory = '{self.scratch / 'spill'}'")
        return connection

    # -- reading tables --------------------------------------------------------------------------------------

    def resolve(self, ref: translate.TableRef) -> Table:
        catalog_name = ref.catalog or self.catalog_name
        position = translate.node_position(self.sql, ref.node)
        if catalog_name != "awsdatacatalog":
            raise AthenaQueryError("CATALOG_NOT_FOUND", f"Catalog '{catalog_name}' does not exist", position=position)
        database = ref.database or self.database
        if not self.catalog.database_exists(database):
            raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{database}' does not exist", position=position)
        table = self.catalog.table(database, ref.name)
        if table is None:
            raise AthenaQueryError(
                "TABLE_NOT_FOUND", f"Table 'awsdatacatalog.{database}.{ref.name}' does not exist", position=position
            )
        if table.table_type == "VIRTUAL_VIEW":
            raise not_supported(f"reading the view {table.qualified}", position)
        if (table.parameters.get("table_type") or "").upper() == "ICEBERG":
            raise not_supported(f"reading the Iceberg table {table.qualified}", position)
        return table

    def prepare(self, tree: exp.Expression) -> tuple[exp.Expression, dict[str, dict[str, str]]]:
        """Bind parameters, materialise every catalog table the query reads as a DuckDB view (pruned to the
        partitions its WHERE clause allows) and point the query at them. Returns the rewritten tree and its
        schema (view -> column -> Trino type)."""
        tree = translate.bind_parameters(tree, self.parameters, self.sql)
        schema: dict[str, dict[str, str]] = {}
        for ref in translate.table_refs(tree):
            table = self.resolve(ref)
            keys = {name: data_type for name, data_type in table.partition_keys}
            predicates = translate.partition_predicates(tree, ref, set(keys))
            view = self.materialise(table, predicates)
            schema[view] = {name: translate.hive_to_trino_type(t) for name, t in table.all_columns}
            alias = exp.TableAlias(this=exp.to_identifier(ref.alias))
            replacement = exp.Table(this=exp.to_identifier(view), alias=alias)
            if ref.node is tree:
                tree = replacement
            else:
                ref.node.replace(replacement)
        for column in tree.find_all(exp.Column):  # db.table.column -> table.column
            if column.args.get("db") is not None:
                column.set("db", None)
                column.set("catalog", None)
        return tree, schema

    def materialise(self, table: Table, predicates: list[exp.Expression]) -> str:
        """A DuckDB view over the table's files: its columns cast to the catalog's types, partition keys as
        columns. Files are copied from S3 into the scratch folder; their bytes count as data scanned."""
        self._views += 1
        view = f"__athena_t{self._views}"
        storage = table.storage
        if storage not in ("parquet", "orc", "json", "csv", "text"):
            raise not_supported(f"reading tables with SerDe {storage} ({table.qualified})")
        if table.partition_keys:
            partitions = self.catalog.partitions(table)
            partitions = self.prune(table, partitions, predicates, view)
            files = [(obj, p.values) for p in partitions for obj in self.catalog.list_data_objects(p.location)]
        else:
            if not table.location:
                raise AthenaQueryError("HIVE_METASTORE_ERROR", f"Table {table.qualified} has no location")
            files = [(obj, ()) for obj in self.catalog.list_data_objects(table.location)]
        folder_path = self.scratch / view
        folder_path.mkdir(parents=True)
        local: list[tuple[str, tuple[str, ...]]] = []
        for index, (obj, values) in enumerate(files):
            if self.cancelled.is_set():
                raise Cancelled()
            path = folder_path / f"{index:05d}_{obj.key.rsplit('/', 1)[-1]}"
            self.catalog.fetch(obj, path)
            self.data_scanned += obj.size
            local.append((str(path), values))
        columns = [(name, duckdb_type(t)) for name, t in table.columns]
        keys = [(name, duckdb_type(t)) for name, t in table.partition_keys]
        if not local:
            select = ", ".join(f'CAST(NULL AS {t}) AS "{n}"' for n, t in columns + keys)
            self.connection.execute(f"CREATE TEMP VIEW {view} AS SELECT {select} WHERE false")
            return view
        reader, casts = self.reader(table, [p for p, _ in local], columns)
        if keys:
            mapping = pa.table(
                {"__file": [p for p, _ in local], **{f"k{i}": [v[i] for _, v in local] for i in range(len(keys))}}
            )
            self.connection.register(f"{view}_files", mapping)
            casts += [f'{partition_value_sql(f"m.k{i}", t)} AS "{n}"' for i, (n, t) in enumerate(keys)]
            source = f"{reader} r JOIN {view}_files m ON r.__file = m.__file"
        else:
            source = f"{reader} r"
        self.connection.execute(f"CREATE TEMP VIEW {view} AS SELECT {', '.join(casts)} FROM {source}")
        return view

    def prune(self, table: Table, partitions, predicates: list[exp.Expression], view: str):
        """The partitions that can satisfy every predicate, evaluated by DuckDB over the partition values."""
        if not predicates or not partitions:
            return partitions
        keys = [(name, duckdb_type(t)) for name, t in table.partition_keys]
        values = pa.table(
            {
                "__i": list(range(len(partitions))),
                **{f"k{i}": [p.values[i] for p in partitions] for i in range(len(keys))},
            }
        )
        self.connection.register(f"{view}_partitions", values)
        typed = ", ".join(f'{partition_value_sql(f"k{i}", t)} AS "{n}"' for i, (n, t) in enumerate(keys))
        kept = set(range(len(partitions)))
        for predicate in predicates:
            try:
                condition = translate.to_duckdb(predicate, self.sql)
                rows = self.connection.execute(
                    f"SELECT __i FROM (SELECT __i, {typed} FROM {view}_partitions) WHERE {condition}"
                ).fetchall()
            except (duckdb.Error, AthenaQueryError) as exc:
                log.info("partition predicate %s not used for pruning: %s", predicate.sql("trino"), exc)
                continue
            kept &= {row[0] for row in rows}
        self.connection.unregister(f"{view}_partitions")
        return [p for i, p in enumerate(partitions) if i in kept]

    def reader(self, table: Table, paths: list[str], columns: list[tuple[str, str]]) -> tuple[str, list[str]]:
        """(DuckDB table expression over the files with a ``__file`` column, the select list casting each
        catalog column from it)."""
        files = "[" + ", ".join(sql_string(p) for p in paths) + "]"
        storage, serde = table.storage, table.serde_parameters
        if storage == "parquet":
            reader = f"read_parquet({files}, union_by_name = true, filename = '__file')"
            present = self._columns_of(reader)
            return reader, [
                (f'CAST(r."{present[n]}" AS {t}) AS "{n}"' if n in present else f'CAST(NULL AS {t}) AS "{n}"')
                for n, t in columns
            ]
        if storage == "orc":
            import pyarrow.orc as orc

            tables = []
            for path in paths:
                data = orc.read_table(path)
                tables.append(data.append_column("__file", pa.array([path] * data.num_rows, pa.string())))
            name = f"__athena_orc{self._views}"
            self.connection.register(name, pa.concat_tables(tables, promote_options="permissive"))
            present = self._columns_of(name)
            return name, [
                (f'CAST(r."{present[n]}" AS {t}) AS "{n}"' if n in present else f'CAST(NULL AS {t}) AS "{n}"')
                for n, t in columns
            ]
        if storage == "json":  # keys matched to columns case-insensitively, as the openx JsonSerDe does
            ignore = str(serde.get("ignore.malformed.json", "false")).lower() == "true"
            reader = (
                f"read_json_objects({files}, format = 'newline_delimited', filename = '__file', "
                f"ignore_errors = {str(ignore).lower()})"
            )
            keys = [
                row[0]
                for row in self.connection.execute(
                    f"SELECT DISTINCT unnest(json_keys(json)) FROM {reader} WHERE json IS NOT NULL"
                ).fetchall()
            ]
            casts = []
            for name, duck in columns:
                variants = [
                    f"CAST(r.json {'->>' if is_primitive(duck) else '->'} {sql_string(json_path(k))} AS {duck})"
                    for k in sorted(keys)
                    if k.lower() == name
                ]
                value = f"COALESCE({', '.join(variants)})" if variants else f"CAST(NULL AS {duck})"
                casts.append(f'{value} AS "{name}"')
            return reader, casts
        skip = int(table.parameters.get("skip.header.line.count") or serde.get("skip.header.line.count") or 0)
        names = {f"c{i}": "VARCHAR" for i in range(len(columns))}
        spec = "{" + ", ".join(f"'{k}': 'VARCHAR'" for k in names) + "}"
        if storage == "csv":  # OpenCSVSerde: quoted fields, every value a string first
            delimiter = serde.get("separatorChar", ",")
            # opencsv reads a doubled quote inside a quoted field as one quote; DuckDB takes one escape character,
            # so the doubled quote wins and a backslash escape is read as it stands.
            quote = serde.get("quoteChar", '"')
            escape = quote
            null_test = None
        else:  # LazySimpleSerDe: no quoting, '\N' is NULL
            delimiter = serde.get("field.delim") or serde.get("serialization.format") or "\x01"
            if delimiter.isdigit() and len(delimiter) > 1:
                delimiter = chr(int(delimiter))
            quote, escape = "", serde.get("escape.delim", "")
            null_test = serde.get("serialization.null.format", "\\N")
        reader = (
            f"read_csv({files}, columns = {spec}, header = false, skip = {skip}, delim = {sql_string(delimiter)}, "
            f"quote = {sql_string(quote)}, escape = {sql_string(escape)}, null_padding = true, "
            f"auto_detect = false, strict_mode = false, filename = '__file', allow_quoted_nulls = false, "
            f"nullstr = {sql_string(null_test or chr(0))})"
        )
        casts = []
        for index, (name, duck) in enumerate(columns):
            raw = f"r.c{index}"
            if duck == "VARCHAR":
                casts.append(f'{raw} AS "{name}"')
            else:  # Hive reads a value it cannot parse as NULL
                casts.append(f"TRY_CAST(NULLIF(trim({raw}), '') AS {duck}) AS \"{name}\"")
        return reader, casts

    def _columns_of(self, relation: str) -> dict[str, str]:
        """Lower-case name -> actual name of a reader's columns (Athena matches file columns case-insensitively)."""
        names = self.connection.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        found: dict[str, str] = {}
        for row in names:
            found.setdefault(row[0].lower(), row[0])
        return found

    # -- queries ----------------------------------------------------------------------------------------------

    def relation(self, query: exp.Expression, strict_names: bool = False):
        """Prepare, type-check and translate a query; the DuckDB relation of its result."""
        tree, schema = self.prepare(query)
        translate.check_types(tree, schema, self.sql)
        tree = translate.name_outputs(tree, strict_names, self.sql)
        sql = translate.to_duckdb(tree, self.sql)
        log.debug("query %s runs as: %s", self.query_id, sql)
        return self.connection.sql(sql)

    def run_query(self, tree: exp.Expression) -> Outcome:
        relation = self.relation(tree)
        types = [str(t) for t in relation.types]
        names = list(relation.columns)
        data = relation.to_arrow_table()
        if self.cancelled.is_set():
            raise Cancelled()
        formatted = [format_column(data.column(i), types[i]) for i in range(len(names))]
        rows = pa.Table.from_arrays(formatted, names=[f"c{i}" for i in range(len(names))]) if names else pa.table({})
        result = ResultSet([column_info(n, t) for n, t in zip(names, types, strict=True)], rows, header=True)
        return Outcome("DML", "SELECT", result, self.data_scanned)

    # -- writes -----------------------------------------------------------------------------------------------

    def _materialise_result(self, query: exp.Expression, strict_names: bool) -> tuple[list[str], list[str]]:
        relation = self.relation(query, strict_names)
        names = [n.lower() for n in relation.columns]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise AthenaQueryError("DUPLICATE_COLUMN_NAME", f"Column name '{duplicated[0]}' specified more than once")
        relation.create("__athena_result")
        return names, [str(t) for t in relation.types]

    def run_ctas(self, statement: translate.CreateTableAs) -> Outcome:
        database = (statement.table.db or self.database).lower()
        name = statement.table.name.lower()
        position = translate.node_position(self.sql, statement.table)
        if not self.catalog.database_exists(database):
            raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Schema '{database}' does not exist", position=position)
        if self.catalog.table(database, name) is not None:
            if statement.if_not_exists:
                return Outcome("DDL", "CREATE_TABLE_AS_SELECT", count_result(0), self.data_scanned)
            raise AthenaQueryError(
                "ALREADY_EXISTS",
                f"Destination table 'awsdatacatalog.{database}.{name}' already exists",
                position=position,
            )
        props = statement.properties
        unknown = sorted(set(props) - CTAS_PROPERTIES)
        if unknown:
            raise AthenaQueryError(
                "INVALID_TABLE_PROPERTY", f"Catalog 'awsdatacatalog' table property '{unknown[0]}' does not exist"
            )
        for refused in ("bucketed_by", "bucket_count"):
            if refused in props:
                raise not_supported(f"the CTAS property {refused} (bucketed tables)")
        if str(props.get("table_type", "HIVE")).upper() != "HIVE":
            raise not_supported(f"table_type '{props['table_type']}' (only Hive tables)")
        file_format = str(props.get("format", "PARQUET")).upper()
        if file_format not in WRITE_FORMATS:
            raise not_supported(f"writing format '{file_format}'")
        location = props.get("external_location") or props.get("location")
        if location:
            if self.catalog.has_objects(str(location)):
                raise AthenaQueryError(
                    "HIVE_PATH_ALREADY_EXISTS",
                    f"Target directory for table '{database}.{name}' already exists: {location}",
                )
        else:
            location = folder(self.output_location.rsplit("/", 1)[0]) + f"tables/{self.query_id}/"
        location = folder(str(location))
        names, types = self._materialise_result(statement.query, strict_names=True)
        partitioned_by = [p.lower() for p in props.get("partitioned_by") or []]
        missing = [p for p in partitioned_by if p not in names]
        if missing:
            raise AthenaQueryError("COLUMN_NOT_FOUND", f"Partition column '{missing[0]}' does not exist in the query")
        if partitioned_by and names[-len(partitioned_by) :] != partitioned_by:
            raise AthenaQueryError(
                "GENERIC_USER_ERROR",
                "Partition keys must be the last columns in the table and in "
                f"the same order as the table properties: {partitioned_by}",
            )
        if len(partitioned_by) == len(names):
            raise AthenaQueryError("GENERIC_USER_ERROR", "Table contains only partition columns")
        glue_types = [hive_type(t) for t in types]
        data_count = len(names) - len(partitioned_by)
        table_input = table_input_for(
            columns=list(zip(names[:data_count], glue_types[:data_count], strict=True)),
            partition_keys=list(zip(partitioned_by, glue_types[data_count:], strict=True)),
            location=location,
            file_format=file_format,
            props=props,
        )
        self.catalog.create_table(database, name, table_input)
        table = self.catalog.table(database, name)
        rows, written = 0, []
        if statement.with_data:
            rows, written = self.write_table(table, names, types)
        return Outcome("DDL", "CREATE_TABLE_AS_SELECT", count_result(rows), self.data_scanned, written)

    def run_insert(self, statement: translate.InsertInto) -> Outcome:
        ref = translate.TableRef(
            statement.table,
            (statement.table.catalog or "").lower() or None,
            (statement.table.db or "").lower() or None,
            statement.table.name.lower(),
        )
        table = self.resolve(ref)
        if table.storage not in ("parquet", "text", "json", "orc"):
            raise not_supported(f"INSERT INTO a table with SerDe {table.serde or table.storage}")
        target = [name for name, _ in table.all_columns]
        listed = statement.columns or target
        unknown = [c for c in listed if c not in target]
        if unknown:
            raise AthenaQueryError(
                "COLUMN_NOT_FOUND", f"Insert column name does not exist in target table: {unknown[0]}"
            )
        relation = self.relation(statement.query)
        query_types = [str(t) for t in relation.types]
        target_types = dict(table.all_columns)
        wanted = [translate.hive_to_trino_type(target_types[c]) for c in listed]
        found = [trino_type(t) for t in query_types]
        if len(found) != len(wanted) or not all(coercible(f, w) for f, w in zip(found, wanted, strict=True)):
            raise AthenaQueryError(
                "TYPE_MISMATCH",
                f"Insert query has mismatched column types: Table: [{', '.join(wanted)}], Query: [{', '.join(found)}]",
            )
        relation.create("__athena_query")
        query_columns = self.connection.execute("SELECT * FROM __athena_query LIMIT 0").description
        by_target = {c: f'__athena_query."{query_columns[i][0]}"' for i, c in enumerate(listed)}
        select = ", ".join(
            f'CAST({by_target.get(name, "NULL")} AS {duckdb_type(t)}) AS "{name}"' for name, t in table.all_columns
        )
        self.connection.execute(f"CREATE TEMP TABLE __athena_result AS SELECT {select} FROM __athena_query")
        types = [duckdb_type(t) for _, t in table.all_columns]
        rows, written = self.write_table(table, target, types)
        return Outcome("DML", "INSERT", count_result(rows), self.data_scanned, written)

    def run_unload(self, statement: translate.Unload) -> Outcome:
        props = statement.properties
        unknown = sorted(
            set(props) - {"format", "partitioned_by", "field_delimiter", "compression", "write_compression"}
        )
        if unknown:
            raise AthenaQueryError("INVALID_TABLE_PROPERTY", f"UNLOAD property '{unknown[0]}' does not exist")
        file_format = str(props.get("format", "PARQUET")).upper()
        if file_format not in WRITE_FORMATS:
            raise not_supported(f"UNLOAD format '{file_format}'")
        location = folder(statement.location)
        split_s3_uri(location)
        if self.catalog.has_objects(location):
            raise AthenaQueryError(
                "HIVE_PATH_ALREADY_EXISTS", f"Target directory for UNLOAD already exists: {location}"
            )
        names, types = self._materialise_result(statement.query, strict_names=False)
        partitioned_by = [p.lower() for p in props.get("partitioned_by") or []]
        if partitioned_by and names[-len(partitioned_by) :] != partitioned_by:
            raise AthenaQueryError(
                "GENERIC_USER_ERROR",
                "Partition keys must be the last columns of the UNLOAD query "
                f"and in the same order as partitioned_by: {partitioned_by}",
            )
        rows, written = self.write_files(
            names,
            types,
            partitioned_by,
            lambda values: location + partition_path(partitioned_by, values),
            file_format,
            props,
        )
        return Outcome("DML", "UNLOAD", count_result(rows), self.data_scanned, [uri for _, uri in written])

    def write_table(self, table: Table, names: list[str], types: list[str]) -> tuple[int, list[str]]:
        """Write ``__athena_result`` (columns = the table's, partition keys last) into the table's location,
        registering partitions that are new."""
        keys = [k for k, _ in table.partition_keys]
        existing = {p.values: p.location for p in self.catalog.partitions(table)} if keys else {}
        file_format = {"parquet": "PARQUET", "text": "TEXTFILE", "json": "JSON", "orc": "ORC"}[table.storage]
        props = {
            "field_delimiter": table.serde_parameters.get("field.delim", "\x01"),
            "write_compression": table.parameters.get("write.compression")
            or table.parameters.get("parquet.compression"),
        }

        def location_for(values: tuple[str, ...]) -> str:
            return folder(existing.get(values) or folder(table.location) + partition_path(keys, values))

        rows, written = self.write_files(names, types, keys, location_for, file_format, props)
        for values in sorted({values for values, _ in written}):
            if keys and values not in existing:
                self.catalog.add_partition(table, values, location_for(values))
        return rows, [uri for _, uri in written]

    def write_files(
        self,
        names: list[str],
        types: list[str],
        partition_columns: list[str],
        location_for,
        file_format: str,
        props: dict,
    ) -> tuple[int, list[tuple[tuple[str, ...], str]]]:
        """Write ``__athena_result`` as files of ``file_format``, one per partition; upload them to S3."""
        connection = self.connection
        data_columns = [n for n in names if n not in partition_columns]
        total = connection.execute("SELECT count(*) FROM __athena_result").fetchone()[0]
        if partition_columns:
            quoted = ", ".join(f'"{c}"' for c in partition_columns)
            groups = connection.execute(f"SELECT DISTINCT {quoted} FROM __athena_result").fetchall()
            if len(groups) > MAX_OPEN_PARTITIONS:
                raise AthenaQueryError(
                    "HIVE_TOO_MANY_OPEN_PARTITIONS",
                    f"Exceeded limit of {MAX_OPEN_PARTITIONS} open writers for partitions/buckets",
                )
        else:
            groups = [()] if total else []
        compression = str(props.get("write_compression") or props.get("compression") or "").upper()
        written = []
        for index, group in enumerate(groups):
            if self.cancelled.is_set():
                raise Cancelled()
            values = tuple(DEFAULT_PARTITION if v is None else partition_text(v) for v in group)
            where = " AND ".join(f'"{c}" IS NOT DISTINCT FROM $p{i}' for i, c in enumerate(partition_columns)) or "true"
            params = {f"p{i}": v for i, v in enumerate(group)}
            local = self.scratch / f"out_{index:05d}"
            suffix = self._write_local(
                local,
                data_columns,
                dict(zip(names, types, strict=True)),
                where,
                params,
                file_format,
                props,
                compression,
            )
            uri = location_for(values) + f"{self.query_id}_{index:05d}{suffix}"
            self.catalog.put(uri, local.read_bytes())
            written.append((values, uri))
        return total, written

    def _write_local(
        self,
        path: Path,
        columns: list[str],
        types: dict[str, str],
        where: str,
        params: dict,
        file_format: str,
        props: dict,
        compression: str,
    ) -> str:
        selected = ", ".join(f'"{c}"' for c in columns)
        source = f"SELECT {selected} FROM __athena_result WHERE {where}"
        if file_format == "PARQUET":
            codec = {
                "": "snappy",
                "SNAPPY": "snappy",
                "GZIP": "gzip",
                "ZSTD": "zstd",
                "NONE": "uncompressed",
                "UNCOMPRESSED": "uncompressed",
                "LZ4": "lz4",
            }.get(compression)
            if codec is None:
                raise not_supported(f"Parquet write_compression '{compression}'")
            self.connection.execute(
                f"COPY ({source}) TO {sql_string(str(path))} (FORMAT parquet, COMPRESSION {codec})", params
            )
            return ""
        if file_format == "ORC":
            import pyarrow.orc as orc

            orc.write_table(self.connection.execute(source, params).to_arrow_table(), str(path))
            return ""
        gzip = compression == "GZIP"
        if compression not in ("", "NONE", "GZIP"):
            raise not_supported(f"{file_format} write_compression '{compression}'")
        codec = "gzip" if gzip else "none"
        if file_format == "JSON":
            self.connection.execute(
                f"COPY ({source}) TO {sql_string(str(path))} (FORMAT json, COMPRESSION {codec})", params
            )
        else:  # TEXTFILE: LazySimpleSerDe's layout, values as Hive writes them, NULL as \N
            delimiter = str(props.get("field_delimiter") or "\x01")
            text_columns = ", ".join(f'{hive_text_sql(f"{chr(34)}{c}{chr(34)}", types[c])} AS "{c}"' for c in columns)
            self.connection.execute(
                f"COPY (SELECT {text_columns} FROM ({source})) TO {sql_string(str(path))} (FORMAT csv, HEADER false, "
                f"DELIMITER {sql_string(delimiter)}, QUOTE '', ESCAPE '', NULLSTR '\\N', COMPRESSION {codec})",
                params,
            )
        return ".gz" if gzip else ""

    # -- DDL --------------------------------------------------------------------------------------------------

    def _table_for_ddl(self, name: ddl.Name) -> Table:
        database = name.database or self.database
        if not self.catalog.database_exists(database):
            raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Database does not exist: {database}")
        table = self.catalog.table(database, name.name)
        if table is None:
            raise AthenaQueryError("TABLE_NOT_FOUND", f"Table not found {database}.{name.name}")
        return table

    def run_ddl(self, statement) -> Outcome:
        kinds = {
            ddl.CreateDatabase: "CREATE_DATABASE",
            ddl.DropDatabase: "DROP_DATABASE",
            ddl.CreateTable: "CREATE_TABLE",
            ddl.DropTable: "DROP_TABLE",
            ddl.AddPartitions: "ALTER_TABLE_ADD_PARTITION",
            ddl.DropPartitions: "ALTER_TABLE_DROP_PARTITION",
            ddl.RepairTable: "MSCK_REPAIR_TABLE",
            ddl.ShowPartitions: "SHOW_PARTITIONS",
            ddl.ShowTables: "SHOW_TABLES",
            ddl.ShowDatabases: "SHOW_DATABASES",
        }
        substatement = kinds[type(statement)]
        lines: list[str] = []
        column = None
        if isinstance(statement, ddl.CreateDatabase):
            self.create_database(statement)
        elif isinstance(statement, ddl.DropDatabase):
            self.drop_database(statement)
        elif isinstance(statement, ddl.CreateTable):
            self.create_table(statement)
        elif isinstance(statement, ddl.DropTable):
            database = statement.table.database or self.database
            if self.catalog.table(database, statement.table.name) is not None:
                self.catalog.drop_table(database, statement.table.name)
            elif not statement.if_exists:
                self._table_for_ddl(statement.table)
        elif isinstance(statement, ddl.AddPartitions):
            self.add_partitions(statement)
        elif isinstance(statement, ddl.DropPartitions):
            self.drop_partitions(statement)
        elif isinstance(statement, ddl.RepairTable):
            lines = self.repair(self._table_for_ddl(statement.table))
        elif isinstance(statement, ddl.ShowPartitions):
            table = self._table_for_ddl(statement.table)
            if not table.partition_keys:
                raise AthenaQueryError("GENERIC_USER_ERROR", f"Table {table.database}.{table.name} is not partitioned")
            keys = [k for k, _ in table.partition_keys]
            lines = sorted(
                "/".join(f"{k}={v}" for k, v in zip(keys, p.values, strict=True))
                for p in self.catalog.partitions(table)
            )
            column = "partition"
        elif isinstance(statement, ddl.ShowTables):
            database = statement.database or self.database
            if not self.catalog.database_exists(database):
                raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Database does not exist: {database}")
            pattern = ddl.hive_glob(statement.pattern) if statement.pattern else None
            lines = [t for t in self.catalog.table_names(database) if not pattern or pattern.fullmatch(t)]
            column = "tab_name"
        else:
            pattern = ddl.hive_glob(statement.pattern) if statement.pattern else None
            lines = [d for d in self.catalog.database_names() if not pattern or pattern.fullmatch(d)]
            column = "database_name"
        kind = "UTILITY" if substatement.startswith("SHOW") else "DDL"
        names = [column] if column else []
        rows = string_table([lines], names) if column else pa.table({})
        info = [ddl_column_info(column)] if column else []
        if substatement == "MSCK_REPAIR_TABLE":
            rows, info = string_table([lines], ["result"]), [ddl_column_info("result")]
        return Outcome(kind, substatement, ResultSet(info, rows, header=False))

    def create_database(self, statement: ddl.CreateDatabase) -> None:
        if self.catalog.database_exists(statement.name):
            if statement.if_not_exists:
                return
            raise AthenaQueryError("ALREADY_EXISTS", f"Database {statement.name} already exists")
        database_input = {"Parameters": statement.properties}
        if statement.comment:
            database_input["Description"] = statement.comment
        if statement.location:
            database_input["LocationUri"] = statement.location
        self.catalog.create_database(statement.name, database_input)

    def drop_database(self, statement: ddl.DropDatabase) -> None:
        if not self.catalog.database_exists(statement.name):
            if statement.if_exists:
                return
            raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Database does not exist: {statement.name}")
        tables = self.catalog.table_names(statement.name)
        if tables and not statement.cascade:
            raise AthenaQueryError(
                "GENERIC_USER_ERROR", f"Database {statement.name} is not empty. One or more tables exist."
            )
        for table in tables:
            self.catalog.drop_table(statement.name, table)
        self.catalog.drop_database(statement.name)

    def create_table(self, statement: ddl.CreateTable) -> None:
        database = statement.table.database or self.database
        if (statement.properties.get("table_type") or "").upper() == "ICEBERG":
            raise not_supported("Iceberg tables (table_type 'ICEBERG')")
        if not statement.external:
            raise AthenaQueryError(
                "GENERIC_USER_ERROR",
                "Only external table creation is supported (CREATE EXTERNAL TABLE), or CREATE TABLE AS SELECT",
            )
        if not self.catalog.database_exists(database):
            raise AthenaQueryError("SCHEMA_NOT_FOUND", f"Database does not exist: {database}")
        if self.catalog.table(database, statement.table.name) is not None:
            if statement.if_not_exists:
                return
            raise AthenaQueryError("ALREADY_EXISTS", f"Table {database}.{statement.table.name} already exists")
        if not statement.location:
            raise AthenaQueryError("GENERIC_USER_ERROR", "LOCATION is required for CREATE EXTERNAL TABLE")
        split_s3_uri(statement.location)
        for _, column_type, _ in statement.columns + statement.partition_keys:
            duckdb_type(column_type)  # a type the engine cannot read fails now, not at the first query
        input_format, output_format, default_serde = STORED_AS.get(statement.stored_as or "TEXTFILE", (None,) * 3)
        if statement.stored_as and statement.stored_as not in STORED_AS:
            raise not_supported(f"STORED AS {statement.stored_as}")
        serde = statement.serde or default_serde
        serde_parameters = dict(statement.serde_parameters)
        if serde == TEXT[2] and not serde_parameters:
            serde_parameters = {"serialization.format": "1"}
        descriptor = {
            "Columns": [column_entry(n, t, c) for n, t, c in statement.columns],
            "Location": statement.location,
            "InputFormat": statement.input_format or input_format,
            "OutputFormat": statement.output_format or output_format,
            "Compressed": False,
            "NumberOfBuckets": -1,
            "StoredAsSubDirectories": False,
            "SerdeInfo": {"SerializationLibrary": serde, "Parameters": serde_parameters},
            "BucketColumns": [],
            "SortColumns": [],
            "Parameters": {},
        }
        table_input = {
            "TableType": "EXTERNAL_TABLE",
            "StorageDescriptor": descriptor,
            "Parameters": {"EXTERNAL": "TRUE", **statement.properties},
            "PartitionKeys": [column_entry(n, t, c) for n, t, c in statement.partition_keys],
        }
        if statement.comment:
            table_input["Description"] = statement.comment
        self.catalog.create_table(database, statement.table.name, table_input)

    def _partition_values(self, table: Table, spec: dict[str, str], complete: bool = True) -> tuple[str, ...]:
        keys = [k for k, _ in table.partition_keys]
        if not keys:
            raise AthenaQueryError("GENERIC_USER_ERROR", f"Table {table.database}.{table.name} is not partitioned")
        unknown = [k for k in spec if k not in keys]
        if unknown:
            raise AthenaQueryError("GENERIC_USER_ERROR", f"Partition spec {spec} contains non-partition columns")
        if complete and len(spec) != len(keys):
            raise AthenaQueryError("GENERIC_USER_ERROR", f"Partition spec {spec} must name every partition key {keys}")
        return tuple(spec.get(k) for k in keys)

    def add_partitions(self, statement: ddl.AddPartitions) -> None:
        table = self._table_for_ddl(statement.table)
        keys = [k for k, _ in table.partition_keys]
        planned = [(self._partition_values(table, spec), location) for spec, location in statement.partitions]
        existing = {p.values for p in self.catalog.partitions(table)}
        clash = [values for values, _ in planned if values in existing]
        if clash and not statement.if_not_exists:
            raise AthenaQueryError(
                "ALREADY_EXISTS",
                "Partition already exists: " + ", ".join(f"{k}={v}" for k, v in zip(keys, clash[0], strict=True)),
            )
        for values, location in planned:
            if values not in existing:
                self.catalog.add_partition(
                    table, values, location or folder(table.location) + partition_path(keys, values)
                )

    def drop_partitions(self, statement: ddl.DropPartitions) -> None:
        table = self._table_for_ddl(statement.table)
        existing = self.catalog.partitions(table)
        for spec in statement.partitions:
            wanted = self._partition_values(table, spec, complete=False)
            matching = [p for p in existing if all(w is None or w == v for w, v in zip(wanted, p.values, strict=True))]
            if not matching and not statement.if_exists:
                raise AthenaQueryError(
                    "GENERIC_USER_ERROR",
                    "Partition not found (" + ", ".join(f"{k} = '{v}'" for k, v in spec.items()) + ")",
                )
            for partition in matching:
                self.catalog.drop_partition(table, partition.values)

    def repair(self, table: Table) -> list[str]:
        """MSCK REPAIR TABLE: register ``key=value`` folders under the location that the catalog lacks (Athena
        only adds partitions)."""
        keys = [k for k, _ in table.partition_keys]
        if not keys:
            raise AthenaQueryError("GENERIC_USER_ERROR", f"Table {table.database}.{table.name} is not partitioned")
        from urllib.parse import unquote

        root = folder(table.location)
        _, prefix = split_s3_uri(root)
        found: dict[tuple[str, ...], str] = {}
        for obj in self.catalog.list_data_objects(root):
            parts = obj.key[len(prefix) :].split("/")[:-1]
            if len(parts) < len(keys):
                continue
            pairs = [part.split("=", 1) for part in parts[: len(keys)]]
            if all(len(pair) == 2 and pair[0].lower() == key for pair, key in zip(pairs, keys, strict=True)):
                values = tuple(unquote(pair[1]) for pair in pairs)
                found.setdefault(values, root + "/".join(parts[: len(keys)]) + "/")
        existing = {p.values for p in self.catalog.partitions(table)}
        missing = sorted(v for v in found if v not in existing)
        if not missing:
            return []
        names = ["/".join(f"{k}={v}" for k, v in zip(keys, values, strict=True)) for values in missing]
        lines = ["Partitions not in metastore:\t" + "\t".join(f"{table.name}:{n}" for n in names)]
        for values, name in zip(missing, names, strict=True):
            self.catalog.add_partition(table, values, found[values])
            lines.append(f"Repair: Added partition to metastore {table.name}:{name}")
        return lines


# ---- helpers -------------------------------------------------------------------------------------------------------


def json_path(key: str) -> str:
    return '$."' + key.replace('"', '\\"') + '"'


def is_primitive(duck: str) -> bool:
    return not (duck.endswith("[]") or duck.startswith(("STRUCT", "MAP")))


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def partition_value_sql(expression: str, duck: str) -> str:
    """A partition value (always text in the catalog) as its key's type; Hive's default partition is NULL."""
    value = f"NULLIF({expression}, '{DEFAULT_PARTITION}')"
    return value if duck == "VARCHAR" else f"TRY_CAST({value} AS {duck})"


def partition_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def hive_text_sql(column: str, duck: str) -> str:
    """How LazySimpleSerDe writes a value as text."""
    if duck.startswith("TIMESTAMP"):
        return f"strftime({column}, '%Y-%m-%d %H:%M:%S.%g')"
    if duck == "BOOLEAN":
        return f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END"
    if duck.endswith("[]") or duck.startswith(("STRUCT", "MAP")):
        raise not_supported(f"writing {trino_type(duck)} columns to TEXTFILE")
    return f"CAST({column} AS VARCHAR)"


def column_entry(name: str, column_type: str, comment: str | None = None) -> dict:
    entry = {"Name": name, "Type": column_type}
    if comment:
        entry["Comment"] = comment
    return entry


def table_input_for(columns, partition_keys, location: str, file_format: str, props: dict) -> dict:
    """The Glue TableInput a CTAS registers."""
    if file_format == "PARQUET":
        input_format, output_format, serde = PARQUET
        serde_parameters = {"serialization.format": "1"}
    elif file_format == "ORC":
        input_format, output_format, serde = ORC
        serde_parameters = {"serialization.format": "1"}
    elif file_format == "JSON":
        input_format, output_format, serde = TEXT[0], TEXT[1], JSON_SERDES[1]
        serde_parameters = {}
    else:
        input_format, output_format, serde = TEXT
        delimiter = str(props.get("field_delimiter") or "\x01")
        serde_parameters = {"field.delim": delimiter, "serialization.format": delimiter}
    parameters = {"EXTERNAL": "TRUE", "has_encrypted_data": "false"}
    compression = props.get("write_compression") or props.get("compression")
    if compression:
        parameters["write.compression"] = str(compression).upper()
    return {
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
        "PartitionKeys": [column_entry(n, t) for n, t in partition_keys],
        "StorageDescriptor": {
            "Columns": [column_entry(n, t) for n, t in columns],
            "Location": location,
            "InputFormat": input_format,
            "OutputFormat": output_format,
            "Compressed": bool(compression),
            "NumberOfBuckets": -1,
            "StoredAsSubDirectories": False,
            "BucketColumns": [],
            "SortColumns": [],
            "SerdeInfo": {"SerializationLibrary": serde, "Parameters": serde_parameters},
            "Parameters": {},
        },
    }


def count_result(rows: int) -> ResultSet:
    """CTAS / INSERT / UNLOAD: the number of rows written, as ``rows`` and as ``UpdateCount``."""
    return ResultSet(
        [column_info("rows", "BIGINT")], string_table([[str(rows)]], ["rows"]), header=True, update_count=rows
    )


_IMPLICIT = {  # Trino's implicit coercions for INSERT: from -> to
    "tinyint": {"smallint", "integer", "bigint", "real", "double", "decimal"},
    "smallint": {"integer", "bigint", "real", "double", "decimal"},
    "integer": {"bigint", "real", "double", "decimal"},
    "bigint": {"real", "double", "decimal"},
    "real": {"double"},
    "decimal": {"real", "double", "decimal"},
    "date": {"timestamp"},
    "timestamp": {"timestamp"},
    "varchar": {"varchar", "char"},
    "unknown": None,  # NULL: anything
}


def coercible(found: str, wanted: str) -> bool:
    base_found, base_wanted = found.split("(")[0], wanted.split("(")[0]
    if found == wanted or base_found == "unknown":
        return True
    if base_found in ("array", "map", "row") or base_wanted in ("array", "map", "row"):
        return base_found == base_wanted  # element types are cast; Trino would check them too
    if found == "timestamp(3) with time zone":
        return False
    return base_wanted == base_found or base_wanted in (_IMPLICIT.get(base_found) or set())


_DUCKDB_ERRORS = [
    (
        r'Referenced column "([^"]+)" not found',
        "COLUMN_NOT_FOUND",
        "Column '{0}' cannot be resolved or requester is not authorized to access requested resources",
    ),
    (r'Referenced table "([^"]+)" not found', "TABLE_NOT_FOUND", "Table '{0}' does not exist"),
    (
        r'column "([^"]+)" must appear in the GROUP BY clause',
        "EXPRESSION_NOT_AGGREGATE",
        "'{0}' must be an aggregate expression or appear in GROUP BY clause",
    ),
    (r'Ambiguous reference to column name "([^"]+)"', "AMBIGUOUS_NAME", "Column '{0}' is ambiguous"),
    (
        r"Could not choose a best candidate function for the function call \"([^\"(]+)\((.*)\)\"",
        "TYPE_MISMATCH",
        "Unexpected parameters ({1}) for function or operator {0}",
    ),
    (
        r"No function matches the given name and argument types '([^'(]+)\((.*)\)'",
        "TYPE_MISMATCH",
        "Unexpected parameters ({1}) for function or operator {0}",
    ),
    (r"Cannot compare values of type (\S+) and type (\S+)", "TYPE_MISMATCH", "Cannot apply operator: {0} = {1}"),
    (r"Scalar Function with name (\S+) does not exist", "FUNCTION_NOT_FOUND", "Function '{0}' not registered"),
    (r"Division by zero", "DIVISION_BY_ZERO", "Division by zero"),
]


def duckdb_error(exc: duckdb.Error, sql: str) -> AthenaQueryError:
    """A DuckDB error worded as Trino's (position of the named column in the original query when found)."""
    text = str(exc).split("\n")[0]
    body = re.sub(r"^[A-Za-z ]+ Error: ", "", text)
    for pattern, name, template in _DUCKDB_ERRORS:
        match = re.search(pattern, text)
        if match:
            groups = [g.lower() if i == 0 and name != "TYPE_MISMATCH" else g for i, g in enumerate(match.groups())]
            position = None
            if groups and name in ("COLUMN_NOT_FOUND", "EXPRESSION_NOT_AGGREGATE", "AMBIGUOUS_NAME"):
                found = re.search(r"\b" + re.escape(groups[0]) + r"\b", sql, re.IGNORECASE)
                position = position_of(sql, found.start()) if found else None
            return AthenaQueryError(name, template.format(*groups), position=position)
    if isinstance(exc, duckdb.ConversionException):
        return AthenaQueryError("INVALID_CAST_ARGUMENT", body)
    if isinstance(exc, duckdb.OutOfRangeException):
        return AthenaQueryError("NUMERIC_VALUE_OUT_OF_RANGE", body)
    if isinstance(exc, (duckdb.InvalidInputException,)) and ("JSON" in text or "CSV" in text or "Parquet" in text):
        return AthenaQueryError("HIVE_BAD_DATA", body)
    if isinstance(exc, duckdb.ParserException):
        return AthenaQueryError("NOT_SUPPORTED", f"the translated query did not parse in the local engine: {body}")
    if isinstance(exc, (duckdb.BinderException, duckdb.CatalogException, duckdb.InvalidInputException)):
        return AthenaQueryError("GENERIC_USER_ERROR", body)
    return AthenaQueryError("GENERIC_INTERNAL_ERROR", body)
