"""The registry of pipelines, ``pipelines.yaml`` at the project's root: one entry per pipeline, and a pipeline's
files found by its name. Whatever lists pipelines (the stacks, the demo, the per-pipeline tests, the README's
table) reads it here.

    python -m deploy.pipelines      prints the README's pipeline table
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REGISTRY = PROJECT_ROOT / "pipelines.yaml"


@dataclasses.dataclass(frozen=True)
class Pipeline:
    name: str
    summary: str
    aurora_connection: str | None = None  # the Airflow connection to the Aurora cluster its stack creates

    @property
    def stack_name(self) -> str:
        return self.name.replace("_", "-")

    @property
    def dag_file(self) -> str:
        return f"dags/{self.name}.py"

    @property
    def template(self) -> str:
        return f"{self.name}.yaml"


@cache
def pipelines(registry: Path = REGISTRY) -> tuple[Pipeline, ...]:
    return tuple(Pipeline(**entry) for entry in yaml.safe_load(registry.read_text())["pipelines"])


def names(registry: Path = REGISTRY) -> tuple[str, ...]:
    return tuple(pipeline.name for pipeline in pipelines(registry))


def readme_table(registry: Path = REGISTRY) -> str:
    rows = ["| pipeline | DAG | what it does |", "|---|---|---|"]
    rows += [f"| {p.name} | `{p.dag_file}` | {p.summary} |" for p in pipelines(registry)]
    return "\n".join(rows)


if __name__ == "__main__":
    print(readme_table())
