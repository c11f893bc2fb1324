"""Glue StartJobRun on the local platform runs the real script (local_platform/aws/compute/glue_jobs.py)."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.helpers.platform import start_local_aws
from tests.platform.glue_helpers import BUCKET, ROLE, create_job, read_json, upload_scripts, wait_for_run


@pytest.fixture(scope="module")
def glue(local_aws):
    return upload_scripts(local_aws)


def test_run_arguments_merge_over_default_arguments_and_extra_files_are_shipped(local_aws, glue):
    job = create_job(
        glue,
        "echo_args.py",
        DefaultArguments={
            "--extra-py-files": f"s3://{BUCKET}/scripts/glue_test_helper.py",
            "--extra-files": f"s3://{BUCKET}/scripts/lookup.txt",
            "--source": "default-source",
            "--mode": "default-mode",
        },
    )
    report_uri = f"s3://{BUCKET}/reports/{job}.json"

    run_id = glue.start_job_run(JobName=job, Arguments={"--mode": "run-mode", "--report_uri": report_uri})["JobRunId"]
    run = wait_for_run(glue, job, run_id)

    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    report = read_json(local_aws, report_uri)
    assert report["args"]["--JOB_NAME"] == job
    assert report["args"]["--JOB_RUN_ID"] == run_id
    assert report["args"]["--source"] == "default-source"
    assert report["args"]["--mode"] == "run-mode"
    assert report["helper"] == "hello from extra-py-files"
    assert report["extra_file"] == "lookup value"
    assert report["endpoint"] == local_aws.endpoint
    assert run["Arguments"]["--mode"] == "run-mode"
    assert run["StartedOn"] <= run["CompletedOn"]
    assert run["LogGroupName"] == "/aws-glue/jobs"


def test_failing_script_ends_failed_with_its_exception_as_error_message(glue):
    job = create_job(glue, "fails.py")

    run_id = glue.start_job_run(JobName=job, Arguments={"--rows": "-3"})["JobRunId"]
    run = wait_for_run(glue, job, run_id)

    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == "ValueError: row count cannot be negative: -3"
    assert "CompletedOn" in run


def test_missing_script_ends_failed_with_a_message(glue):
    job = create_job(glue, "not_uploaded.py")

    run = wait_for_run(glue, job, glue.start_job_run(JobName=job)["JobRunId"])

    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == f"FileNotFoundError: s3://{BUCKET}/scripts/not_uploaded.py does not exist"


def test_output_goes_to_a_log_file_and_to_cloudwatch_output_and_error_streams(local_aws, glue):
    job = create_job(glue, "fails.py")

    run_id = glue.start_job_run(JobName=job, Arguments={"--rows": "-1"})["JobRunId"]
    started_ms = int(wait_for_run(glue, job, run_id)["StartedOn"].timestamp() * 1000)

    log_file = local_aws.state_dir / "glue" / job / f"{run_id}.log"
    text = log_file.read_text()
    assert "checking input" in text and "ValueError: row count cannot be negative: -1" in text
    logs = local_aws.client("logs")

    def messages(group):
        # As GlueJobOperator(verbose=True) asks: the run's stream, from the run's start.
        events = logs.filter_log_events(logGroupName=group, logStreamNames=[run_id], startTime=started_ms)["events"]
        return [event["message"] for event in events]

    assert messages("/aws-glue/jobs/output") == ["checking input"]
    assert "some warning on stderr" in messages("/aws-glue/jobs/error")
    assert "ValueError: row count cannot be negative: -1" in messages("/aws-glue/jobs/error")


def test_second_concurrent_run_is_rejected_and_a_run_can_be_stopped(glue):
    job = create_job(glue, "sleeps.py", ExecutionProperty={"MaxConcurrentRuns": 1})
    first = glue.start_job_run(JobName=job, Arguments={"--seconds": "60"})["JobRunId"]

    with pytest.raises(glue.exceptions.ConcurrentRunsExceededException):
        glue.start_job_run(JobName=job, Arguments={"--seconds": "1"})
    stopped = glue.batch_stop_job_run(JobName=job, JobRunIds=[first])

    assert stopped["SuccessfulSubmissions"] == [{"JobName": job, "JobRunId": first}]
    assert wait_for_run(glue, job, first, timeout_s=20)["JobRunState"] == "STOPPED"
    second = glue.start_job_run(JobName=job, Arguments={"--seconds": "0"})["JobRunId"]
    assert wait_for_run(glue, job, second)["JobRunState"] == "SUCCEEDED"
    runs = glue.get_job_runs(JobName=job)["JobRuns"]
    assert {run["Id"]: run["JobRunState"] for run in runs} == {first: "STOPPED", second: "SUCCEEDED"}


@pytest.fixture
def glue_with_short_minutes(state_dir, postgres_server_dsn, monkeypatch):
    """A server of its own on which a Glue timeout minute lasts 3 s: Glue's smallest timeout is one minute."""
    monkeypatch.setenv("LOCAL_GLUE_SECONDS_PER_MINUTE", "3")
    server = start_local_aws(state_dir / f"aws-short-minutes-{uuid.uuid4().hex[:6]}", postgres_server_dsn, "tmin")
    yield upload_scripts(server)
    server.stop()


