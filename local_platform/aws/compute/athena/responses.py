"""The Athena API over the local engine: moto's AthenaResponse handlers for query executions replaced (moto
answers them with canned rows), ``BatchGetQueryExecution``, ``GetTableMetadata`` and ``ListTableMetadata`` added,
and ``GetDatabase``/``ListDatabases`` of AwsDataCatalog answered from the Glue catalog, as on AWS."""

from __future__ import annotations

import base64
import json

from local_platform.aws.compute import ComputeConfig, patch
from local_platform.aws.compute.athena import models
from local_platform.aws.compute.athena.catalog import Catalog, folder
from local_platform.aws.compute.athena.models import LOCK, QueryExecution, Runner

MAX_RESULTS = 1000  # GetQueryResults
MAX_LIST = 50  # ListQueryExecutions, BatchGetQueryExecution

_runner: Runner | None = None
_tokens: dict[str, str] = {}  # ClientRequestToken -> QueryExecutionId (StartQueryExecution is idempotent)


def _invalid(message: str):
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("InvalidRequestException", message)


def _metadata_error(message: str):
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("MetadataException", message)


def _execution(response, execution_id: str | None) -> QueryExecution:
    execution = response.athena_backend.executions.get(execution_id or "")
    if not isinstance(execution, QueryExecution):
        raise _invalid(f"QueryExecution {execution_id} was not found")
    return execution


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except ValueError as exc:
        raise _invalid("Invalid NextToken") from exc


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def _output_location(response, workgroup_name: str, requested: dict) -> tuple[str, dict]:
    """Where results go: the request's OutputLocation unless the workgroup enforces its own."""
    workgroup = response.athena_backend.work_groups.get(workgroup_name)
    if workgroup is None:
        raise _invalid(f"WorkGroup {workgroup_name} is not found.")
    configuration = workgroup.configuration or {}
    from_workgroup = dict(configuration.get("ResultConfiguration") or {})
    enforced = configuration.get("EnforceWorkGroupConfiguration", True)
    chosen = (
        {**requested, **from_workgroup}
        if enforced and from_workgroup.get("OutputLocation")
        else {**from_workgroup, **requested}
    )
    location = chosen.get("OutputLocation")
    if not location:
        raise _invalid(
            "No output location provided. An output location is required either through the Workgroup "
            "result configuration setting or as an API input."
        )
    if not location.startswith("s3://"):
        raise _invalid(f"Invalid output location {location}: it must be an s3:// URI")
    return location, {k: v for k, v in chosen.items() if k != "OutputLocation"}


def start_query_execution(self):
    query = self._get_param("QueryString") or ""
    if not query.strip():
        raise _invalid("QueryString must not be empty")
    token = self._get_param("ClientRequestToken")
    if token and token in _tokens:
        return json.dumps({"QueryExecutionId": _tokens[token]})
    workgroup = self._get_param("WorkGroup") or "primary"
    location, result_configuration = _output_location(self, workgroup, self._get_param("ResultConfiguration") or {})
    context = self._get_param("QueryExecutionContext") or {}
    execution = QueryExecution(
        query=query,
        workgroup=workgroup,
        output_location="",
        database=context.get("Database"),
        catalog=context.get("Catalog"),
        parameters=self._get_param("ExecutionParameters"),
        result_configuration=result_configuration,
    )
    extension = (
        "txt"
        if execution.statement_type in ("DDL", "UTILITY") and (execution.substatement_type != "CREATE_TABLE_AS_SELECT")
        else "csv"
    )
    execution.output_location = folder(location) + f"{execution.id}.{extension}"
    with LOCK:
        self.athena_backend.executions[execution.id] = execution
        if token:
            _tokens[token] = execution.id
    _runner.submit(execution, self.current_account, self.region)
    return json.dumps({"QueryExecutionId": execution.id})


def get_query_execution(self):
    execution = _execution(self, self._get_param("QueryExecutionId"))
    return json.dumps({"QueryExecution": execution.describe()})


