"""The S3 -> PostgreSQL load under faults: the task's process killed mid-load, the database connection cut
mid-merge, the AWS endpoint unreachable. Each ends with the target as it was (same checksum) or complete after
the retry, never half-written, and the error says what happened."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from pipeline_kit.s3_to_postgres import S3ToPostgresMergeOperator

from deploy.pipelines import PROJECT_ROOT
from tests.retail_analytics.conftest import execute, query

ROWS = 300_000
HEADER = "order_id,customer_id,order_date,product_id,unit_price,quantity,total_price\n"
DDL = """
CREATE SCHEMA IF NOT EXISTS staging;
CREATE TABLE staging.orders (order_id integer PRIMARY KEY, customer_id integer NOT NULL, order_date date NOT NULL,
    product_id integer NOT NULL, unit_price numeric(12,2) NOT NULL, quantity integer NOT NULL,
    total_price numeric(14,2) NOT NULL);
"""
COLUMNS = [
    ("order_id", "integer", False),
    ("customer_id", "integer", False),
    ("order_date", "date", False),
    ("product_id", "integer", False),
    ("unit_price", "numeric", False),
    ("quantity", "integer", False),
    ("total_price", "numeric", False),
]
CHECKSUM = "SELECT count(*), md5(coalesce(string_agg(o::text, ',' ORDER BY order_id), '')) FROM staging.orders o"


def orders_csv(rows: int, price: int) -> bytes:
    lines = (
        f"{i},{i % 25 + 1},2022-{i % 12 + 1:02d}-{i % 28 + 1:02d},{i % 25 + 1},{price},{i % 9 + 1},"
        f"{price * (i % 9 + 1)}\n"
        for i in range(1, rows + 1)
    )
    return (HEADER + "".join(lines)).encode()


@pytest.fixture
def loaded(local_aws, bucket, load_connections):
    """A target holding a first load; a second, bigger file with every price changed waits in S3."""
    execute(load_connections, DDL)
    s3 = local_aws.client("s3")
    s3.put_object(Bucket=bucket, Key="orders.csv", Body=orders_csv(1000, 10))
    load(bucket)
    s3.put_object(Bucket=bucket, Key="orders.csv", Body=orders_csv(ROWS, 20))
    return load_connections


def load(bucket: str) -> dict:
    return S3ToPostgresMergeOperator(
        task_id="load_orders",
        s3_bucket=bucket,
        s3_key="orders.csv",
        postgres_conn_id="load_target",
        table="staging.orders",
        columns=COLUMNS,
        key_columns=["order_id"],
        logical_date="2022-09-06",
    ).execute({})


def wait_for_backend(dsn: str, query_prefix: str, timeout_s: float = 120) -> int:
    """The pid of the backend running a statement that starts with ``query_prefix`` (polled: the event here is
    another process's statement starting)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = query(
            dsn,
            "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query ILIKE %s AND pid <> pg_backend_pid()",
            (query_prefix + "%",),
        )
        if rows:
            return rows[0][0]
        time.sleep(0.05)
    raise TimeoutError(f"no backend ran {query_prefix!r} within {timeout_s}s")


def test_a_task_process_killed_mid_copy_leaves_the_target_as_it_was_and_the_retry_completes(loaded, bucket, local_aws):
    before = query(loaded, CHECKSUM)
    script = textwrap.dedent(f"""
        from pipeline_kit.s3_to_postgres import S3ToPostgresMergeOperator
        S3ToPostgresMergeOperator(task_id="load_orders", s3_bucket={bucket!r}, s3_key="orders.csv",
            postgres_conn_id="load_target", table="staging.orders", columns={COLUMNS!r},
            key_columns=["order_id"], logical_date="2022-09-06").execute({{}})
    """)
    paths = os.pathsep.join(str(PROJECT_ROOT / folder) for folder in ("", "plugins", "include/glue"))
    task = subprocess.Popen(
        [sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": paths}, start_new_session=True
    )
    try:
        wait_for_backend(loaded, "COPY")
        os.killpg(task.pid, signal.SIGKILL)  # as a worker dies: no handler, no rollback from the client
    finally:
        task.wait(timeout=30)

    assert query(loaded, CHECKSUM) == before
    counts = load(bucket)  # the retry
    assert (counts["read"], counts["inserted"], counts["updated"]) == (ROWS, ROWS - 1000, 1000)
    assert query(loaded, "SELECT min(unit_price), max(unit_price) FROM staging.orders")[0] == (20, 20)


def test_the_connection_cut_mid_merge_leaves_the_target_as_it_was_and_says_so(loaded, bucket, local_aws):
    before = query(loaded, CHECKSUM)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            load(bucket)
        except BaseException as exc:  # noqa: BLE001 - the failure is what is tested
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    backend = wait_for_backend(loaded, "MERGE")  # keys 1-1000 exist: the load merges
    query(loaded, "SELECT pg_terminate_backend(%s)", (backend,))
    worker.join(timeout=120)

    assert errors and type(errors[0]).__name__ in ("OperationalError", "InterfaceError"), errors  # psycopg 3 or 2
    assert "connection" in str(errors[0]).lower() or "terminat" in str(errors[0]).lower()
    assert query(loaded, CHECKSUM) == before
    assert load(bucket)["read"] == ROWS


def test_an_unreachable_aws_endpoint_fails_with_the_reason_and_changes_nothing(loaded, bucket, monkeypatch):
    before = query(loaded, CHECKSUM)
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {
                    "region_name": "us-east-1",
                    "endpoint_url": "http://127.0.0.1:9",
                    "config_kwargs": {"connect_timeout": 1, "retries": {"total_max_attempts": 1}},
                },
            }
        ),
    )

    with pytest.raises(Exception, match="Could not connect to the endpoint URL"):
        load(bucket)

    assert query(loaded, CHECKSUM) == before
