"""Athena that computes: queries run for real on DuckDB over the Glue catalog's tables in the local S3.

moto 5.2.5 answers Athena with canned rows and runs nothing. Here ``StartQueryExecution`` queues the statement,
a worker thread of the server runs it (QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED) and the results are
written where Athena writes them: ``<OutputLocation>/<QueryExecutionId>.csv`` (``.txt`` for DDL) with a
``.metadata`` file (JSON ColumnInfo here, Athena's own is binary), and ``<id>-manifest.csv`` for CTAS, INSERT
INTO and UNLOAD (``Statistics.DataManifestLocation``).

How (one package per concern, like moto's):
- ``responses.py`` the API: StartQueryExecution (QueryExecutionContext Database/Catalog, ResultConfiguration
  .OutputLocation or the workgroup's, EnforceWorkGroupConfiguration, ExecutionParameters, ClientRequestToken),
  GetQueryExecution, BatchGetQueryExecution, ListQueryExecutions, GetQueryResults (MaxResults <= 1000,
  NextToken), StopQueryExecution; GetDatabase/ListDatabases/GetTableMetadata/ListTableMetadata from Glue.
- ``models.py`` executions, their statistics (DataScannedInBytes = bytes of the S3 objects read, times) and
  the worker pool (4 queries at once; the rest wait QUEUED).
- ``ddl.py`` Hive DDL parsed by hand; ``engine.py`` applies it to the Glue catalog in-process.
- ``translate.py`` Trino -> DuckDB with sqlglot (``trino`` -> ``duckdb``); ``engine.py`` runs it on an in-memory
  DuckDB (one connection per query, ``integer_division`` and UTC as in Trino) over views of the tables' files,
  copied from moto's S3 backend (DuckDB's own S3 and extension downloads are never used).
- ``catalog.py`` Glue tables/partitions and S3 objects; ``results.py`` types and values as Athena prints them.

Conformance (what a pipeline author can rely on here and on AWS):

| Athena feature | local engine |
|---|---|
| SELECT (joins, CTEs, subqueries, window and aggregate functions sqlglot maps, UNNEST, LIMIT/OFFSET) | supported |
| tables: Parquet, ORC (pyarrow), JSON lines (openx/hive JsonSerDe, keys case-insensitive), CSV/TSV (LazySimpleSerDe: delimiter, ``\\N``, ``skip.header.line.count``; OpenCSVSerde: separator, quote, doubled quotes; backslash escapes are read as they stand), ``.gz`` | supported |
| partition pruning: WHERE conjuncts on partition keys select the partitions read (not for outer-join nullable sides) | supported |
| results: header row, every value a string (doubles as Java prints them, timestamps to ms), typed ColumnInfo, CSV quoting | supported |
| CREATE DATABASE/SCHEMA, DROP DATABASE [CASCADE], CREATE EXTERNAL TABLE (PARTITIONED BY, ROW FORMAT DELIMITED/SERDE, STORED AS, LOCATION, TBLPROPERTIES), DROP TABLE | supported |
| ALTER TABLE ADD [IF NOT EXISTS] PARTITION ... [LOCATION], DROP [IF EXISTS] PARTITION, MSCK REPAIR TABLE (adds only), SHOW PARTITIONS/TABLES/DATABASES | supported |
| CREATE TABLE AS SELECT (format PARQUET/ORC/JSON/TEXTFILE, external_location (must be empty), partitioned_by (last columns, <= 100 partitions), field_delimiter, write_compression, WITH NO DATA) | supported |
| INSERT INTO (column list, partitioned: files under the partition's location, new partitions registered; Trino's implicit coercions only) | supported |
| UNLOAD (SELECT) TO 's3://...' WITH (format, partitioned_by) (location must be empty) | supported |
| errors: SYNTAX_ERROR, TABLE_NOT_FOUND, SCHEMA_NOT_FOUND, COLUMN_NOT_FOUND, TYPE_MISMATCH (also varchar vs number/date comparisons DuckDB would allow), FUNCTION_NOT_FOUND, EXPRESSION_NOT_AGGREGATE, INVALID_CAST_ARGUMENT, DIVISION_BY_ZERO, HIVE_PATH_ALREADY_EXISTS, HIVE_TOO_MANY_OPEN_PARTITIONS | as Athena (category 2) |
| views, Iceberg tables, DELETE/UPDATE/MERGE, INSERT OVERWRITE, bucketed tables, Avro/Ion/Regex/Grok SerDes, federated catalogs, DESCRIBE/SHOW CREATE TABLE/EXPLAIN, ALTER TABLE other than ADD/DROP PARTITION | refused: FAILED with NOT_SUPPORTED naming the construct |
| functions sqlglot does not know (parsed as anonymous), constructs sqlglot cannot carry to DuckDB | refused (FUNCTION_NOT_FOUND / NOT_SUPPORTED naming them), never run differently |
| not emulated | DataScannedInBytes counts whole files read (Athena counts only the Parquet/ORC columns read), result reuse, query result encryption, prepared statements (ExecutionParameters are), workgroup limits, partition projection, Lake Formation |
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local_platform.aws.compute import ComputeConfig


def install(config: ComputeConfig) -> None:
    from local_platform.aws.compute.athena.responses import install as install_responses

    install_responses(config)
