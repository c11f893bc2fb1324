"""Redshift Data API that really runs SQL (replaces moto 5.2.5's redshiftdata, whose statements stay STARTED
forever and return canned rows).

Contract for pipeline authors:

- Each cluster or workgroup + database is stood in for by the PostgreSQL database
  ``standin_database_name(namespace, identifier, database)`` = ``{namespace}_rs_{identifier}_{database}``
  (lowercased, anything but ``[a-z0-9]`` -> ``_``, cut to 63 characters) on ``config.postgres_dsn``'s server,
  created on first use. Tests find it through that function and the server's namespace.
- A statement runs in a thread on its own connection (one Redshift session: ``#temp`` tables live until it
  ends; time zone UTC, DateStyle ISO, MDY as in Redshift) as one transaction; a batch is one transaction over all its statements (``BEGIN``/
  ``COMMIT`` inside it behave as in Redshift, and ``TRUNCATE`` commits). Status goes SUBMITTED -> STARTED ->
  FINISHED, FAILED (``Error`` = PostgreSQL's message) or ABORTED (CancelStatement).
- SQL goes through :mod:`redshift_sql`: storage hints stripped, ``#temp`` tables, ``GETDATE()``/``SYSDATE``,
  ``VARCHAR(MAX)``; Redshift-only syntax it recognises but cannot translate fails naming it.
- ``COPY table [(cols)] FROM 's3://bucket/prefix'`` with ``IAM_ROLE``/``CREDENTIALS``/access keys (ignored),
  ``REGION``, and ``[FORMAT [AS]] CSV`` (``DELIMITER``, ``QUOTE``, ``NULL AS``, ``IGNOREHEADER n``), ``JSON
  'auto'``/``'auto ignorecase'`` (keys matched to column names) or ``PARQUET`` (columns by position), plus
  ``GZIP``, ``TIMEFORMAT``/``DATEFORMAT 'auto'``, ``COMPUPDATE``/``STATUPDATE``. Every object whose key starts
  with the prefix is loaded, read from the local S3. Anything else (MANIFEST, jsonpaths, AVRO, ...) fails.
- Not emulated: sessions (SessionId), EventBridge events (WithEvent is accepted and ignored), DbUser/SecretArn
  authorisation (ignored).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import gzip
import io
import itertools
import json
import logging
import math
import re
import threading
import time
import uuid

from local_platform.aws.compute import ComputeConfig
from local_platform.aws.compute.redshift_sql import (
    CopyCommand,
    TransactionControl,
    UnsupportedRedshiftSql,
    bind_parameters,
    commits_implicitly,
    split_statements,
    translate,
)

log = logging.getLogger("local_platform.aws.redshift_data")

RESULT_PAGE_ROWS = 1000  # Redshift pages results by size (about 100 MB); a row count keeps paging observable
RUNNING = ("SUBMITTED", "PICKED", "STARTED")
_LOCK = threading.RLock()  # guards every statement's state: request threads read what worker threads write
_QUERY_IDS = itertools.count(1)


def standin_database_name(namespace: str, identifier: str, database: str) -> str:
    """The PostgreSQL database that stands in for ``database`` on a cluster or workgroup."""
    return re.sub(r"[^a-z0-9]", "_", f"{namespace}_rs_{identifier}_{database}".lower())[:63]


class StatementError(Exception):
    """A statement failed; the message is what DescribeStatement reports as ``Error``."""


@dataclasses.dataclass
class Query:
    """One SQL text and what running it produced: a whole ExecuteStatement, or one sub-statement of a batch."""

    id: str
    query_string: str
    created_at: float = dataclasses.field(default_factory=time.time)
    updated_at: float = dataclasses.field(default_factory=time.time)
    status: str = "SUBMITTED"
    error: str | None = None
    duration_ns: int = -1
    redshift_query_id: int = 0
    has_result_set: bool = False
    result_rows: int = -1
    result_size: int = -1
    columns: list[dict] = dataclasses.field(default_factory=list)
    records: list[list[dict]] = dataclasses.field(default_factory=list)

    def set_status(self, status: str, error: str | None = None) -> None:
        self.status, self.updated_at = status, time.time()
        if error is not None:
            self.error = error

    def describe(self) -> dict:
        data = {
            "Id": self.id, "QueryString": self.query_string, "Status": self.status,
            "CreatedAt": self.created_at, "UpdatedAt": self.updated_at, "Duration": self.duration_ns,
            "HasResultSet": self.has_result_set, "ResultRows": self.result_rows, "ResultSize": self.result_size,
            "RedshiftQueryId": self.redshift_query_id,
        }
        if self.error:
            data["Error"] = self.error
        return data


@dataclasses.dataclass
class Statement(Query):
    """What ExecuteStatement or BatchExecuteStatement submitted, with its sub-statements for a batch."""

    is_batch: bool = False
    sub_statements: list[Query] = dataclasses.field(default_factory=list)
    database: str = ""
    cluster_identifier: str | None = None
    workgroup_name: str | None = None
    db_user: str | None = None
    secret_arn: str | None = None
    statement_name: str | None = None
    parameters: list[dict] | None = None
    redshift_pid: int = 0
    cancel_requested: bool = False
    connection: object = None
    done: threading.Event = dataclasses.field(default_factory=threading.Event)

    @property
    def queries(self) -> list[Query]:
        return self.sub_statements if self.is_batch else [self]

    def identity(self) -> dict:
        data = {"Id": self.id, "CreatedAt": self.created_at, "Database": self.database}
        for key, value in (("ClusterIdentifier", self.cluster_identifier), ("WorkgroupName", self.workgroup_name),
                           ("DbUser", self.db_user), ("SecretArn", self.secret_arn)):
            if value:
                data[key] = value
        return data

    def describe(self) -> dict:
        with _LOCK:
            data = {**super().describe(), **self.identity(), "RedshiftPid": self.redshift_pid,
                    "ResultFormat": "JSON"}
            if self.parameters:
                data["QueryParameters"] = self.parameters
            if self.is_batch:
                del data["QueryString"]
                data["SubStatements"] = [sub.describe() for sub in self.sub_statements]
            return data

    def listing(self) -> dict:
        with _LOCK:
            data = {"Id": self.id, "Status": self.status, "CreatedAt": self.created_at,
                    "UpdatedAt": self.updated_at, "IsBatchStatement": self.is_batch, "ResultFormat": "JSON"}
            if self.is_batch:
                data["QueryStrings"] = [sub.query_string for sub in self.sub_statements]
            else:
                data["QueryString"] = self.query_string
            for key, value in (("StatementName", self.statement_name), ("SecretArn", self.secret_arn),
                               ("QueryParameters", self.parameters)):
                if value:
                    data[key] = value
            return data


# --- running SQL on the stand-in database ---------------------------------------------------------------------


class Runner:
    """Runs statements on PostgreSQL; one per server process, made by :func:`install`."""

    def __init__(self, config: ComputeConfig):
        self.config = config
        self._created: set[str] = set()
        self._create_lock = threading.Lock()
        self._s3_client = None

    def start(self, statement: Statement) -> None:
        threading.Thread(target=self._run, args=(statement,), name=f"redshift-data-{statement.id[:8]}",
                         daemon=True).start()

    def _connect(self, statement: Statement):
        import psycopg2

        from local_platform.postgres import create_database, database_dsn

        if not self.config.postgres_dsn:
            raise StatementError("ERROR: the local Redshift stand-in has no PostgreSQL server "
                                 "(start the server with LOCAL_AWS_POSTGRES_DSN or --postgres-dsn)")
        identifier = statement.cluster_identifier or statement.workgroup_name
        name = standin_database_name(self.config.namespace, identifier, statement.database)
        with self._create_lock:
            if name not in self._created:
                try:
                    create_database(self.config.postgres_dsn, name)
                except psycopg2.errors.DuplicateDatabase:
                    pass  # created by another server on the same PostgreSQL meanwhile
                self._created.add(name)
        return psycopg2.connect(database_dsn(self.config.postgres_dsn, name), options="-c TimeZone=UTC -c DateStyle=ISO,MDY",
                                application_name=f"redshift-data {statement.id}")

    def _run(self, statement: Statement) -> None:
        import psycopg2

        with _LOCK:
            if statement.status == "ABORTED":
                statement.done.set()
                return
            statement.set_status("STARTED")
        started = time.monotonic()
        conn = None
        failed: Query | None = None
        try:
            conn = self._connect(statement)
            with _LOCK:
                statement.connection, statement.redshift_pid = conn, conn.get_backend_pid()
            for query in statement.queries:
                failed = query
                self._run_query(conn, statement, query)
            failed = None
            conn.commit()
            with _LOCK:
                statement.result_rows = sum(max(q.result_rows, 0) for q in statement.queries)
                statement.has_result_set = any(q.has_result_set for q in statement.queries)
                statement.result_size = sum(max(q.result_size, 0) for q in statement.queries)
                statement.set_status("FINISHED")
        except (psycopg2.Error, StatementError, UnsupportedRedshiftSql, OSError) as exc:
            if conn is not None and not conn.closed:
                with contextlib.suppress(psycopg2.Error):  # a lost connection has nothing left to roll back
                    conn.rollback()
            self._fail(statement, failed, exc)
        except Exception as exc:  # a bug here must still end the statement, never leave it STARTED
            log.exception("statement %s crashed", statement.id)
            self._fail(statement, failed, exc)
        finally:
            if conn is not None:
                conn.close()
            with _LOCK:
                statement.duration_ns = int((time.monotonic() - started) * 1e9)
                statement.connection = None
            statement.done.set()
            log.info("statement %s %s%s", statement.id, statement.status,
                     f": {statement.error}" if statement.error else "")

    def _fail(self, statement: Statement, failed: Query | None, exc: Exception) -> None:
        message = error_message(exc)
        with _LOCK:
            status = "ABORTED" if statement.cancel_requested else "FAILED"
            if statement.is_batch:
                for query in statement.sub_statements:
                    if query is failed:
                        query.set_status(status, message)
                    elif query.status in RUNNING:
                        query.set_status("ABORTED")
            statement.set_status(status, message)

    def _run_query(self, conn, statement: Statement, query: Query) -> None:
        with _LOCK:
            if statement.cancel_requested:
                raise StatementError("Query was cancelled")
            query.set_status("STARTED")
            query.redshift_query_id = next(_QUERY_IDS)
        started = time.monotonic()
        columns, records, rows = [], [], 0
        has_result_set = False
        for sql in split_statements(query.query_string):
            translated = translate(sql)
            if isinstance(translated, TransactionControl):
                # BEGIN inside our transaction is a no-op, as it is inside a Redshift batch.
                if translated.action == "commit":
                    conn.commit()
                elif translated.action == "rollback":
                    conn.rollback()
                has_result_set, rows = False, 0
            elif isinstance(translated, CopyCommand):
                rows = self._copy(conn, translated)
                has_result_set = False
            else:
                sql_text, values = bind_parameters(translated, statement.parameters)
                with conn.cursor() as cur:
                    cur.execute(sql_text, values)
                    has_result_set = cur.description is not None
                    if has_result_set:
                        columns, records = result_set(conn, cur.description, cur.fetchall())
                        rows = len(records)
                    else:
                        rows = max(cur.rowcount, 0)
                if commits_implicitly(sql_text):
                    conn.commit()
        with _LOCK:
            query.has_result_set = has_result_set
            query.columns, query.records = (columns, records) if has_result_set else ([], [])
            query.result_rows = rows
            query.result_size = len(json.dumps(records)) if has_result_set else 0
            query.duration_ns = int((time.monotonic() - started) * 1e9)
            query.set_status("FINISHED")

    # --- COPY from the local S3 ---

    def _s3(self):
        with self._create_lock:
            if self._s3_client is None:
                import boto3

                self._s3_client = boto3.client("s3", endpoint_url=self.config.endpoint_url,
                                               region_name=self.config.region)
            return self._s3_client

    def _copy(self, conn, command: CopyCommand) -> int:
        import psycopg2
        from botocore.exceptions import ClientError

        bucket, _, prefix = command.source[len("s3://"):].partition("/")
        s3 = self._s3()
        try:
            keys = [obj["Key"]
                    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
                    for obj in page.get("Contents", []) if not obj["Key"].endswith("/")]
        except ClientError as exc:
            raise StatementError(f"ERROR: cannot list {command.source}: {exc}") from exc
        if not keys:
            raise StatementError(f"ERROR: The specified S3 prefix '{prefix}' does not exist")
        with conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {command.table} LIMIT 0")
            table_columns = ['"' + column.name.replace('"', '""') + '"' for column in cur.description]
        columns = list(command.columns) or table_columns
        loaded = 0
        for key in keys:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            if command.gzip:
                body = gzip.decompress(body)
            try:
                loaded += load_object(conn, command, columns, body)
            except psycopg2.Error as exc:
                raise StatementError(
                    f"ERROR: Load into table '{command.table}' failed for s3://{bucket}/{key}: "
                    f"{error_message(exc).removeprefix('ERROR: ')}") from exc
        return loaded


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
            cur.copy_expert(f"COPY {command.table} ({column_sql}) FROM STDIN WITH ({options.decode()})",
                            io.BytesIO(body))
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
            f"targets {len(columns)} ({', '.join(columns)}); columnar COPY matches columns by position")
    return [[_sql_value(value) for value in row.values()] for row in table.to_pylist()]


def _sql_value(value):
    return json.dumps(value, default=str) if isinstance(value, (dict, list)) else value


# --- results --------------------------------------------------------------------------------------------------

_INTEGER_TYPES = {"int2", "int4", "int8", "oid"}
_FLOAT_TYPES = {"float4", "float8"}
_SIGNED_TYPES = _INTEGER_TYPES | _FLOAT_TYPES | {"numeric"}
_TEXT_TYPES = {"varchar", "bpchar", "text", "name", "char"}


def result_set(conn, description, rows) -> tuple[list[dict], list[list[dict]]]:
    """Column metadata and typed records, as GetStatementResult returns them."""
    with conn.cursor() as cur:
        cur.execute("SELECT oid::int, typname FROM pg_type WHERE oid = ANY(%s)",
                    ([column.type_code for column in description],))
        type_names = dict(cur.fetchall())
    columns = []
    for column in description:
        type_name = type_names.get(column.type_code, "unknown")
        columns.append({
            "name": column.name, "label": column.name, "typeName": type_name, "nullable": 1,
            "isSigned": type_name in _SIGNED_TYPES, "isCaseSensitive": type_name in _TEXT_TYPES,
            "isCurrency": False, "length": max(column.internal_size or 0, 0), "precision": column.precision or 0,
            "scale": column.scale or 0, "schemaName": "", "tableName": "",
        })
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


# --- the moto backend and responses -----------------------------------------------------------------------------

_runner: Runner | None = None


def _validation(message: str):
    from moto.redshiftdata.exceptions import ValidationException

    return ValidationException(message)


def _find(backend, statement_id: str) -> tuple[Statement, Query]:
    """The statement and the query an Id names (``<id>:<n>`` is the n-th sub-statement of a batch)."""
    from moto.redshiftdata.exceptions import ResourceNotFoundException
    from moto.redshiftdata.models import _validate_uuid

    _validate_uuid(statement_id)
    parent_id, _, number = statement_id.partition(":")
    statement = backend.statements.get(parent_id)
    if statement is None:
        raise ResourceNotFoundException()
    if not number:
        return statement, statement
    if not statement.is_batch or not 1 <= int(number) <= len(statement.sub_statements):
        raise ResourceNotFoundException()
    return statement, statement.sub_statements[int(number) - 1]


def _wait(statement: Statement, seconds) -> None:
    if seconds:
        statement.done.wait(min(float(seconds), 60.0))


def submit(backend, sqls: list[str], is_batch: bool, params: dict) -> Statement:
    cluster, workgroup = params.get("ClusterIdentifier"), params.get("WorkgroupName")
    if params.get("SessionId") or params.get("SessionKeepAliveSeconds"):
        raise _validation("Sessions (SessionId, SessionKeepAliveSeconds) are not supported by the local "
                          "Redshift stand-in")
    if bool(cluster) == bool(workgroup):
        raise _validation("Exactly one of ClusterIdentifier or WorkgroupName must be provided")
    if not params.get("Database"):
        raise _validation("Database is required")
    if params.get("ResultFormat", "JSON") != "JSON":
        raise _validation("ResultFormat CSV (GetStatementResultV2) is not supported by the local Redshift stand-in")
    if not sqls or not all(sql and sql.strip() for sql in sqls):
        raise _validation("Sql must not be empty")
    statement_id = str(uuid.uuid4())
    statement = Statement(
        id=statement_id, query_string=sqls[0] if not is_batch else "", is_batch=is_batch,
        database=params["Database"], cluster_identifier=cluster, workgroup_name=workgroup,
        db_user=params.get("DbUser"), secret_arn=params.get("SecretArn"),
        statement_name=params.get("StatementName"), parameters=params.get("Parameters"),
    )
    if is_batch:
        statement.sub_statements = [Query(id=f"{statement_id}:{n}", query_string=sql)
                                    for n, sql in enumerate(sqls, start=1)]
    with _LOCK:
        backend.statements[statement_id] = statement
    _runner.start(statement)
    _wait(statement, params.get("WaitTimeSeconds"))
    return statement


def _submitted(statement: Statement) -> str:
    with _LOCK:
        return json.dumps({**statement.identity(), "Status": statement.status,
                           "RedshiftPid": statement.redshift_pid, "HasResultSet": statement.has_result_set})


def _params(response) -> dict:
    return json.loads(response.body or "{}")


def execute_statement(self):
    params = _params(self)
    return 200, {}, _submitted(submit(self.redshiftdata_backend, [params.get("Sql")], False, params))


def batch_execute_statement(self):
    params = _params(self)
    return 200, {}, _submitted(submit(self.redshiftdata_backend, params.get("Sqls") or [], True, params))


def describe_statement(self):
    params = _params(self)
    statement, query = _find(self.redshiftdata_backend, params.get("Id", ""))
    _wait(statement, params.get("WaitTimeSeconds"))
    if query is statement:
        return 200, {}, json.dumps(statement.describe())
    with _LOCK:  # a sub-statement, described with its batch's identity
        return 200, {}, json.dumps({**statement.identity(), **query.describe(), "RedshiftPid": statement.redshift_pid})


def get_statement_result(self):
    params = _params(self)
    statement, query = _find(self.redshiftdata_backend, params.get("Id", ""))
    _wait(statement, params.get("WaitTimeSeconds"))
    with _LOCK:
        if query is statement and statement.is_batch:
            raise _validation("A batch statement has no result of its own: get the result of a sub-statement "
                              "(Id <id>:<n> from DescribeStatement's SubStatements)")
        if query.status != "FINISHED":
            raise _validation(f"Query does not have result. Query is in {query.status} state.")
        if not query.has_result_set:
            raise _validation("Query does not have result. Please check query status with DescribeStatement.")
        token = params.get("NextToken")
        try:
            offset = int(base64.urlsafe_b64decode(token).decode()) if token else 0
        except ValueError as exc:
            raise _validation("Invalid NextToken") from exc
        end = offset + RESULT_PAGE_ROWS
        page = {"Records": query.records[offset:end], "ColumnMetadata": query.columns,
                "TotalNumRows": len(query.records)}
        if end < len(query.records):
            page["NextToken"] = base64.urlsafe_b64encode(str(end).encode()).decode()
    return 200, {}, json.dumps(page)


def cancel_statement(self):
    statement, query = _find(self.redshiftdata_backend, _params(self).get("Id", ""))
    with _LOCK:
        if statement.status not in RUNNING:
            raise _validation(f"Could not cancel a query that is already in {statement.status} state "
                              f"with ID: {statement.id}")
        statement.cancel_requested = True
        if statement.status == "SUBMITTED":
            for query in statement.queries:
                query.set_status("ABORTED")
        elif statement.connection is not None:
            statement.connection.cancel()  # the worker sees QueryCanceled and reports ABORTED
    statement.done.wait(10)
    return 200, {}, json.dumps({"Status": True})


def list_statements(self):
    params = _params(self)
    status = params.get("Status", "ALL")
    name = params.get("StatementName")
    with _LOCK:  # submissions add to the dict meanwhile
        statements = list(self.redshiftdata_backend.statements.values())
    wanted = [
        statement for statement in statements
        if (status == "ALL" or statement.status == status)
        and (not name or (statement.statement_name or "").startswith(name))
        and all(not params.get(key) or params[key] == value for key, value in (
            ("Database", statement.database), ("ClusterIdentifier", statement.cluster_identifier),
            ("WorkgroupName", statement.workgroup_name)))
    ]
    wanted.sort(key=lambda s: s.created_at, reverse=True)
    size = min(int(params.get("MaxResults") or 100), 100)
    offset = int(params["NextToken"]) if params.get("NextToken") else 0
    body = {"Statements": [statement.listing() for statement in wanted[offset:offset + size]]}
    if offset + size < len(wanted):
        body["NextToken"] = str(offset + size)
    return 200, {}, json.dumps(body)


def install(config: ComputeConfig) -> None:
    """Make moto's Redshift Data API run statements on the PostgreSQL stand-in."""
    # pyarrow's first import in a statement's worker thread has crashed the process (a segfault in libarrow while
    # pyarrow.dataset initialised): import it here, on the main thread, once.
    import pyarrow.parquet  # noqa: F401
    from moto.redshiftdata.responses import RedshiftDataAPIServiceResponse

    global _runner
    _runner = Runner(config)
    for handler in (execute_statement, batch_execute_statement, describe_statement, get_statement_result,
                    cancel_statement, list_statements):
        setattr(RedshiftDataAPIServiceResponse, handler.__name__, handler)
