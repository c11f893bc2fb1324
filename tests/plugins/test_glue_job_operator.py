"""GlueJobRunOperator against real job runs on the local platform: a data failure fails at once with its cause,
any other failure is retried, and the failure alert carries the job's own message either way."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from tests.helpers.alerts import drain_alerts
from tests.platform.compute_dags import run_test_dag

pytestmark = [pytest.mark.dag_run]

FIXTURES = Path(__file__).resolve().parents[1] / "platform" / "fixtures" / "glue"
GLUE_IO = Path(__file__).resolve().parents[2] / "include" / "glue" / "glue_io.py"
ROLE = "arn:aws:iam::123456789012:role/glue-operator-test"  # Glue records it; the local runner needs no role


@pytest.fixture
def job_bucket(local_aws, stacks, airflow_settings):
    """A bucket holding the fixture scripts and glue_io.py; the stacks give the alerts topic and its inbox."""
    bucket = f"glue-op-{uuid.uuid4().hex[:8]}"
    s3 = local_aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    for script in ("data_error.py", "fails.py"):
        s3.upload_file(str(FIXTURES / script), bucket, f"scripts/{script}")
    s3.upload_file(str(GLUE_IO), bucket, "scripts/glue_io.py")
    drain_alerts(local_aws)
    return bucket


def run_job(local_aws, bucket: str, script: str, script_args: dict) -> tuple[str, list[dict]]:
    """Run ``script`` as a Glue job in a one-task DAG (one retry, 1 s apart); return the final task state and
    the job's runs."""
    import pendulum
    from airflow.sdk import DAG
    from pipeline_kit.defaults import default_task_args
    from pipeline_kit.glue import GlueJobRunOperator

    job = f"glue-op-{uuid.uuid4().hex[:8]}"
    local_aws.client("glue").create_job(
        Name=job,
        Role=ROLE,
        GlueVersion="5.0",
        Command={"Name": "glueetl", "ScriptLocation": f"s3://{bucket}/scripts/{script}"},
        DefaultArguments={"--extra-py-files": f"s3://{bucket}/scripts/glue_io.py"},
    )
    args = {
        **default_task_args("glue_operator_test"),
        "retries": 1,
        "retry_delay": timedelta(seconds=1),
        "retry_exponential_backoff": False,
    }
    with DAG(f"glue_op_{job[-8:]}", schedule=None, start_date=pendulum.datetime(2024, 1, 1), default_args=args) as dag:
        GlueJobRunOperator(task_id="run_job", job_name=job, script_args=script_args, job_poll_interval=1)
    result = run_test_dag(dag)
    runs = local_aws.client("glue").get_job_runs(JobName=job)["JobRuns"]
    return result.task_states["run_job"], runs


def test_a_data_error_fails_at_once_with_the_jobs_cause_in_the_alert(local_aws, job_bucket):
    state, runs = run_job(local_aws, job_bucket, "data_error.py", {})

    assert state == "failed"
    assert len(runs) == 1, "a data failure is not retried"
    [alert] = [a for a in drain_alerts(local_aws) if a["event"] == "failure"]
    assert "DataError: reject rate 100.00% is above the maximum 5.00%: partition left unchanged" in alert["error"]
    assert alert["error"].startswith("Glue job glue-op-")


def test_any_other_failure_is_retried_and_alerts_with_its_cause(local_aws, job_bucket):
    state, runs = run_job(local_aws, job_bucket, "fails.py", {"--rows": "-1"})

    assert state == "failed"
    assert [run["JobRunState"] for run in runs] == ["FAILED", "FAILED"]
    [alert] = [a for a in drain_alerts(local_aws) if a["event"] == "failure"]
    assert "ValueError: row count cannot be negative: -1" in alert["error"]
