"""SNS alerts for every pipeline: the provider's ``SnsNotifier``, with the message built in Python from the task's
context, as JSON so that a subscriber (an SQS queue locally, e-mail or chat on AWS) can read it field by field.

The topic comes from the ``alerts_topic_arn`` Airflow variable, rendered when the alert is sent, so parsing a DAG
never touches the metadata database. A success alert's ``summary`` is the notifying task's own return value
(its XCom), unless ``summary_task`` names another task: no hand-typed template to go stale when a task is renamed.

Two failures have their own event: a sensor that timed out is ``stuck`` and says what it was waiting for
(``waiting_for``: bucket, key, prefix, table...), and a run still not done at its deadline is ``late``
(``alert_late_run``, the callback of the DAG's deadline: ``pipeline_kit.defaults.dag_defaults``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from airflow.providers.amazon.aws.notifications.sns import SnsNotifier

TOPIC_ARN = "{{ var.value.alerts_topic_arn }}"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


# What a sensor waits for, by the attribute names of the provider's sensors (S3, Glue catalog, ...).
SENSOR_TARGET_FIELDS = (
    "bucket_name",
    "bucket_key",
    "prefix",
    "wildcard_match",
    "database_name",
    "table_name",
    "expression",
    "job_name",
    "crawler_name",
)


def sensor_target(task) -> dict[str, Any]:
    """What a sensor task was waiting for (its rendered fields) and how long it was allowed to wait."""
    target = {field: getattr(task, field) for field in SENSOR_TARGET_FIELDS if getattr(task, field, None) is not None}
    target["timeout_s"] = getattr(task, "timeout", None)
    return target


def _is_sensor_timeout(exception) -> bool:
    from airflow.providers.common.compat.sdk import AirflowSensorTimeout

    return isinstance(exception, AirflowSensorTimeout)


def run_cost(cost_spec: dict, context) -> dict[str, Any]:
    """What the run would have cost on AWS (``pipeline_kit.cost``), from its usage as AWS reports it
    (``pipeline_kit.usage``). A measurement that fails is stated in the alert instead of stopping it."""
    from pipeline_kit.cost import price_usage
    from pipeline_kit.usage import run_usage

    try:
        return price_usage(run_usage(cost_spec, context))
    except Exception as exc:  # the alert still goes out, saying why it has no cost
        return {"error": f"{type(exc).__name__}: {exc}"}


def alert_message(
    pipeline: str,
    event: str,
    context,
    summary_task: str | None = None,
    charts_task: str | None = None,
    cost_spec: dict | None = None,
) -> dict[str, Any]:
    """The alert as a dict: what ran, where to look, and the error (failures) or the run's summary (others),
    with the run's charts (``charts_task``'s return value) and AWS cost (measured as ``cost_spec`` says).
    A sensor's timeout is the event ``stuck``, with what the sensor was waiting for."""
    ti = context["ti"]
    exception = context.get("exception")
    if event == "failure" and _is_sensor_timeout(exception):
        event = "stuck"
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
    if event in ("failure", "stuck"):
        message["error"] = str(exception)
        if event == "stuck":
            message["waiting_for"] = sensor_target(ti.task)
    else:
        message["summary"] = ti.xcom_pull(task_ids=summary_task or ti.task_id)
        if charts_task:
            message["charts"] = ti.xcom_pull(task_ids=charts_task)
        if cost_spec is not None:
            message["cost"] = run_cost(cost_spec, context)
    return message


class PipelineAlert(SnsNotifier):
    """One pipeline's alert of one kind (``failure``, ``success``, ``no_data``, ...): subject ``[KIND] pipeline``,
    a JSON message (``alert_message``), and ``event``/``pipeline`` message attributes for subscription filters.
    ``cost_spec`` holds templates (resource names from the pipeline's settings), rendered as the alert is sent."""

    template_fields = (*SnsNotifier.template_fields, "cost_spec")

    def __init__(
        self,
        pipeline: str,
        event: str,
        summary_task: str | None = None,
        charts_task: str | None = None,
        cost_spec: dict | None = None,
    ):
        super().__init__(
            target_arn=TOPIC_ARN,
            message="",
            subject=f"[{event.upper()}] {pipeline}",
            message_attributes={"event": event, "pipeline": pipeline},
        )
        self.pipeline, self.event, self.summary_task = pipeline, event, summary_task
        self.charts_task, self.cost_spec = charts_task, cost_spec

    def _prepare(self, context) -> None:
        message = alert_message(self.pipeline, self.event, context, self.summary_task, self.charts_task, self.cost_spec)
        self.message = json.dumps(message, default=str)
        self.subject = f"[{message['event'].upper()}] {self.pipeline}"
        self.message_attributes = {"event": message["event"], "pipeline": self.pipeline}

    def notify(self, context) -> None:
        self._prepare(context)
        super().notify(context)

    async def async_notify(self, context) -> None:
        self._prepare(context)
        await super().async_notify(context)


def failure_notifier(pipeline: str) -> PipelineAlert:
    """Alert when a task has failed for good (after its retries)."""
    return PipelineAlert(pipeline, "failure")


def success_notifier(
    pipeline: str,
    event: str = "success",
    summary_task: str | None = None,
    charts_task: str | None = None,
    cost_spec: dict | None = None,
) -> PipelineAlert:
    """Alert when the run's last task succeeded, with its return value (or ``summary_task``'s) as the summary,
    the charts ``charts_task`` drew and the run's AWS cost measured as ``cost_spec`` says (``pipeline_kit.usage``)."""
    return PipelineAlert(pipeline, event, summary_task, charts_task, cost_spec)


def late_message(pipeline: str, must_finish_within_s: float, context: dict) -> dict[str, Any]:
    """The ``late`` alert: the run that is not done by its deadline, where it stands and what the deadline was.
    ``context`` is what Airflow hands a deadline callback: the run (as the REST API shows it) and the deadline."""
    run = context["dag_run"]
    return {
        "event": "late",
        "pipeline": pipeline,
        "dag_id": run.get("dag_id"),
        "run_id": run.get("dag_run_id") or run.get("run_id"),
        "logical_date": run.get("logical_date"),
        "queued_at": run.get("queued_at"),
        "state": run.get("state"),
        "deadline": str(context["deadline"]["deadline_time"]),
        "must_finish_within_s": must_finish_within_s,
    }


async def alert_late_run(pipeline: str, must_finish_within_s: float, context: dict) -> dict[str, Any]:
    """Deadline callback (run by the triggerer when a run misses its deadline): send the ``late`` alert."""
    from airflow.providers.amazon.aws.hooks.sns import SnsHook
    from airflow.sdk import Variable

    message = late_message(pipeline, must_finish_within_s, context)
    topic_arn = await asyncio.to_thread(Variable.get, "alerts_topic_arn")
    await SnsHook().apublish_to_target(
        target_arn=topic_arn,
        message=json.dumps(message, default=str),
        subject=f"[LATE] {pipeline}",
        message_attributes={"event": "late", "pipeline": pipeline},
    )
    return message
