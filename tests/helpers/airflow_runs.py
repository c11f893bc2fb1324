"""Run whole DAGs in-process with ``dag.test()``: the same code the demo uses, polling ten times a second."""

from datetime import datetime

from local_platform import dag_runs
from local_platform.dag_runs import DagRunResult, load_dag, migrate_metadata_db

POLL_SECONDS = 0.1  # work on the local platform ends in seconds: the DAGs' 5-15 s intervals would be idle time

__all__ = ["DagRunResult", "load_dag", "migrate_metadata_db", "run_dag"]


def run_dag(dag_id: str, logical_date: datetime | None, conf: dict | None = None) -> DagRunResult:
    return dag_runs.run_dag(dag_id, logical_date, conf, poll_seconds=POLL_SECONDS)
