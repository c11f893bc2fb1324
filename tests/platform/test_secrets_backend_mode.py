"""The local platform's MWAA mode for connections and variables: a pipeline runs end to end with Airflow reading
them from the local Secrets Manager through the MWAA environment's own secrets-backend settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from deploy.stacks import session_for
from local_platform import secrets_backend
from local_platform.postgres import create_database, drop_database
from local_platform.seed import upload_retail_seed
from local_platform.settings import PROJECT_ROOT, PlatformEndpoints, variables


def test_the_settings_are_the_mwaa_environments():
    options = secrets_backend.mwaa_options()
    assert options["secrets.backend"] == "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
    kwargs = secrets_backend.backend_kwargs()
    assert (kwargs["connections_prefix"], kwargs["variables_prefix"]) == ("airflow/connections", "airflow/variables")
    assert not secrets_backend.looked_up("aws_default") and secrets_backend.looked_up("retail_postgres")


@pytest.fixture
def endpoints(local_aws, postgres_server_dsn, stacks, airflow_db):
    databases = {
        "retail_postgres": f"t_secrets_{uuid.uuid4().hex[:8]}",
        "aurora_vn_stock": f"t_secrets_{uuid.uuid4().hex[:8]}",
    }
    for name in databases.values():
        create_database(postgres_server_dsn, name)
    yield PlatformEndpoints(local_aws.endpoint, postgres_server_dsn, databases)
    for name in databases.values():
        drop_database(postgres_server_dsn, name)


@pytest.mark.dag_run
def test_retail_runs_end_to_end_reading_connections_and_variables_from_secrets_manager(local_aws, endpoints):
    published = secrets_backend.publish_connections(endpoints, session_for(local_aws.endpoint))
    settings_env = secrets_backend.airflow_env(endpoints)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env.update(settings_env)
    config = variables()["retail_analytics"]
    upload_retail_seed(local_aws.client("s3"), config["raw_bucket"], "2022-09-06")

    run = subprocess.run(
        [sys.executable, "-m", "local_platform.dag_runs", "retail_analytics", "--date", "2022-09-06"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )

    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["state"] == "success", (result["task_states"], run.stderr[-3000:])
    assert sorted(published) == ["airflow/connections/aurora_vn_stock", "airflow/connections/retail_postgres"]
    assert [key for key in settings_env if key.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))] == [
        "AIRFLOW_CONN_AWS_DEFAULT"
    ]  # everything else came from Secrets Manager
    exports = local_aws.client("s3").list_objects_v2(Bucket=config["export_bucket"], Prefix="retail_analytics/")
    csv_exports = [
        item for item in exports["Contents"] if "dt=2022-09-06" in item["Key"] and item["Key"].endswith(".csv")
    ]
    assert len(csv_exports) == 3
