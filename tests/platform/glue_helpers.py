"""Driving the local Glue jobs over their API, as a pipeline does: scripts in S3, a job, runs waited for."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from local_platform.settings import PROJECT_ROOT
from tests.helpers.platform import ensure_bucket, ensure_role

FIXTURES = Path(__file__).parent / "fixtures" / "glue"
BUCKET = "glue-compute-test"
ROLE = "arn:aws:iam::123456789012:role/glue-compute-test"
FINAL_STATES = {"SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR"}


def upload_scripts(local_aws):
    """The Glue client, with the fixture scripts and glue_io.py uploaded to s3://glue-compute-test/scripts/."""
    ensure_role(local_aws, ROLE)
    ensure_bucket(local_aws, BUCKET)
    s3 = local_aws.client("s3")
    for path in [*FIXTURES.iterdir(), PROJECT_ROOT / "include" / "glue" / "glue_io.py"]:
        s3.upload_file(str(path), BUCKET, f"scripts/{path.name}")
    return local_aws.client("glue")


def create_job(glue, script: str, **kwargs) -> str:
    name = f"{Path(script).stem}-{uuid.uuid4().hex[:6]}"
    glue.create_job(
        Name=name,
        Role=ROLE,
        GlueVersion="5.0",
        Command={"Name": "glueetl", "ScriptLocation": f"s3://{BUCKET}/scripts/{script}", "PythonVersion": "3"},
        **kwargs,
    )
    return name


def wait_for_run(glue, job: str, run_id: str, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        if run["JobRunState"] in FINAL_STATES:
            return run
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} of {job} still {run['JobRunState']} after {timeout_s}s")


def read_json(local_aws, uri: str):
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return json.loads(local_aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
