"""Fixtures for the retail pipeline and the S3 -> PostgreSQL load: a fresh bucket and Airflow connections
pointing at the session's local AWS server and a fresh database."""

from __future__ import annotations

import json
import uuid

import psycopg2
import pytest


@pytest.fixture
def bucket(local_aws) -> str:
    name = f"load-{uuid.uuid4().hex[:10]}"
    local_aws.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def load_connections(local_aws, postgres_db, monkeypatch) -> str:
    """``aws_default`` -> the local server and ``load_target`` -> the test database, as Airflow env
    connections. Returns the database DSN."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"region_name": "us-east-1", "endpoint_url": local_aws.endpoint},
            }
        ),
    )
    monkeypatch.setenv("AIRFLOW_CONN_LOAD_TARGET", postgres_db)
    return postgres_db


def query(dsn: str, sql: str, params=None) -> list[tuple]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall() if cur.description else []
    conn.close()
    return rows


def execute(dsn: str, sql: str, params=None) -> None:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
    conn.close()
