"""Alert messages are built in Python from the task's context: JSON whatever the error text holds, the summary
taken from the notifying task's own return value."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pendulum
from pipeline_kit.alerts import PipelineAlert, alert_message, failure_notifier, success_notifier
from pipeline_kit.defaults import default_task_args


class FakeTaskInstance(SimpleNamespace):
    """The parts of a task instance an alert reads; xcom_pull answers from ``xcoms`` by task id."""

    def xcom_pull(self, task_ids):
        return self.xcoms.get(task_ids)


def _context(logical_date, exception=None):
    ti = FakeTaskInstance(
        task_id="summarize_run",
        try_number=3,
        log_url="http://127.0.0.1:8080/log",
        xcoms={"summarize_run": {"loaded": 10, "quarantined": 1}, "load": {"read": 11}},
    )
    return {
        "dag": SimpleNamespace(dag_id="retail_analytics"),
        "run_id": "scheduled__2024-05-01",
        "logical_date": logical_date,
        "dag_run": SimpleNamespace(run_after=pendulum.datetime(2024, 5, 2, 1, tz="UTC")),
        "ti": ti,
        "exception": exception,
    }


def test_failure_message_carries_task_try_log_and_the_error_text():
    error = ValueError('bad "quoted" value\nsecond line')
    message = alert_message("retail_analytics", "failure", _context(pendulum.datetime(2024, 5, 1, tz="UTC"), error))

    assert message == {
        "event": "failure",
        "pipeline": "retail_analytics",
        "dag_id": "retail_analytics",
        "run_id": "scheduled__2024-05-01",
        "logical_date": "2024-05-01T00:00:00+00:00",
        "run_after": "2024-05-02T01:00:00+00:00",
        "task_id": "summarize_run",
        "try_number": 3,
        "log_url": "http://127.0.0.1:8080/log",
        "error": 'bad "quoted" value\nsecond line',
    }
    assert json.loads(json.dumps(message)) == message


def test_success_summary_is_the_tasks_own_return_value_or_a_named_tasks():
    own = alert_message("retail_analytics", "success", _context(None))
    named = alert_message("retail_analytics", "success", _context(None), summary_task="load")

    assert own["summary"] == {"loaded": 10, "quarantined": 1}
    assert own["logical_date"] is None  # a manual run
    assert named["summary"] == {"read": 11}


def test_notifiers_name_their_kind_in_subject_and_attributes():
    for notifier, event in [
        (failure_notifier("csv_lake"), "failure"),
        (success_notifier("csv_lake"), "success"),
        (success_notifier("csv_lake", event="no_data"), "no_data"),
    ]:
        assert isinstance(notifier, PipelineAlert)
        assert notifier.subject == f"[{event.upper()}] csv_lake"
        assert notifier.message_attributes == {"event": event, "pipeline": "csv_lake"}
        assert notifier.target_arn == "{{ var.value.alerts_topic_arn }}"


def test_default_task_args_retry_with_backoff_and_alert_on_failure():
    args = default_task_args("toll_plaza")
    assert args["retries"] >= 2 and args["retry_exponential_backoff"] is True
    assert args["max_retry_delay"] > args["retry_delay"]
    assert [(type(cb).__name__, cb.event) for cb in args["on_failure_callback"]] == [("PipelineAlert", "failure")]


def test_sensor_timeout_is_stuck_and_names_what_the_sensor_waited_for():
    from airflow.providers.common.compat.sdk import AirflowSensorTimeout

    context = _context(None, AirflowSensorTimeout("Sensor has timed out"))
    context["ti"].task = SimpleNamespace(
        bucket_name="raw", bucket_key="billing/dt=2024-05-01/*.csv", wildcard_match=True, timeout=43200
    )
    message = alert_message("csv_lake", "failure", context)

    assert message["event"] == "stuck"
    assert message["waiting_for"] == {
        "bucket_name": "raw",
        "bucket_key": "billing/dt=2024-05-01/*.csv",
        "wildcard_match": True,
        "timeout_s": 43200,
    }
    assert message["error"] == "Sensor has timed out"


def test_success_alert_carries_the_charts_and_the_cost_of_what_the_spec_measures():
    context = _context(None)
    context["dag_run"].start_date = pendulum.datetime(2024, 5, 2, 1, tz="UTC")
    context["ti"].xcoms["draw_chart"] = [{"title": "t", "png": "s3://b/c.png", "html": "s3://b/c.html"}]
    message = alert_message("retail_analytics", "success", context, charts_task="draw_chart", cost_spec={})

    assert message["charts"] == [{"title": "t", "png": "s3://b/c.png", "html": "s3://b/c.html"}]
    assert message["cost"]["total_usd"] == 0 and message["cost"]["items"] == []
    assert message["cost"]["region"] == "us-east-1"
