"""``airflow_settings.yaml`` (the Astro CLI's format) as Airflow environment variables for the local platform.

The file holds the values the containers of Astro and docker-compose use. The local platform keeps every
id, type, database name, extra and variable, and points the connections at what it runs instead:
an AWS connection's ``endpoint_url`` at the local AWS server, a PostgreSQL connection's host, port,
login and password at the platform's PostgreSQL server (its database: ``PlatformEndpoints.databases``,
by default the connection's ``conn_schema``).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from urllib.parse import urlsplit

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = PROJECT_ROOT / "airflow_settings.yaml"
# Astro's connection keys -> the keys of Airflow's JSON connection format.
_CONNECTION_FIELDS = {
    "conn_type": "conn_type",
    "conn_host": "host",
    "conn_port": "port",
    "conn_login": "login",
    "conn_password": "password",
    "conn_schema": "schema",
    "conn_extra": "extra",
}


@dataclasses.dataclass(frozen=True)
class PlatformEndpoints:
    aws_endpoint: str  # e.g. http://127.0.0.1:4566
    postgres_dsn: str  # server DSN; each PostgreSQL connection gets its own database on it
    databases: dict[str, str] = dataclasses.field(default_factory=dict)  # conn_id -> database (default: schema)


def _airflow_section(settings_file: Path) -> dict:
    return yaml.safe_load(settings_file.read_text())["airflow"]


def connections(settings_file: Path = SETTINGS_FILE) -> dict[str, dict]:
    """Every connection as Airflow's JSON connection format (``conn_type``, ``host``, ... ``extra``), by id."""
    result = {}
    for entry in _airflow_section(settings_file)["connections"]:
        unknown = set(entry) - set(_CONNECTION_FIELDS) - {"conn_id"}
        if unknown:
            raise ValueError(f"{settings_file.name}: connection {entry.get('conn_id')} has unknown keys {unknown}")
        result[entry["conn_id"]] = {
            _CONNECTION_FIELDS[key]: value
            for key, value in entry.items()
            if key != "conn_id" and value not in (None, "")
        }
    return result


def raw_variables(settings_file: Path = SETTINGS_FILE) -> dict[str, str]:
    """Every variable as Airflow stores it: a string (JSON for the pipelines' settings)."""
    return {
        entry["variable_name"]: str(entry["variable_value"]) for entry in _airflow_section(settings_file)["variables"]
    }


def variables(settings_file: Path = SETTINGS_FILE) -> dict:
    """Every variable decoded: the pipelines' JSON settings as dicts, plain values as strings."""
    return {
        name: json.loads(value) if value.lstrip().startswith("{") else value
        for name, value in raw_variables(settings_file).items()
    }


def pools(settings_file: Path = SETTINGS_FILE) -> dict[str, dict]:
    return {
        entry["pool_name"]: {"slots": int(entry["pool_slot"]), "description": entry.get("pool_description", "")}
        for entry in _airflow_section(settings_file).get("pools") or []
    }


def postgres_connection_ids(settings_file: Path = SETTINGS_FILE) -> list[str]:
    return [conn_id for conn_id, conn in connections(settings_file).items() if conn["conn_type"] == "postgres"]


def local_connections(endpoints: PlatformEndpoints, settings_file: Path = SETTINGS_FILE) -> dict[str, dict]:
    """The connections pointed at the local platform (see the module docstring)."""
    server = urlsplit(endpoints.postgres_dsn)
    result = {}
    for conn_id, conn in connections(settings_file).items():
        conn = {**conn, "extra": dict(conn.get("extra") or {})}
        if conn["conn_type"] == "aws" and "endpoint_url" in conn["extra"]:
            conn["extra"]["endpoint_url"] = endpoints.aws_endpoint
        if conn["conn_type"] == "postgres":
            conn.update(
                host=server.hostname or "127.0.0.1",
                port=server.port or 5432,
                login=server.username or "postgres",
                password=server.password or "",
                schema=endpoints.databases.get(conn_id, conn.get("schema", conn_id)),
            )
        if not conn["extra"]:
            del conn["extra"]
        result[conn_id] = conn
    return result


def local_databases(settings_file: Path = SETTINGS_FILE) -> dict[str, str]:
    """conn_id -> database of each PostgreSQL connection, as the file names it."""
    return {
        conn_id: conn.get("schema", conn_id)
        for conn_id, conn in connections(settings_file).items()
        if conn["conn_type"] == "postgres"
    }


def connection_env(conns: dict[str, dict]) -> dict[str, str]:
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn) for conn_id, conn in conns.items()}


def variable_env(settings_file: Path = SETTINGS_FILE) -> dict[str, str]:
    return {f"AIRFLOW_VAR_{name.upper()}": value for name, value in raw_variables(settings_file).items()}


def airflow_env(endpoints: PlatformEndpoints, settings_file: Path = SETTINGS_FILE) -> dict[str, str]:
    """Environment variables that give Airflow every connection and variable of the settings file,
    its connections pointed at the local platform."""
    return {**connection_env(local_connections(endpoints, settings_file)), **variable_env(settings_file)}


def compose_env_file(settings_file: Path = SETTINGS_FILE) -> str:
    """The settings file's connections and variables, as they are, as docker-compose's ``env_file``."""
    env = {**connection_env(connections(settings_file)), **variable_env(settings_file)}
    lines = [
        "# Generated from airflow_settings.yaml by: python -m local_platform.settings > docker/airflow-settings.env"
    ]
    lines += [f"{key}={value}" for key, value in env.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(compose_env_file(), end="")
