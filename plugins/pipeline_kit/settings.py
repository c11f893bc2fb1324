"""One small, obvious way for a DAG to say "this pipeline's setting X" and "the run's date", as templates rendered
when the task runs (never at parse time: no Variable.get in a DAG file).

    SETTINGS = PipelineSettings("toll_plaza")
    SETTINGS.staging_bucket          -> "{{ var.json.toll_plaza.staging_bucket }}"
    SETTINGS.expr("staging_bucket")  -> "var.json.toll_plaza.staging_bucket"  (inside a larger Jinja expression)

The settings are the pipeline's JSON Airflow variable (``airflow_settings.yaml`` locally, Secrets Manager on
MWAA). DAGs render with ``StrictUndefined`` (``pipeline_kit.defaults.dag_kwargs``), so a setting that does not
exist fails the task that uses it instead of rendering as an empty string.
"""

from __future__ import annotations

RUN_DATE_EXPR = "(logical_date or dag_run.run_after)"
# The run's date (YYYY-MM-DD, YYYYMMDD): its logical date, or for a manual run without one, when it was asked for.
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
