"""Run a whole DAG in-process with ``dag.test()`` (triggers run inline) and read back what happened.

    python -m local_platform.dag_runs DAG_ID [--date YYYY-MM-DD] [--conf JSON]

prints one JSON line: the run's state, each task's state and the run id.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import subprocess
import sys
from datetime import UTC, datetime

from local_platform.botocore_models import share_loaders
from local_platform.dag_test_wait import capped_waits
from local_platform.hook_caller import walk_frames
from local_platform.param_schemas import check_schemas_once
from local_platform.settings import PROJECT_ROOT


def migrate_metadata_db() -> None:
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True, cwd=PROJECT_ROOT
    )


def load_dag(dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    dag = bag.get_dag(dag_id)
    if dag is None:
        raise KeyError(f"no DAG {dag_id!r} in {PROJECT_ROOT / 'dags'}")
    return dag


@dataclasses.dataclass
class DagRunResult:
    state: str
    task_states: dict[str, str]
    run_id: str
    dag_id: str = ""

    def xcom(self, task_id: str, key: str = "return_value"):
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            query = session.query(XComModel).filter_by(run_id=self.run_id, task_id=task_id, key=key)
            if self.dag_id:
                query = query.filter_by(dag_id=self.dag_id)
            row = query.one_or_none()
            return None if row is None else XComModel.deserialize_value(row)


# Where operators and sensors keep how long they wait between two looks at a job, a crawl, a statement or a key;
# for those that also count their looks, where they keep the limit (and its default when unset).
POLL_ATTRIBUTES = ("poke_interval", "poll_interval", "job_poll_interval", "waiter_delay", "sleep_time")
ATTEMPT_LIMITS = {"waiter_delay": ("waiter_max_attempts", None), "sleep_time": ("max_polling_attempts", 120)}


def shorten_polls(dag, seconds: float) -> None:
    """Make every task of ``dag`` look again after at most ``seconds``: on the local platform work ends in
    seconds, and a DAG's AWS-sized intervals (5-15 s) would be most of a run's time. Only when it looks changes:
    what is waited for, and how long before giving up, are unchanged (a waiter gets more attempts)."""
    for task in dag.tasks:
        for attribute in POLL_ATTRIBUTES:
            value = getattr(task, attribute, None)
            if not isinstance(value, int | float) or value <= seconds:
                continue
            if attribute in ATTEMPT_LIMITS:
                limit, default = ATTEMPT_LIMITS[attribute]
                attempts = getattr(task, limit, None) or default
                if isinstance(attempts, int):
                    setattr(task, limit, math.ceil(attempts * value / seconds))
            setattr(task, attribute, seconds)
        api_kwargs = getattr(task, "redshift_data_api_kwargs", None)
        if isinstance(api_kwargs, dict) and api_kwargs.get("poll_interval", 0) > seconds:
            api_kwargs["poll_interval"] = seconds


def run_dag(
    dag_id: str, logical_date: datetime | None, conf: dict | None = None, poll_seconds: float | None = None
) -> DagRunResult:
    """Run the DAG with ``dag.test()``; with ``poll_seconds``, its tasks poll at most that far apart, and so does
    ``dag.test()`` itself when no task is ready."""
    # Every task's hooks run in this process: their models parsed once, their caller found without inspect.stack();
    # dag.test() serializes the whole bundle: each param schema checked once.
    share_loaders()
    walk_frames()
    check_schemas_once()
    return run_parsed_dag(load_dag(dag_id), logical_date, conf, poll_seconds)


def run_parsed_dag(
    dag, logical_date: datetime | None = None, conf: dict | None = None, poll_seconds: float | None = None
) -> DagRunResult:
    """``dag.test()`` of a DAG already parsed; with ``poll_seconds``, as ``run_dag`` says."""
    if poll_seconds is not None:
        shorten_polls(dag, poll_seconds)
    # dag.test() runs no scheduler to watch deadlines (its runs are never queued, so they get none), and Airflow
    # 3.3.1's dag.test() fails on a successful run of a DAG that declares one (it looks the deadline alerts up by
    # their definitions instead of their ids): its runs go without. Scheduled runs keep theirs.
    dag.deadline = None
    with capped_waits(poll_seconds) if poll_seconds is not None else contextlib.nullcontext():
        dag_run = dag.test(logical_date=logical_date, run_conf=conf)
    task_states = {
        ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]": str(ti.state).split(".")[-1].lower()
        for ti in dag_run.get_task_instances()
    }
    return DagRunResult(
        state=str(dag_run.state).split(".")[-1].lower(),
        task_states=task_states,
        run_id=dag_run.run_id,
        dag_id=dag.dag_id,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dag_id")
    parser.add_argument("--date", help="logical date YYYY-MM-DD (UTC midnight); omit for a manual run")
    parser.add_argument("--conf", default="{}", help="run conf as JSON")
    args = parser.parse_args(argv)
    logical_date = datetime.strptime(args.date, "%Y-%m-%d").replace(tzinfo=UTC) if args.date else None
    result = run_dag(args.dag_id, logical_date, json.loads(args.conf))
    print(json.dumps(dataclasses.asdict(result)), flush=True)
    return 0 if result.state == "success" else 1


if __name__ == "__main__":
    raise SystemExit(main())
