"""Where ``include/`` lives, found from Airflow's DAGs folder (never the working directory):

- inside the DAGs folder on MWAA, where the package puts it (``/usr/local/airflow/dags/include``);
- beside the DAGs folder in this repository and on Astro (``<project>/dags`` and ``<project>/include``).

``PIPELINE_INCLUDE_DIR`` overrides both (docker-compose mounts it elsewhere).
"""

from __future__ import annotations

import os
from pathlib import Path


def include_dir() -> Path:
    if configured := os.environ.get("PIPELINE_INCLUDE_DIR"):
        return Path(configured)
    from airflow.providers.common.compat.sdk import conf

    dags_folder = Path(conf.get("core", "dags_folder")).resolve()
    candidates = (dags_folder / "include", dags_folder.parent / "include")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"no include/ folder in or beside the DAGs folder: looked for {', '.join(map(str, candidates))}"
    )


def sql_dir() -> str:
    return str(include_dir() / "sql")


def sql_statements(relative_path: str) -> list[str]:
    """The statements of ``include/sql/<relative_path>``, one string each (still Jinja templates), for operators
    that run a list of statements as one batch (the Redshift Data API's BatchExecuteStatement: one transaction)."""
    import sqlparse

    text = (include_dir() / "sql" / relative_path).read_text()
    return [statement.strip().rstrip(";") for statement in sqlparse.split(text) if statement.strip()]
