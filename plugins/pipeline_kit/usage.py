"""What a run used on AWS, as AWS's own APIs report it (the same calls on AWS and on the local platform), as the
usage records ``pipeline_kit.cost`` prices.

A DAG says what to measure in a spec (templates rendered when the alert is sent):

    {"glue_jobs": {"<task_id>": "<job name>"},           GetJobRun of the run id the task returned
     "lambda_functions": ["<function>"],                   the REPORT lines (billed duration) its log group got
                                                           since the run started, sized by GetFunctionConfiguration
     "redshift_workgroups": [{"workgroup": "<name>",       ListStatements since the run started: their durations
                              "base_rpu": "<base RPU>"}],
     "aurora_clusters": ["<cluster>"],                     started by the run: running since the run started
     "athena_tasks": ["<task_id>"]}                        GetQueryExecution of the query id the task returned
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

REPORT_LINE = re.compile(
    r"^REPORT RequestId: (?P<request_id>\S+)\s+Duration: [\d.]+ ms\s+"
    r"Billed Duration: (?P<billed_ms>\d+) ms"
)
# An active Aurora Serverless v2 instance runs at 0.5 ACU at least, even when its cluster may scale (pause) to 0.
ACTIVE_MIN_ACU = 0.5


def _ensure_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def glue_job_usage(job_name: str, run_id: str) -> dict:
    from airflow.providers.amazon.aws.hooks.glue import GlueJobHook

    glue = GlueJobHook(job_name=job_name).conn
    run = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
    job = glue.get_job(JobName=job_name)["Job"]
    return {
        "service": "glue_job",
        "resource": f"{job_name}/{run_id}",
        "execution_time_s": run.get("ExecutionTime", 0),
        "worker_type": run.get("WorkerType") or job.get("WorkerType"),
        "number_of_workers": run.get("NumberOfWorkers") or job.get("NumberOfWorkers"),
        "max_capacity": run.get("MaxCapacity") or job.get("MaxCapacity"),
        "dpu_seconds": run.get("DPUSeconds"),
        "execution_class": run.get("ExecutionClass") or job.get("ExecutionClass") or "STANDARD",
    }


def report_lines(messages: list[str]) -> list[dict]:
    """The Lambda REPORT lines among log messages: request id and billed milliseconds of each invocation."""
    return [
        {"request_id": match["request_id"], "billed_ms": int(match["billed_ms"])}
        for message in messages
        if (match := REPORT_LINE.match(message))
    ]


def lambda_usage(function_names: list[str], since: datetime) -> list[dict]:
    """The billed invocations of each function since ``since``, from its REPORT log lines (one client per
    service for them all: a success callback has ``[core] task_success_overtime``, 20 s, to finish)."""
    from airflow.providers.amazon.aws.hooks.lambda_function import LambdaHook
    from airflow.providers.amazon.aws.hooks.logs import AwsLogsHook

    if not function_names:
        return []
    lambdas, logs = LambdaHook().conn, AwsLogsHook().conn
    return [record for name in function_names for record in _function_usage(lambdas, logs, name, since)]


def _function_usage(lambdas, logs, function_name: str, since: datetime) -> list[dict]:
    config = lambdas.get_function_configuration(FunctionName=function_name)
    log_group = (config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{function_name}"
    messages, token = [], None
    while True:
        try:
            page = logs.filter_log_events(
                logGroupName=log_group,
                startTime=int(since.timestamp() * 1000),
                filterPattern='"REPORT RequestId"',
                **({"nextToken": token} if token else {}),
            )
        except logs.exceptions.ResourceNotFoundException:  # never invoked yet: no log group
            return []
        messages += [event["message"] for event in page.get("events", [])]
        token = page.get("nextToken")
        if not token:
            break
    architecture = (config.get("Architectures") or ["x86_64"])[0]
    return [
        {
            "service": "lambda",
            "resource": f"{function_name}/{report['request_id']}",
            "billed_duration_ms": report["billed_ms"],
            "memory_mb": config["MemorySize"],
            "architecture": architecture,
        }
        for report in report_lines(messages)
    ]


def redshift_usage(workgroup: str, base_rpu: int | str, since: datetime) -> dict:
    from airflow.providers.amazon.aws.hooks.redshift_data import RedshiftDataHook

    client = RedshiftDataHook().conn
    intervals, token = [], None
    while True:
        page = client.list_statements(
            WorkgroupName=workgroup, Status="ALL", MaxResults=100, **({"NextToken": token} if token else {})
        )
        for statement in page.get("Statements", []):
            created, updated = _ensure_utc(statement["CreatedAt"]), _ensure_utc(statement["UpdatedAt"])
            if created >= since:
                intervals.append([created.timestamp(), updated.timestamp()])
        token = page.get("NextToken")
        if not token:
            break
    return {"service": "redshift_serverless", "resource": workgroup, "intervals": intervals, "base_rpu": int(base_rpu)}


def aurora_usage(cluster: str, since: datetime, now: datetime) -> dict:
    from airflow.providers.amazon.aws.hooks.rds import RdsHook

    rds = RdsHook().conn
    described = rds.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"][0]
    instances = rds.describe_db_instances(Filters=[{"Name": "db-cluster-id", "Values": [cluster]}])["DBInstances"]
    instance_class = instances[0]["DBInstanceClass"] if instances else "db.serverless"
    scaling = described.get("ServerlessV2ScalingConfiguration") or {}
    return {
        "service": "aurora",
        "resource": cluster,
        "seconds": (now - since).total_seconds(),
        "instance_class": instance_class,
        "instances": max(len(instances), 1),
        "acu": max(float(scaling.get("MinCapacity") or 0), ACTIVE_MIN_ACU),
    }


def athena_usage(query_execution_ids: list[str]) -> list[dict]:
    """Bytes scanned by each query, read in batches of 50 (one request for a run's queries)."""
    from airflow.providers.amazon.aws.hooks.athena import AthenaHook

    if not query_execution_ids:
        return []
    athena = AthenaHook().conn
    records = []
    for start in range(0, len(query_execution_ids), 50):
        batch = athena.batch_get_query_execution(QueryExecutionIds=query_execution_ids[start : start + 50])
        records += [
            {
                "service": "athena",
                "resource": execution["QueryExecutionId"],
                "bytes_scanned": execution.get("Statistics", {}).get("DataScannedInBytes", 0),
            }
            for execution in batch["QueryExecutions"]
        ]
    return records


def run_usage(spec: dict, context) -> list[dict]:
    """The usage records of the run in ``context``, as ``spec`` (see the module docstring) says to measure."""
    ti = context["ti"]
    since = _ensure_utc(context["dag_run"].start_date)
    now = datetime.now(UTC)
    records: list[dict] = []
    for task_id, job_name in (spec.get("glue_jobs") or {}).items():
        if run_id := ti.xcom_pull(task_ids=task_id):
            records.append(glue_job_usage(job_name, run_id))
    records += lambda_usage(list(spec.get("lambda_functions") or []), since)
    for workgroup in spec.get("redshift_workgroups") or []:
        records.append(redshift_usage(workgroup["workgroup"], workgroup["base_rpu"], since))
    for cluster in spec.get("aurora_clusters") or []:
        records.append(aurora_usage(cluster, since, now))
    query_ids = [query_id for task_id in spec.get("athena_tasks") or [] if (query_id := ti.xcom_pull(task_ids=task_id))]
    records += athena_usage(query_ids)
    return records