@pytest.mark.own_server
def test_run_longer_than_job_timeout_is_killed_and_ends_timeout(glue_with_short_minutes):
    glue = glue_with_short_minutes
    job = create_job(glue, "sleeps.py", Timeout=1)  # minutes: Glue's smallest timeout

    started = time.monotonic()
    run = wait_for_run(
        glue, job, glue.start_job_run(JobName=job, Arguments={"--seconds": "600"})["JobRunId"], timeout_s=120
    )

    assert run["JobRunState"] == "TIMEOUT"
    assert 3 <= time.monotonic() - started < 60
    assert run["ErrorMessage"] == "Job run timed out after 1 minutes"


def test_update_job_overwrites_the_definition(glue):
    job = create_job(glue, "fails.py", DefaultArguments={"--rows": "-1"})

    glue.update_job(
        JobName=job,
        JobUpdate={
            "Role": ROLE,
            "Command": {"Name": "glueetl", "ScriptLocation": f"s3://{BUCKET}/scripts/sleeps.py"},
            "DefaultArguments": {"--seconds": "0"},
        },
    )

    definition = glue.get_job(JobName=job)["Job"]
    assert definition["Command"]["ScriptLocation"].endswith("/sleeps.py")
    assert definition["DefaultArguments"] == {"--seconds": "0"}
    assert wait_for_run(glue, job, glue.start_job_run(JobName=job)["JobRunId"])["JobRunState"] == "SUCCEEDED"


@pytest.mark.spark
def test_pyspark_script_reads_s3_transforms_and_writes_results(local_aws, glue):
    s3 = local_aws.client("s3")
    s3.put_object(Bucket=BUCKET, Key="sales/input.csv", Body=b"category,amount\nfruit,3\nveg,5\nfruit,4\n")
    job = create_job(
        glue, "spark_totals.py", DefaultArguments={"--extra-py-files": f"s3://{BUCKET}/scripts/glue_io.py"}
    )
    report_uri = f"s3://{BUCKET}/reports/{job}.json"

    run_id = glue.start_job_run(
        JobName=job,
        Arguments={
            "--input_uri": f"s3://{BUCKET}/sales/input.csv",
            "--output_uri": f"s3://{BUCKET}/totals/{job}",
            "--report_uri": report_uri,
        },
    )["JobRunId"]
    run = wait_for_run(glue, job, run_id, timeout_s=180)

    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert read_json(local_aws, report_uri) == {"fruit": 7, "veg": 5}
    written = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"totals/{job}/")["Contents"]
    assert any(item["Key"].endswith(".parquet") for item in written)
    assert run["ExecutionTime"] >= 1


