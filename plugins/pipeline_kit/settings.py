"""One small, obvious way for a DAG to say "this pipeline's setting X" and "the run's date", as templates rendered
when the task runs (never at parse time: no Variable.get in a DAG file).

    SETTINGS = PipelineSettings("toll_plaza")
    SETTINGS.staging_bucket          -> "{{ var.json.toll_plaza.staging_bucket }}"
    SETTINGS.expr("staging_bucket")  -> "var.json.toll_plaza.staging_bucket"  (inside a larger Jinja expression)
    RUN_DATE                         -> "{{ run_date() | ds }}"

The settings are the pipeline's JSON Airflow variable (``airflow_settings.yaml`` locally, Secrets Manager on
MWAA). DAGs render with ``StrictUndefined`` (``pipeline_kit.defaults.dag_defaults``), so a setting that does not
exist fails the task that uses it instead of rendering as an empty string.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from jinja2 import pass_context


def run_date_of(context: Mapping) -> datetime:
    """The run's date: its logical date, or for a manual run without one, when it was asked for."""
    return context.get("logical_date") or context["dag_run"].run_after


@pass_context
def run_date(context) -> datetime:
    """``run_date_of`` the run being rendered: the template macro ``run_date()`` every pipeline's DAG defines
    (``pipeline_kit.defaults``), so SQL files and DAG templates name the run's date one way."""
    return run_date_of(context)


# Every pipeline DAG's template macros (``user_defined_macros``, set by ``pipeline_kit.defaults.dag_defaults``).
TEMPLATE_MACROS = {"run_date": run_date}
RUN_DATE_EXPR = "run_date()"
# The run's date as YYYY-MM-DD and YYYYMMDD.
RUN_DATE = f"{{{{ {RUN_DATE_EXPR} | ds }}}}"
RUN_DATE_NODASH = f"{{{{ {RUN_DATE_EXPR} | ds_nodash }}}}"


class PipelineSettings:
    """The settings of one pipeline, each as a template (see the module docstring)."""

    def __init__(self, pipeline: str):
        self._pipeline = pipeline

    def expr(self, name: str) -> str:
        return f"var.json.{self._pipeline}.{name}"

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        return f"{{{{ {self.expr(name)} }}}}"
