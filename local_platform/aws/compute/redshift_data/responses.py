"""Request handling: the Data API actions, parsed from moto's request and answered from the statements' state."""

from __future__ import annotations

import base64
import json
import uuid

from local_platform.aws.compute.redshift_data.models import RUNNING, STATE_LOCK, Query, Statement
from local_platform.aws.compute.redshift_data.runner import Runner

RESULT_PAGE_ROWS = 1000  # Redshift pages results by size (about 100 MB); a row count keeps paging observable
_runner: Runner | None = None  # one per server process, given by install


def use_runner(runner: Runner) -> None:
    global _runner
    _runner = runner


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
        raise _validation(
            "Sessions (SessionId, SessionKeepAliveSeconds) are not supported by the local Redshift stand-in"
        )
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
        id=statement_id,
        query_string=sqls[0] if not is_batch else "",
        is_batch=is_batch,
        database=params["Database"],
        cluster_identifier=cluster,
        workgroup_name=workgroup,
        db_user=params.get("DbUser"),
        secret_arn=params.get("SecretArn"),
        statement_name=params.get("StatementName"),
        parameters=params.get("Parameters"),
    )
    if is_batch:
        statement.sub_statements = [
            Query(id=f"{statement_id}:{n}", query_string=sql) for n, sql in enumerate(sqls, start=1)
        ]
    with STATE_LOCK:
        backend.statements[statement_id] = statement
    _runner.start(statement)
    _wait(statement, params.get("WaitTimeSeconds"))
    return statement


def _submitted(statement: Statement) -> str:
    with STATE_LOCK:
        return json.dumps(
            {
                **statement.identity(),
                "Status": statement.status,
                "RedshiftPid": statement.redshift_pid,
                "HasResultSet": statement.has_result_set,
            }
        )


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
    with STATE_LOCK:  # a sub-statement, described with its batch's identity
        return 200, {}, json.dumps({**statement.identity(), **query.describe(), "RedshiftPid": statement.redshift_pid})


def get_statement_result(self):
    params = _params(self)
    statement, query = _find(self.redshiftdata_backend, params.get("Id", ""))
    _wait(statement, params.get("WaitTimeSeconds"))
    with STATE_LOCK:
        if query is statement and statement.is_batch:
            raise _validation(
                "A batch statement has no result of its own: get the result of a sub-statement "
                "(Id <id>:<n> from DescribeStatement's SubStatements)"
            )
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
        page = {
            "Records": query.records[offset:end],
            "ColumnMetadata": query.columns,
            "TotalNumRows": len(query.records),
        }
        if end < len(query.records):
            page["NextToken"] = base64.urlsafe_b64encode(str(end).encode()).decode()
    return 200, {}, json.dumps(page)


def cancel_statement(self):
    statement, query = _find(self.redshiftdata_backend, _params(self).get("Id", ""))
    with STATE_LOCK:
        if statement.status not in RUNNING:
            raise _validation(
                f"Could not cancel a query that is already in {statement.status} state with ID: {statement.id}"
            )
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
    with STATE_LOCK:  # submissions add to the dict meanwhile
        statements = list(self.redshiftdata_backend.statements.values())
    wanted = [
        statement
        for statement in statements
        if (status == "ALL" or statement.status == status)
        and (not name or (statement.statement_name or "").startswith(name))
        and all(
            not params.get(key) or params[key] == value
            for key, value in (
                ("Database", statement.database),
                ("ClusterIdentifier", statement.cluster_identifier),
                ("WorkgroupName", statement.workgroup_name),
            )
        )
    ]
    wanted.sort(key=lambda s: s.created_at, reverse=True)
    size = min(int(params.get("MaxResults") or 100), 100)
    offset = int(params["NextToken"]) if params.get("NextToken") else 0
    body = {"Statements": [statement.listing() for statement in wanted[offset : offset + size]]}
    if offset + size < len(wanted):
        body["NextToken"] = str(offset + size)
    return 200, {}, json.dumps(body)


HANDLERS = (
    execute_statement,
    batch_execute_statement,
    describe_statement,
    get_statement_result,
    cancel_statement,
    list_statements,
)
