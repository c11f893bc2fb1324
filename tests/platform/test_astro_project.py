"""The repository is an Astro CLI project as it is (no Docker here to run `astro dev start`): the files Astro reads
exist and have Astro's shapes, and airflow_settings.yaml follows the Astro CLI's schema (astro-cli
settings/types.go: Config.Airflow.{Connections, Pools, Variables}), which the local platform reads too."""

from __future__ import annotations

import re

import yaml

from local_platform.settings import PROJECT_ROOT, SETTINGS_FILE, connections, variables

# astro-cli settings/types.go: the keys Astro maps, and their types.
ASTRO_CONNECTION_KEYS = {
    "conn_id": str,
    "conn_type": str,
    "conn_host": str,
    "conn_schema": str,
    "conn_login": str,
    "conn_password": str,
    "conn_port": int,
    "conn_uri": str,
    "conn_extra": (dict, str),
}
ASTRO_POOL_KEYS = {"pool_name": str, "pool_slot": int, "pool_description": str}
ASTRO_VARIABLE_KEYS = {"variable_name": str, "variable_value": str}


def _check_entries(entries, schema: dict, required: set[str]) -> None:
    assert isinstance(entries, list)
    for entry in entries:
        assert set(entry) <= set(schema), f"keys Astro does not read: {set(entry) - set(schema)}"
        assert required <= set(entry), f"{entry} lacks {required - set(entry)}"
        for key, value in entry.items():
            assert isinstance(value, schema[key]), f"{key}={value!r} is not {schema[key]}"


def test_settings_file_has_astros_schema():
    raw = yaml.safe_load(SETTINGS_FILE.read_text())
    assert set(raw) == {"airflow"}
    assert set(raw["airflow"]) <= {"connections", "pools", "variables"}
    _check_entries(raw["airflow"]["connections"], ASTRO_CONNECTION_KEYS, {"conn_id", "conn_type"})
    _check_entries(raw["airflow"].get("pools") or [], ASTRO_POOL_KEYS, {"pool_name", "pool_slot"})
    _check_entries(raw["airflow"]["variables"], ASTRO_VARIABLE_KEYS, {"variable_name", "variable_value"})


def test_every_pipeline_variable_is_json_and_ids_are_unique():
    raw = yaml.safe_load(SETTINGS_FILE.read_text())["airflow"]
    ids = [entry["conn_id"] for entry in raw["connections"]]
    names = [entry["variable_name"] for entry in raw["variables"]]
    assert len(ids) == len(set(ids)) and len(names) == len(set(names))
    decoded = variables()
    for name in (path.stem for path in (PROJECT_ROOT / "dags").glob("*.py")):
        assert isinstance(decoded[name], dict), f"{name}'s variable must be a JSON object"


def test_connections_reach_the_services_astro_and_compose_run():
    conns = connections()
    assert conns["aws_default"]["extra"]["endpoint_url"] == "http://aws:4566"
    for conn in conns.values():
        if conn["conn_type"] == "postgres":
            assert conn["host"] == "postgres" and conn["port"] == 5432


def test_astro_build_files_exist_on_runtime_3_3():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    base = re.search(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE).group(1)
    assert re.fullmatch(r"astrocrpublic\.azurecr\.io/runtime:3\.3-\d+", base), base
    assert (PROJECT_ROOT / "packages.txt").read_text().strip() == "", "no system packages are needed"
    assert (PROJECT_ROOT / "requirements.txt").is_file()
    assert yaml.safe_load((PROJECT_ROOT / ".astro" / "config.yaml").read_text())["project"]["name"]
    for folder in ("dags", "include", "plugins"):
        assert (PROJECT_ROOT / folder).is_dir()


def test_the_astro_override_adds_exactly_compose_s_own_aws_server_and_database_init():
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yaml").read_text())["services"]
    override = yaml.safe_load((PROJECT_ROOT / "docker-compose.override.yml").read_text())["services"]

    assert set(override) == {"aws", "postgres"}
    assert override["aws"] == compose["aws"], "docker compose merges the override too: keep them equal"
    assert override["postgres"] == {"volumes": compose["postgres"]["volumes"]}
    assert "postgres-init.sql:/docker-entrypoint-initdb.d/" in override["postgres"]["volumes"][0]
    assert override["aws"]["depends_on"]["postgres"]["condition"] == "service_started"  # Astro's has no healthcheck