@pytest.mark.dag_run
def test_glue_job_operator_and_sensor_wait_for_real_runs_and_fail_with_the_script(local_aws, glue, airflow_settings):
    from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
    from airflow.providers.amazon.aws.sensors.glue import GlueJobSensor
    from airflow.sdk import DAG, chain

    from tests.platform.compute_dags import run_test_dag

    suffix = uuid.uuid4().hex[:6]
    scripts = f"s3://{BUCKET}/scripts"
    echo = {
        "script_location": f"{scripts}/echo_args.py",
        "iam_role_arn": ROLE,
        "create_job_kwargs": {
            "GlueVersion": "5.0",
            "DefaultArguments": {
                "--extra-py-files": f"{scripts}/glue_test_helper.py",
                "--extra-files": f"{scripts}/lookup.txt",
            },
        },
    }
    with DAG(f"glue_job_ops_{suffix}", schedule=None, default_args={"retries": 0}) as dag:
        submit_and_wait = GlueJobOperator(
            task_id="submit_and_wait",
            job_name=f"ops-echo-{suffix}",
            verbose=True,
            job_poll_interval=1,
            script_args={"--report_uri": f"s3://{BUCKET}/reports/ops-{suffix}-sync.json"},
            **echo,
        )
        # Same job, changed definition: the operator's UpdateJob path, then a deferred wait.
        submit_deferred = GlueJobOperator(
            task_id="submit_deferred",
            job_name=f"ops-echo-{suffix}",
            deferrable=True,
            waiter_delay=1,
            update_config=True,
            verbose=True,
            script_args={"--report_uri": f"s3://{BUCKET}/reports/ops-{suffix}-deferred.json"},
            **{**echo, "create_job_kwargs": {**echo["create_job_kwargs"], "Description": "updated"}},
        )
        submit_only = GlueJobOperator(
            task_id="submit_only",
            job_name=f"ops-sleep-{suffix}",
            script_location=f"{scripts}/sleeps.py",
            iam_role_arn=ROLE,
            script_args={"--seconds": "2"},
            wait_for_completion=False,
        )
        sense = GlueJobSensor(
            task_id="sense",
            job_name=f"ops-sleep-{suffix}",
            poke_interval=1,
            verbose=True,
            run_id="{{ ti.xcom_pull(task_ids='submit_only') }}",
        )
        sense_deferred = GlueJobSensor(
            task_id="sense_deferred",
            job_name=f"ops-sleep-{suffix}",
            deferrable=True,
            poke_interval=1,
            run_id="{{ ti.xcom_pull(task_ids='submit_only') }}",
        )
        GlueJobOperator(  # on its own: its failure must not skip the others
            task_id="submit_failing",
            job_name=f"ops-fail-{suffix}",
            script_location=f"{scripts}/fails.py",
            iam_role_arn=ROLE,
            script_args={"--rows": "-5"},
            job_poll_interval=1,
        )
        chain(submit_and_wait, submit_deferred, submit_only, sense, sense_deferred)

    run = run_test_dag(dag)

    assert run.task_states == {
        "submit_and_wait": "success",
        "submit_deferred": "success",
        "submit_only": "success",
        "sense": "success",
        "sense_deferred": "success",
        "submit_failing": "failed",
    }
    for mode in ("sync", "deferred"):
        report = read_json(local_aws, f"s3://{BUCKET}/reports/ops-{suffix}-{mode}.json")
        assert report["helper"] == "hello from extra-py-files"
    assert glue.get_job(JobName=f"ops-echo-{suffix}")["Job"]["Description"] == "updated"
    failed = glue.get_job_runs(JobName=f"ops-fail-{suffix}")["JobRuns"]
    assert [(r["JobRunState"], r["ErrorMessage"]) for r in failed] == [
        ("FAILED", "ValueError: row count cannot be negative: -5")
    ]
