"""What the pipelines' Glue jobs share: their job definition and the JSON report each job writes."""

from __future__ import annotations

import json

from airflow.sdk import task


def glue_job_definition(artifacts_bucket: str, timeout_minutes: int) -> dict:
    """``create_job_kwargs`` for our jobs: Glue 5.0 (Spark 3.5, Python 3.11) on two G.1X workers, with
    ``include/glue/glue_io.py`` (provisioned beside the scripts) shipped as an extra Python file."""
    return {
        "GlueVersion": "5.0",
        "WorkerType": "G.1X",
        "NumberOfWorkers": 2,
        "Timeout": timeout_minutes,
        "DefaultArguments": {
            "--extra-py-files": f"s3://{artifacts_bucket}/glue/glue_io.py",
            "--job-language": "python",
        },
    }


def load_job_report(bucket: str, key: str) -> dict:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return json.loads(S3Hook().read_key(key, bucket_name=bucket))


@task
def read_job_report(bucket: str, key: str) -> dict:
    """The counts the Glue job wrote to its report, for the checks downstream and the success alert."""
    return load_job_report(bucket, key)
