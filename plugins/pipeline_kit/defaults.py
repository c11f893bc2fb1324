"""What every pipeline's DAG and tasks start from: retries with exponential backoff, failure alerts, strict
templates (a misspelt setting fails its task instead of rendering as an empty string), and a deadline: a run not
done within ``must_finish_within`` of being queued sends a ``late`` alert (Airflow 3's deadline alerts, which
MWAA's Airflow 3.3.1 runs: the scheduler spots the miss, the triggerer sends the alert)."""

from __future__ import annotations

from datetime import timedelta

from jinja2 import StrictUndefined

from pipeline_kit.alerts import alert_late_run, failure_notifier
from pipeline_kit.settings import TEMPLATE_MACROS

# A daily pipeline that is not done a day after its run was queued is late unless its DAG says otherwise.
DEFAULT_MUST_FINISH_WITHIN = timedelta(hours=24)


def default_task_args(pipeline: str, owner: str = "data-platform", retries: int = 3) -> dict:
    return {
        "owner": owner,
        "retries": retries,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "on_failure_callback": [failure_notifier(pipeline)],
    }


def run_deadline(pipeline: str, must_finish_within: timedelta):
    """The run must be done within ``must_finish_within`` of being queued (scheduled, manual and backfill runs
    alike: a backfill of an old date is not late for being old), else the ``late`` alert goes out."""
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=must_finish_within,
        callback=AsyncCallback(
            alert_late_run, kwargs={"pipeline": pipeline, "must_finish_within_s": must_finish_within.total_seconds()}
        ),
    )


def dag_defaults(pipeline: str, must_finish_within: timedelta = DEFAULT_MUST_FINISH_WITHIN) -> dict:
    """Keyword arguments of every pipeline's ``DAG(...)``."""
    return {
        "default_args": default_task_args(pipeline),
        "template_undefined": StrictUndefined,
        "user_defined_macros": dict(TEMPLATE_MACROS),
        "deadline": run_deadline(pipeline, must_finish_within),
    }
