"""Default task arguments every pipeline starts from: retries with exponential backoff and alerts."""

from __future__ import annotations

from datetime import timedelta

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
