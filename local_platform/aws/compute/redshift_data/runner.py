"""Running a statement on its stand-in PostgreSQL database, in a thread of its own."""

from __future__ import annotations

import contextlib
import gzip
import itertools
import json
import logging
import threading
import time

from local_platform.aws.compute import ComputeConfig
from local_platform.aws.compute.redshift_data.copying import load_object
from local_platform.aws.compute.redshift_data.models import (
    RUNNING,
    STATE_LOCK,
    Query,
    Statement,
    StatementError,
    standin_database_name,
)
from local_platform.aws.compute.redshift_data.results import error_message, result_set
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
_QUERY_IDS = itertools.count(1)
# A Redshift query gets its WLM slot's share of a node's memory (hundreds of MB); with PostgreSQL's default 4 MB a
# day's sorts and hashes would spill to disk, where Redshift keeps them in memory.
QUERY_MEMORY = "256MB"


class Runner:
    """Runs statements on PostgreSQL; one per server process, made by :func:`install`."""

    def __init__(self, config: ComputeConfig):
        self.config = config
        self._created: set[str] = set()
        self._create_lock = threading.Lock()
        self._s3_client = None

    def start(self, statement: Statement) -> None:
        threading.Thread(
            target=self._run, args=(statement,), name=f"redshift-data-{statement.id[:8]}", daemon=True
        ).start()

    def _connect(self, statement: Statement):
        import psycopg2

        from local_platform.postgres import create_database, database_dsn

        if not self.config.postgres_dsn:
            raise StatementError(
                "ERROR: the local Redshift stand-in has no PostgreSQL server "
                "(start the server with LOCAL_AWS_POSTGRES_DSN or --postgres-dsn)"
            )
        identifier = statement.cluster_identifier or statement.workgroup_name
        name = standin_database_name(self.config.namespace, identifier, statement.database)
        with self._create_lock:
            if name not in self._created:
                try:
                    create_database(self.config.postgres_dsn, name)
                except psycopg2.errors.DuplicateDatabase:
                    pass  # created by another server on the same PostgreSQL meanwhile
                self._created.add(name)
        return psycopg2.connect(
            database_dsn(self.config.postgres_dsn, name),
            options=f"-c TimeZone=UTC -c DateStyle=ISO,MDY -c work_mem={QUERY_MEMORY}",
            application_name=f"redshift-data {statement.id}",
        )

    def _run(self, statement: Statement) -> None:
        import psycopg2

        with STATE_LOCK:
            if statement.status == "ABORTED":
                statement.done.set()
                return
            statement.set_status("STARTED")
        started = time.monotonic()
        conn = None
        failed: Query | None = None
        try:
            conn = self._connect(statement)
            with STATE_LOCK:
                statement.connection, statement.redshift_pid = conn, conn.get_backend_pid()
            for query in statement.queries:
                failed = query
                self._run_query(conn, statement, query)
            failed = None
            conn.commit()
            with STATE_LOCK:
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
            with STATE_LOCK:
                statement.duration_ns = int((time.monotonic() - started) * 1e9)
                statement.connection = None
            statement.done.set()
            log.info(
                "statement %s %s%s", statement.id, statement.status, f": {statement.error}" if statement.error else ""
            )

    def _fail(self, statement: Statement, failed: Query | None, exc: Exception) -> None:
        message = error_message(exc)
        with STATE_LOCK:
            status = "ABORTED" if statement.cancel_requested else "FAILED"
            if statement.is_batch:
                for query in statement.sub_statements:
                    if query is failed:
                        query.set_status(status, message)
                    elif query.status in RUNNING:
                        query.set_status("ABORTED")
            statement.set_status(status, message)

    def _run_query(self, conn, statement: Statement, query: Query) -> None:
        with STATE_LOCK:
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
        with STATE_LOCK:
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

                self._s3_client = boto3.client(
                    "s3", endpoint_url=self.config.endpoint_url, region_name=self.config.region
                )
            return self._s3_client

    def _copy(self, conn, command: CopyCommand) -> int:
        import psycopg2
        from botocore.exceptions import ClientError

        bucket, _, prefix = command.source[len("s3://") :].partition("/")
        s3 = self._s3()
        try:
            keys = [
                obj["Key"]
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
                for obj in page.get("Contents", [])
                if not obj["Key"].endswith("/")
            ]
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
                    f"{error_message(exc).removeprefix('ERROR: ')}"
                ) from exc
        return loaded
