"""What the pipelines' Glue jobs share: the JSON report each job writes (the jobs themselves are defined in
the CloudFormation stacks, ``deploy/cloudformation/``)."""

from __future__ import annotations

import json

from airflow.sdk import task


def load_job_report(bucket: str, key: str) -> dict:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return json.loads(S3Hook().read_key(key, bucket_name=bucket))


@task
def read_job_report(bucket: str, key: str) -> dict:
    """The counts the Glue job wrote to its report, for the checks downstream and the success alert."""
    return load_job_report(bucket, key)