def batch_get_query_execution(self):
    ids = self._get_param("QueryExecutionIds") or []
    if not 1 <= len(ids) <= MAX_LIST:
        raise _invalid(f"QueryExecutionIds must hold between 1 and {MAX_LIST} ids")
    found, missing = [], []
    for execution_id in ids:
        execution = self.athena_backend.executions.get(execution_id)
        if isinstance(execution, QueryExecution):
            found.append(execution.describe())
        else:
            missing.append(
                {
                    "QueryExecutionId": execution_id,
                    "ErrorCode": "INVALID_INPUT",
                    "ErrorMessage": f"QueryExecution {execution_id} was not found",
                }
            )
    return json.dumps({"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing})


def list_query_executions(self):
    workgroup = self._get_param("WorkGroup") or "primary"
    if workgroup not in self.athena_backend.work_groups:
        raise _invalid(f"WorkGroup {workgroup} is not found.")
    size = int(self._get_param("MaxResults") or MAX_LIST)
    if not 0 < size <= MAX_LIST:
        raise _invalid(f"MaxResults must be between 1 and {MAX_LIST}")
    with LOCK:
        executions = [
            e
            for e in self.athena_backend.executions.values()
            if isinstance(e, QueryExecution) and e.workgroup == workgroup
        ]
    executions.sort(key=lambda e: e.submitted, reverse=True)
    offset = _offset(self._get_param("NextToken"))
    body = {"QueryExecutionIds": [e.id for e in executions[offset : offset + size]]}
    if offset + size < len(executions):
        body["NextToken"] = _token(offset + size)
    return json.dumps(body)


def get_query_results(self):
    execution = _execution(self, self._get_param("QueryExecutionId"))
    size = int(self._get_param("MaxResults") or MAX_RESULTS)
    if not 0 < size <= MAX_RESULTS:
        raise _invalid(
            f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy constraint: "
            f"Member must have value less than or equal to {MAX_RESULTS}"
        )
    with LOCK:
        state, result, reason = execution.state, execution.result, execution.state_change_reason
    if state in ("QUEUED", "RUNNING"):
        raise _invalid(f"Query has not yet finished. Current state: {state}")
    if state != "SUCCEEDED" or result is None:
        raise _invalid(
            f"Query did not finish successfully. Final query state: {state}" + (f"\n{reason}" if reason else "")
        )
    offset = _offset(self._get_param("NextToken"))
    body = {
        "UpdateCount": result.update_count or 0,
        "ResultSet": {"Rows": result.page(offset, size), "ResultSetMetadata": {"ColumnInfo": result.column_info}},
    }
    if offset + size < result.row_count:
        body["NextToken"] = _token(offset + size)
    return json.dumps(body)


def stop_query_execution(self):
    execution = _execution(self, self._get_param("QueryExecutionId"))
    _runner.stop(execution)
    return json.dumps({})


# ---- the catalog as Athena shows it ------------------------------------------------------------------------------


def _glue_catalog(response) -> Catalog:
    name = (response._get_param("CatalogName") or "AwsDataCatalog").lower()
    if name != "awsdatacatalog":
        raise _metadata_error(f"Catalog {name} is not supported by the local Athena (only AwsDataCatalog)")
    return Catalog(response.current_account, response.region)


def _table_metadata(catalog: Catalog, database: str, name: str) -> dict:
    table = catalog.table(database, name)
    fake = catalog._fake_table(database, name)
    return {
        "Name": table.name,
        "CreateTime": fake.created_time.timestamp(),
        "TableType": table.table_type,
        "Columns": [{"Name": n, "Type": t} for n, t in table.columns],
        "PartitionKeys": [{"Name": n, "Type": t} for n, t in table.partition_keys],
        "Parameters": {
            **table.parameters,
            "location": table.location or "",
            "inputformat": table.input_format,
            "outputformat": table.output_format,
            "serde.serialization.lib": table.serde,
            **{f"serde.param.{k}": v for k, v in table.serde_parameters.items()},
        },
    }


def get_database(self):
    catalog = _glue_catalog(self)
    name = self._get_param("DatabaseName") or ""
    if not catalog.database_exists(name):
        raise _metadata_error(f"Database {name} not found.")
    database = catalog._database(name)
    return json.dumps(
        {
            "Database": {
                "Name": database.name,
                "Description": database.input.get("Description", ""),
                "Parameters": database.input.get("Parameters") or {},
            }
        }
    )


def list_databases(self):
    catalog = _glue_catalog(self)
    names = catalog.database_names()
    offset, size = _offset(self._get_param("NextToken")), int(self._get_param("MaxResults") or 50)
    body = {"DatabaseList": [{"Name": n} for n in names[offset : offset + size]]}
    if offset + size < len(names):
        body["NextToken"] = _token(offset + size)
    return json.dumps(body)


def get_table_metadata(self):
    catalog = _glue_catalog(self)
    database, name = self._get_param("DatabaseName") or "", self._get_param("TableName") or ""
    if catalog.table(database, name) is None:
        raise _metadata_error(f"Table {name} not found in database {database}.")
    return json.dumps({"TableMetadata": _table_metadata(catalog, database, name)})


def list_table_metadata(self):
    catalog = _glue_catalog(self)
    database = self._get_param("DatabaseName") or ""
    if not catalog.database_exists(database):
        raise _metadata_error(f"Database {database} not found.")
    names = catalog.table_names(database)
    offset, size = _offset(self._get_param("NextToken")), int(self._get_param("MaxResults") or 50)
    body = {"TableMetadataList": [_table_metadata(catalog, database, n) for n in names[offset : offset + size]]}
    if offset + size < len(names):
        body["NextToken"] = _token(offset + size)
    return json.dumps(body)


def install(config: ComputeConfig) -> None:
    from moto.athena.responses import AthenaResponse

    global _runner
    _runner = models.Runner(config)
    patch(
        AthenaResponse,
        start_query_execution,
        get_query_execution,
        batch_get_query_execution,
        list_query_executions,
        get_query_results,
        stop_query_execution,
        get_database,
        list_databases,
        get_table_metadata,
        list_table_metadata,
    )
