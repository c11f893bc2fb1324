"""The end-to-end demo: seed each pipeline's inputs, run its DAG for real, report what happened.

Each pipeline contributes one module here with a ``SCENARIO`` (what to seed, which dates to run,
how to count what landed). The runner (``local_platform.demo.runner``) owns everything the pipelines share:
the platform, running the DAGs through Airflow's scheduler and REST API, reading the alerts back and
printing the summary table.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import boto3


@dataclasses.dataclass
class DemoContext:
    endpoint: str
    postgres_dsn: str  # the server; see database_dsn()
    databases: dict[str, str]  # conn_id -> database name
    env: dict[str, str]  # Airflow's environment for the platform
    variables: dict  # the pipeline variables of airflow_settings.yaml, decoded
    namespace: str
    state_dir: Path

    def client(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def database_dsn(self, conn_id: str) -> str:
        from local_platform.postgres import database_dsn

        return database_dsn(self.postgres_dsn, self.databases[conn_id])


@dataclasses.dataclass
class PipelineReport:
    rows_loaded: int
    rows_quarantined: int
    outputs: list[str]


@dataclasses.dataclass
class DemoScenario:
    dag_id: str
    dates: list[str]
    prepare: Callable[[DemoContext], None]
    report: Callable[[DemoContext], PipelineReport]
    extra_env: Callable[[DemoContext], dict[str, str]] = lambda ctx: {}
    cleanup: Callable[[], None] = lambda: None
    # Run the dates as one Airflow backfill (POST /api/v2/backfills) instead of one triggered run each, with at most
    # this many runs at once.
    backfill: bool = False
    backfill_max_active_runs: int = 1


@dataclasses.dataclass
class DemoOutcome:
    """One pipeline's runs, each a dict: ``date``, ``run_id``, ``state``, ``task_states``, ``log`` (where to read
    it), ``event`` and ``summary`` (its success or no-data alert's: the notifying task's XCom)."""

    dag_id: str
    runs: list[dict]
    report: PipelineReport | None
    alerts: list[dict]
    wall_s: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(run["state"] == "success" for run in self.runs)


def drain_alerts(ctx: DemoContext, topic_name: str = "etl-pipeline-alerts") -> list[dict]:
    sqs = ctx.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=f"{topic_name}-inbox")["QueueUrl"]
    alerts = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            envelope = json.loads(message["Body"])
            alerts.append({"subject": envelope.get("Subject"), **json.loads(envelope["Message"])})
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return alerts


def format_summary(outcomes: list[DemoOutcome]) -> str:
    lines = [f"{'pipeline':<18} {'runs':<24} {'loaded':>8} {'quarantined':>11}  {'alerts':<20} {'wall s':>7}"]
    for outcome in outcomes:
        states = "/".join(run["state"] for run in outcome.runs) or "-"
        loaded = outcome.report.rows_loaded if outcome.report else "-"
        quarantined = outcome.report.rows_quarantined if outcome.report else "-"
        alerts = ",".join(sorted({alert.get("event", "?") for alert in outcome.alerts})) or "-"
        alerts = f"{len(outcome.alerts)} ({alerts})"
        lines.append(
            f"{outcome.dag_id:<18} {states:<24} {loaded:>8} {quarantined:>11}  {alerts:<20} {outcome.wall_s:>7.1f}"
        )
    lines.append("")
    for outcome in outcomes:
        if outcome.report:
            for output in outcome.report.outputs:
                lines.append(f"{outcome.dag_id}: {output}")
        if outcome.error:
            lines.append(f"{outcome.dag_id}: ERROR {outcome.error}")
        for run in outcome.runs:
            if run.get("summary") is not None:
                lines.append(run_summary_line(outcome.dag_id, run))
            if run["state"] != "success":
                failed = [task for task, state in run["task_states"].items() if state == "failed"]
                lines.append(f"{outcome.dag_id} {run['date']}: {run['state']} (failed: {failed}); log {run['log']}")
    return "\n".join(lines)


def run_summary_line(dag_id: str, run: dict) -> str:
    """A run's own account of itself: its success (or no-data) alert's summary, as the notifying task returned it."""
    return f"{dag_id} {run['date']} [{run.get('event') or '-'}]: {json.dumps(run['summary'], default=str)}"
