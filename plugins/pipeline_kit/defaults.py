"""What every pipeline's DAG and tasks start from: retries with exponential backoff, failure alerts, and strict
templates (a misspelt setting fails its task instead of rendering as an empty string)."""

from __future__ import annotations

from datetime import timedelta

from jinja2 import StrictUndefined

from pipeline_kit.alerts import failure_notifier


def default_task_args(pipeline: str, owner: str = "data-platform", retries: int = 3) -> dict:
    return {
        "owner": owner,
        "retries": retries,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "on_failure_callback": [failure_notifier(pipeline)],
    }


def dag_defaults(pipeline: str) -> dict:
    """Keyword arguments of every pipeline's ``DAG(...)``."""
    return {"default_args": default_task_args(pipeline), "template_undefined": StrictUndefined}
