"""SNS alerts for every pipeline, sent by Airflow notifiers (no hand-written boto3).

The topic comes from the ``alerts_topic_arn`` Airflow variable, rendered when the alert is sent, so
parsing a DAG never touches the metadata database. Messages are JSON so that a subscriber (an SQS
queue locally, e-mail or chat on AWS) can read them back field by field.
"""

from __future__ import annotations

from airflow.providers.amazon.aws.notifications.sns import SnsNotifier

TOPIC_ARN = "{{ var.value.alerts_topic_arn }}"

# Jinja builds a dict and serialises it with tojson so that quotes in error text cannot break the JSON.
_COMMON_FIELDS = (
    '"pipeline": "{pipeline}", '
    '"dag_id": dag.dag_id, '
    '"run_id": run_id, '
    '"logical_date": (logical_date.isoformat() if logical_date else none), '
    '"run_after": (dag_run.run_after.isoformat() if dag_run.run_after else none), '
    '"task_id": ti.task_id, '
    '"try_number": ti.try_number, '
    '"log_url": ti.log_url'
)


def failure_notifier(pipeline: str) -> SnsNotifier:
    """Alert when a task has failed for good (after its retries)."""
    fields = _COMMON_FIELDS.format(pipeline=pipeline)
    message = '{{ {"event": "failure", ' + fields + ', "error": (exception | string)} | tojson }}'
    return SnsNotifier(
        target_arn=TOPIC_ARN,
        subject=f"[FAILED] {pipeline}",
        message=message,
        message_attributes={"event": "failure", "pipeline": pipeline},
    )


def success_notifier(pipeline: str, summary: str = "{{ none }}", event: str = "success") -> SnsNotifier:
    """Alert when the run's last task succeeded; ``summary`` is a template rendering run facts (counts)."""
    fields = _COMMON_FIELDS.format(pipeline=pipeline)
    inner_summary = summary.strip()
    if inner_summary.startswith("{{") and inner_summary.endswith("}}"):
        inner_summary = inner_summary[2:-2].strip()
    else:
        inner_summary = repr(inner_summary)
    message = "{{ {" + f'"event": "{event}", ' + fields + f', "summary": ({inner_summary})' + "} | tojson }}"
    return SnsNotifier(
        target_arn=TOPIC_ARN,
        subject=f"[{event.upper()}] {pipeline}",
        message=message,
        message_attributes={"event": event, "pipeline": pipeline},
    )
