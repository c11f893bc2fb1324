"""Turn ``airflow_settings.yaml`` into ``AIRFLOW_CONN_*`` / ``AIRFLOW_VAR_*`` environment variables."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = PROJECT_ROOT / "airflow_settings.yaml"
PLACEHOLDER = re.compile(r"\$\{([A-Z0-9_]+)\}")


@dataclasses.dataclass(frozen=True)
class PlatformEndpoints:
    aws_endpoint: str  # e.g. http://127.0.0.1:4566
    postgres_dsn: str  # server DSN; each connection gets its own database on it
    databases: dict[str, str]  # conn_id -> database name


def _fill(value, values: dict[str, str]):
    if isinstance(value, str):
        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name not in values:
                raise KeyError(f"{SETTINGS_FILE.name}: no value for placeholder ${{{name}}}")
            return values[name]
        return PLACEHOLDER.sub(replace, value)
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    return value


def load_settings(endpoints: PlatformEndpoints, settings_file: Path = SETTINGS_FILE) -> dict:
    """The settings file with every placeholder filled in."""
    dsn = urlsplit(endpoints.postgres_dsn)
    values = {
        "AWS_ENDPOINT": endpoints.aws_endpoint,
        "PG_HOST": dsn.hostname or "127.0.0.1",
        "PG_PORT": str(dsn.port or 5432),
        "PG_USER": dsn.username or "postgres",
        "PG_PASSWORD": dsn.password or "",
    }
    values.update({f"DB_{conn_id.upper()}": name for conn_id, name in endpoints.databases.items()})
    return _fill(yaml.safe_load(settings_file.read_text()), values)


def postgres_connection_ids(settings_file: Path = SETTINGS_FILE) -> list[str]:
    raw = yaml.safe_load(settings_file.read_text())
    return [conn_id for conn_id, conn in raw["connections"].items() if conn["conn_type"] == "postgres"]


def airflow_env(endpoints: PlatformEndpoints, settings_file: Path = SETTINGS_FILE) -> dict[str, str]:
    """Environment variables that give Airflow every connection and variable of the settings file."""
    settings = load_settings(endpoints, settings_file)
    env = {}
    for conn_id, conn in settings["connections"].items():
        conn = dict(conn)
        if "port" in conn:
            conn["port"] = int(conn["port"])
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
    for key, value in settings["variables"].items():
        env[f"AIRFLOW_VAR_{key.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def variables_env_file(settings_file: Path = SETTINGS_FILE) -> str:
    """The variables of the settings file as an env file (docker-compose's ``env_file``)."""
    variables = yaml.safe_load(settings_file.read_text())["variables"]
    lines = ["# Generated from airflow_settings.yaml by: python -m local_platform.settings > docker/airflow-variables.env"]
    for key, value in variables.items():
        rendered = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        lines.append(f"AIRFLOW_VAR_{key.upper()}={rendered}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(variables_env_file(), end="")
