"""SNS alerts for every pipeline: the provider's ``SnsNotifier``, with the message built in Python from the task's
context, as JSON so that a subscriber (an SQS queue locally, e-mail or chat on AWS) can read it field by field.

The topic comes from the ``alerts_topic_arn`` Airflow variable, rendered when the alert is sent, so parsing a DAG
never touches the metadata database. A success alert's ``summary`` is the notifying task's own return value
(its XCom), unless ``summary_task`` names another task: no hand-typed template to go stale when a task is renamed.
"""

from __future__ import annotations

import json
from typing import Any

from airflow.providers.amazon.aws.notifications.sns import SnsNotifier

TOPIC_ARN = "{{ var.value.alerts_topic_arn }}"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def alert_message(pipeline: str, event: str, context, summary_task: str | None = None) -> dict[str, Any]:
    """The alert as a dict: what ran, where to look, and the error (failures) or the run's summary (others)."""
    ti = context["ti"]
    message = {
        "event": event,
        "pipeline": pipeline,
        "dag_id": context["dag"].dag_id,
        "run_id": context["run_id"],
        "logical_date": _iso(context.get("logical_date")),
        "run_after": _iso(getattr(context["dag_run"], "run_after", None)),
        "task_id": ti.task_id,
        "try_number": ti.try_number,
        "log_url": ti.log_url,
    }
    if event == "failure":
        message["error"] = str(context.get("exception"))
    else:
        message["summary"] = ti.xcom_pull(task_ids=summary_task or ti.task_id)
    return message


class PipelineAlert(SnsNotifier):
    """One pipeline's alert of one kind (``failure``, ``success``, ``no_data``, ...): subject ``[KIND] pipeline``,
    a JSON message (``alert_message``), and ``event``/``pipeline`` message attributes for subscription filters."""

    def __init__(self, pipeline: str, event: str, summary_task: str | None = None):
        super().__init__(target_arn=TOPIC_ARN, message="", subject=f"[{event.upper()}] {pipeline}",
                         message_attributes={"event": event, "pipeline": pipeline})
        self.pipeline, self.event, self.summary_task = pipeline, event, summary_task

    def notify(self, context) -> None:
        self.message = json.dumps(alert_message(self.pipeline, self.event, context, self.summary_task), default=str)
        super().notify(context)

    async def async_notify(self, context) -> None:
        self.message = json.dumps(alert_message(self.pipeline, self.event, context, self.summary_task), default=str)
        await super().async_notify(context)


def failure_notifier(pipeline: str) -> PipelineAlert:
    """Alert when a task has failed for good (after its retries)."""
    return PipelineAlert(pipeline, "failure")


def success_notifier(pipeline: str, event: str = "success", summary_task: str | None = None) -> PipelineAlert:
    """Alert when the run's last task succeeded, with its return value (or ``summary_task``'s) as the summary."""
    return PipelineAlert(pipeline, event, summary_task)
