"""Where ``include/`` lives: beside ``dags/`` in this repo (Astro layout), inside ``dags/`` on MWAA."""

from __future__ import annotations

import os
from pathlib import Path


def include_dir() -> Path:
    if configured := os.environ.get("PIPELINE_INCLUDE_DIR"):
        return Path(configured)
    here = Path(__file__).resolve()
    for candidate in (here.parents[2] / "include", here.parents[1] / "include"):
        if candidate.is_dir():
            return candidate
    dags_folder = Path(os.environ.get("AIRFLOW__CORE__DAGS_FOLDER", "."))
    return dags_folder / "include"


def sql_dir() -> str:
    return str(include_dir() / "sql")
