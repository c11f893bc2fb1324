"""docker-compose.yaml cannot run here (no Docker engine): check that it parses, that everything it
references exists, and that it gives Airflow the same connections and variables as the local platform."""

from __future__ import annotations

import re

import yaml

from local_platform.settings import PROJECT_ROOT, compose_env_file, local_databases

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


def test_airflow_gets_the_connections_and_variables_of_the_settings_file():
    assert COMPOSE["x-airflow-common"]["env_file"] == ["docker/airflow-settings.env"]
    environment = COMPOSE["x-airflow-common"]["environment"]
    assert not [key for key in environment if key.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))], (
        "connections and variables come from airflow_settings.yaml only"
    )
    env_file = (PROJECT_ROOT / "docker" / "airflow-settings.env").read_text()
    assert env_file == compose_env_file(), "regenerate: python -m local_platform.settings > docker/airflow-settings.env"


def test_connections_reach_the_compose_services_by_name():
    services = set(COMPOSE["services"])
    text = compose_env_file()
    assert "http://aws:4566" in text and "aws" in services
    assert '"host": "postgres"' in text and "postgres" in services


def test_postgres_init_creates_a_database_per_connection():
    init_sql = (PROJECT_ROOT / "docker" / "postgres-init.sql").read_text()
    for database in local_databases().values():
        assert f"CREATE DATABASE {database};" in init_sql
