"""What the pipelines' Glue jobs share: the JSON report each job writes, and an operator whose failures carry the
job's cause (the jobs themselves are defined in the CloudFormation stacks, ``deploy/cloudformation/``)."""

from __future__ import annotations

import json

from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException
from airflow.sdk import task


def load_job_report(bucket: str, key: str) -> dict:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return json.loads(S3Hook().read_key(key, bucket_name=bucket))


@task
def read_job_report(bucket: str, key: str) -> dict:
    """The counts the Glue job wrote to its report, for the checks downstream and the success alert."""
    return load_job_report(bucket, key)


DATA_ERROR_MARKER = "DataError:"  # the exception line of a job that raised glue_io.DataError


class GlueJobRunOperator(GlueJobOperator):
    """``GlueJobOperator`` whose failure says why: the task fails with the job run's own ``ErrorMessage`` (in the
    failure alert), and when the job raised ``glue_io.DataError`` (bad input: retrying cannot help) it fails at
    once, without retries. Any other failure (infrastructure, timeouts) is retried as usual."""

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowException as exc:
            if isinstance(exc, AirflowFailException):
                raise
            raise self._failure_with_cause(exc) from exc

    def execute_complete(self, context, event=None):
        try:
            return super().execute_complete(context, event)
        except AirflowException as exc:
            if event and event.get("run_id"):
                self._job_run_id = event["run_id"]
            raise self._failure_with_cause(exc) from exc

    def _failure_with_cause(self, exc: AirflowException) -> AirflowException:
        if not self._job_run_id:
            return exc
        run = self.hook.conn.get_job_run(JobName=self.job_name, RunId=self._job_run_id)["JobRun"]
        cause = run.get("ErrorMessage") or str(exc)
        message = f"Glue job {self.job_name} run {self._job_run_id} {run['JobRunState']}: {cause}"
        if DATA_ERROR_MARKER in cause:
            return AirflowFailException(message)
        return AirflowException(message)
