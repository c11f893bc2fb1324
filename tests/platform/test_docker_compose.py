"""docker-compose.yaml cannot run here (no Docker engine): check that it parses, that everything it
references exists, and that it gives Airflow the same connections and variables as the local platform."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from local_platform.settings import PROJECT_ROOT, SETTINGS_FILE, variables_env_file

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yaml").read_text())
UNDEFAULTED_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)\}")


def _services():
    return COMPOSE["services"].items()


def test_every_build_file_volume_and_env_file_exists():
    for name, service in _services():
        if build := service.get("build"):
            assert (PROJECT_ROOT / build["context"] / build["dockerfile"]).is_file(), name
        for volume in service.get("volumes", []):
            host_path = volume.split(":", 1)[0]
            assert (PROJECT_ROOT / host_path).exists(), f"{name}: {host_path}"
        for env_file in service.get("env_file", []):
            assert (PROJECT_ROOT / env_file).is_file(), f"{name}: {env_file}"


def test_every_interpolated_variable_has_a_default():
    text = (PROJECT_ROOT / "docker-compose.yaml").read_text()
    assert UNDEFAULTED_VARIABLE.findall(text) == []


def test_published_ports_bind_loopback_only():
    for name, service in _services():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port}"


def test_airflow_gets_the_same_connection_ids_and_variables_as_the_local_platform():
    settings = yaml.safe_load(SETTINGS_FILE.read_text())
    environment = COMPOSE["x-airflow-common"]["environment"]
    compose_conns = {key.removeprefix("AIRFLOW_CONN_").lower() for key in environment if key.startswith("AIRFLOW_CONN_")}
    assert compose_conns == set(settings["connections"])
    for key in compose_conns:
        json.loads(environment[f"AIRFLOW_CONN_{key.upper()}"])
    env_file = Path(PROJECT_ROOT / "docker" / "airflow-variables.env").read_text()
    assert env_file == variables_env_file(), "regenerate: python -m local_platform.settings > docker/airflow-variables.env"


def test_postgres_init_creates_a_database_per_connection():
    init_sql = (PROJECT_ROOT / "docker" / "postgres-init.sql").read_text()
    settings = yaml.safe_load(SETTINGS_FILE.read_text())
    for conn_id, conn in settings["connections"].items():
        if conn["conn_type"] == "postgres":
            assert f"CREATE DATABASE {conn_id};" in init_sql
