"""The alert notifiers render JSON messages with the run's facts, whatever the error text contains."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pendulum
from jinja2.sandbox import SandboxedEnvironment
from pipeline_kit.alerts import failure_notifier, success_notifier
from pipeline_kit.defaults import default_task_args


def _context(logical_date):
    ti = SimpleNamespace(task_id="load_orders", try_number=3, log_url="http://127.0.0.1:8080/log")
    dag_run = SimpleNamespace(run_after=pendulum.datetime(2024, 5, 2, 1, tz="UTC"))
    return {
        "dag": SimpleNamespace(dag_id="retail_analytics"),
        "run_id": "scheduled__2024-05-01",
        "logical_date": logical_date,
        "dag_run": dag_run,
        "ti": ti,
        "exception": ValueError('bad "quoted" value\nsecond line'),
        "var": {"value": {"alerts_topic_arn": "arn:aws:sns:us-east-1:123456789012:alerts"}},
        "counts": {"loaded": 10, "rejected": 1},
    }


def _render(template: str, context: dict) -> str:
    return SandboxedEnvironment().from_string(template).render(**context)


def test_failure_message_is_json_with_task_try_and_error_text():
    notifier = failure_notifier("retail_analytics")
    context = _context(pendulum.datetime(2024, 5, 1, tz="UTC"))
    message = json.loads(_render(notifier.message, context))
    assert message == {
        "event": "failure",
        "pipeline": "retail_analytics",
        "dag_id": "retail_analytics",
        "run_id": "scheduled__2024-05-01",
        "logical_date": "2024-05-01T00:00:00+00:00",
        "run_after": "2024-05-02T01:00:00+00:00",
        "task_id": "load_orders",
        "try_number": 3,
        "log_url": "http://127.0.0.1:8080/log",
        "error": 'bad "quoted" value\nsecond line',
    }
    assert _render(notifier.target_arn, context) == "arn:aws:sns:us-east-1:123456789012:alerts"


def test_success_message_carries_the_summary_and_tolerates_manual_runs_without_logical_date():
    notifier = success_notifier("retail_analytics", summary="{{ counts }}")
    message = json.loads(_render(notifier.message, _context(None)))
    assert message["event"] == "success"
    assert message["logical_date"] is None
    assert message["summary"] == {"loaded": 10, "rejected": 1}


def test_default_task_args_retry_with_backoff_and_alert_on_failure():
    args = default_task_args("toll_plaza")
    assert args["retries"] >= 2 and args["retry_exponential_backoff"] is True
    assert args["max_retry_delay"] > args["retry_delay"]
    assert [type(cb).__name__ for cb in args["on_failure_callback"]] == ["SnsNotifier"]
