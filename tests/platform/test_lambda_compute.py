"""Lambda Invoke on the local platform runs the real handler (local_platform/aws/compute/lambda_functions.py)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path

import pytest

from deploy.lambda_zips import zip_folder
from tests.helpers.platform import ensure_role

FIXTURES = Path(__file__).parent / "fixtures" / "lambda"
ROLE = "arn:aws:iam::123456789012:role/lambda-compute-test"


@pytest.fixture(scope="module")
def deploy(local_aws):
    """deploy(fixture_folder, timeout=..., environment=...) -> function name, created from a zip like provisioning."""
    ensure_role(local_aws, ROLE)
    client = local_aws.client("lambda")

    def deploy(folder: str, timeout: int = 30, environment: dict | None = None) -> str:
        name = f"{folder.replace('_', '-')}-{uuid.uuid4().hex[:6]}"
        client.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=ROLE,
            Handler=f"{folder}.handler",
            Code={"ZipFile": zip_folder(FIXTURES / folder)},
            Timeout=timeout,
            MemorySize=256,
            Environment={"Variables": environment or {}},
        )
        return name

    return deploy


def invoke(local_aws, name: str, event: dict, **kwargs) -> tuple[dict, object]:
    response = local_aws.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event), **kwargs)
    return response, json.loads(response["Payload"].read() or "null")


def test_invoke_runs_handler_with_its_environment_context_and_the_local_endpoint(local_aws, deploy):
    name = deploy("echo_context", timeout=30, environment={"GREETING": "xin chao"})
    local_aws.client("s3").create_bucket(Bucket="lambda-compute-echo")

    response, payload = invoke(local_aws, name, {"bucket": "lambda-compute-echo", "n": 1})

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert payload["event"] == {"bucket": "lambda-compute-echo", "n": 1}
    assert payload["greeting"] == "xin chao"
    assert payload["endpoint"] == local_aws.endpoint
    assert payload["region"] == "us-east-1"
    assert payload["function_name"] == name
    assert payload["invoked_function_arn"].endswith(f":function:{name}")
    assert payload["memory_limit_in_mb"] == "256"
    assert payload["log_group_name"] == f"/aws/lambda/{name}"
    assert len(payload["aws_request_id"]) == 36
    assert 25_000 < payload["remaining_ms"] <= 30_000
    body = local_aws.client("s3").get_object(Bucket="lambda-compute-echo", Key="from-lambda.txt")["Body"].read()
    assert body == b"written by handler"


def test_handler_exception_returns_unhandled_error_with_type_message_and_stack(local_aws, deploy):
    name = deploy("raises")

    response, payload = invoke(local_aws, name, {"amount": "twelve"})

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "could not convert string to float: 'twelve'"
    assert any("parse_amount" in frame for frame in payload["stackTrace"])


def test_handler_past_its_timeout_is_stopped_with_the_aws_timeout_error(local_aws, deploy):
    name = deploy("sleeps", timeout=1)

    started = time.monotonic()
    response, payload = invoke(local_aws, name, {"seconds": 20})

    assert time.monotonic() - started < 10
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert payload["errorMessage"].endswith("Task timed out after 1.00 seconds")


def test_payload_that_is_not_json_is_rejected_without_running_the_handler(local_aws, deploy):
    name = deploy("echo_context")
    client = local_aws.client("lambda")

    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName=name, Payload=b"{not json")

    assert not (local_aws.state_dir / "lambda" / name).exists()


def test_logs_reach_the_tail_a_file_and_cloudwatch(local_aws, deploy):
    name = deploy("raises")

    response, payload = invoke(local_aws, name, {"amount": "x"}, LogType="Tail")

    tail = base64.b64decode(response["LogResult"]).decode()
    assert "about to parse x" in tail
    assert "[ERROR] ValueError: could not convert string to float: 'x'" in tail
    assert "REPORT RequestId:" in tail
    files = list((local_aws.state_dir / "lambda" / name).glob("*.log"))
    assert len(files) == 1 and "about to parse x" in files[0].read_text()
    logs = local_aws.client("logs")
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    messages = [event["message"] for event in events]
    assert "about to parse x" in messages
    assert any(message.startswith("END RequestId:") for message in messages)


def test_event_invocation_returns_at_once_and_runs_the_handler_in_the_background(local_aws, deploy):
    name = deploy("echo_context")
    local_aws.client("s3").create_bucket(Bucket="lambda-compute-async")

    response = local_aws.client("lambda").invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps({"bucket": "lambda-compute-async"})
    )

    assert response["StatusCode"] == 202
    s3 = local_aws.client("s3")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        keys = [item["Key"] for item in s3.list_objects_v2(Bucket="lambda-compute-async").get("Contents", [])]
        if keys:
            break
        time.sleep(0.2)
    assert keys == ["from-lambda.txt"]


@pytest.mark.dag_run
def test_lambda_invoke_operator_returns_the_handler_result_and_fails_on_a_function_error(
    local_aws, deploy, airflow_settings
):
    from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator
    from airflow.sdk import DAG

    from tests.platform.compute_dags import run_test_dag

    ok_name, failing_name = deploy("echo_context"), deploy("raises")
    with DAG(dag_id=f"lambda_compute_{uuid.uuid4().hex[:6]}", schedule=None, default_args={"retries": 0}) as dag:
        LambdaInvokeFunctionOperator(
            task_id="invoke_ok", function_name=ok_name, payload=json.dumps({"n": 7}), log_type="Tail"
        )
        LambdaInvokeFunctionOperator(
            task_id="invoke_failing", function_name=failing_name, payload=json.dumps({"amount": "abc"})
        )

    run = run_test_dag(dag)

    assert run.task_states == {"invoke_ok": "success", "invoke_failing": "failed"}
    result = run.xcom("invoke_ok")  # the operator returns the payload text; XCom reads it back as JSON
    assert result["event"] == {"n": 7}
    assert result["function_name"] == ok_name
