"""``shorten_polls``: under ``dag.test()`` tasks look again sooner, and give up no sooner than they would have."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.providers.amazon.aws.operators.redshift_data import RedshiftDataOperator
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.sdk import DAG

from local_platform.dag_runs import shorten_polls


def build_dag() -> DAG:
    with DAG("polls", start_date=datetime(2026, 1, 1), schedule=None) as dag:
        S3KeySensor(task_id="key", bucket_key="s3://b/k", poke_interval=60, timeout=600)
        GlueJobOperator(task_id="job", job_name="j", job_poll_interval=6, waiter_delay=60, waiter_max_attempts=75)
        AthenaOperator(task_id="query", query="SELECT 1", output_location="s3://b/", sleep_time=30)
        RedshiftDataOperator(task_id="sql", sql="SELECT 1", database="dev", poll_interval=10)
        S3KeySensor(task_id="quick", bucket_key="s3://b/k", poke_interval=0.1)
    return dag


def test_every_interval_is_shortened_and_attempt_limits_keep_the_time_waited():
    dag = build_dag()

    shorten_polls(dag, 0.25)

    key, job, query, sql, quick = (dag.get_task(t) for t in ("key", "job", "query", "sql", "quick"))
    assert (key.poke_interval, key.timeout) == (0.25, 600)
    assert (job.job_poll_interval, job.waiter_delay, job.waiter_max_attempts) == (0.25, 0.25, 75 * 60 * 4)
    assert query.sleep_time == 0.25 and query.max_polling_attempts >= 999999
    assert sql.poll_interval == 0.25
    assert quick.poke_interval == 0.1  # already quicker: left as it is
