"""Runs INSIDE the MWAA parity environment (Python 3.12, MWAA's constraints, MWAA's folder layout), with only
the standard library and what MWAA installs: no project code but the package itself.

    python mwaa_probe.py parse VARIABLES_JSON      -> one JSON report on stdout
    python mwaa_probe.py run DAG_ID YYYY-MM-DD     -> one JSON line: the run's state and task states

``parse`` imports every DAG the way the DAG processor does, with every warning recorded, then renders every
templated field of every task for a sample run (variables as the settings file gives them, XComs as
placeholders), so that a template or SQL file that cannot be found fails here rather than in a run (a SQL
file that exists is read when the DAG is parsed; one that does not stays a name and fails to render).
"""

from __future__ import annotations

import json
import sys
import warnings
from datetime import UTC, datetime
from types import SimpleNamespace

SAMPLE_DATE = datetime(2026, 11, 30, tzinfo=UTC)


class SampleXCom(dict):
    """What ``ti.xcom_pull`` gives while rendering a sample run: any key answers a placeholder string."""

    def __missing__(self, key):
        return f"sample-{key}"

    def __str__(self) -> str:
        return json.dumps(self)


class SampleTaskInstance:
    def __init__(self, dag_id: str, task_id: str, run_id: str):
        self.dag_id, self.task_id, self.run_id = dag_id, task_id, run_id
        self.try_number, self.map_index = 1, -1
        self.log_url = f"http://localhost/dags/{dag_id}/runs/{run_id}/tasks/{task_id}"

    def xcom_pull(self, *args, **kwargs):
        return SampleXCom()


def sample_context(dag, task, variables: dict) -> dict:
    import pendulum

    logical_date = pendulum.instance(SAMPLE_DATE)
    run_id = f"scheduled__{logical_date.isoformat()}"
    dag_run = SimpleNamespace(
        dag_id=dag.dag_id,
        run_id=run_id,
        logical_date=logical_date,
        run_after=logical_date,
        data_interval_start=logical_date,
        data_interval_end=logical_date.add(days=1),
        conf={},
        run_type="scheduled",
    )
    ti = SampleTaskInstance(dag.dag_id, task.task_id, run_id)
    return {
        "dag": dag,
        "task": task,
        "ti": ti,
        "task_instance": ti,
        "run_id": run_id,
        "dag_run": dag_run,
        "logical_date": logical_date,
        "data_interval_start": dag_run.data_interval_start,
        "data_interval_end": dag_run.data_interval_end,
        "ds": logical_date.to_date_string(),
        "ds_nodash": logical_date.format("YYYYMMDD"),
        "ts": logical_date.isoformat(),
        "params": task.params.validate(),
        "var": {
            "json": {name: value for name, value in variables.items()},
            "value": {
                name: value if isinstance(value, str) else json.dumps(value) for name, value in variables.items()
            },
        },
    }


def _leftover_template(value) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(_leftover_template(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_leftover_template(item) for item in value)
    return False


def parse(variables: dict) -> dict:
    warnings.simplefilter("always")  # nothing hidden: every warning a DAG file raises is recorded
    from airflow.dag_processing.dagbag import DagBag
    from airflow.providers.common.compat.sdk import conf

    bag = DagBag(dag_folder=conf.get("core", "dags_folder"))
    report = {
        "dags": sorted(bag.dags),
        "import_errors": bag.import_errors,
        "warnings": {path: list(items) for path, items in bag.captured_warnings.items()},
        "render_errors": {},
        "rendered_fields": 0,
    }
    report["tasks"] = sum(len(dag.tasks) for dag in bag.dags.values())
    for dag in bag.dags.values():
        for task in dag.tasks:
            where = f"{dag.dag_id}.{task.task_id}"
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    task.render_template_fields(sample_context(dag, task, variables))
            except Exception as exc:  # noqa: BLE001 - every failure is reported, by task
                report["render_errors"][where] = f"{type(exc).__name__}: {exc}"
                continue
            if caught:
                report["warnings"][where] = [f"{w.category.__name__}: {w.message}" for w in caught]
            for field in task.template_fields:
                value = getattr(task, field, None)
                report["rendered_fields"] += 1
                if _leftover_template(value):
                    report["render_errors"][f"{where}.{field}"] = f"still a template after rendering: {value!r}"
    return report


def run(dag_id: str, day: str) -> dict:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.providers.common.compat.sdk import conf

    dag = DagBag(dag_folder=conf.get("core", "dags_folder")).get_dag(dag_id)
    # Airflow 3.3.1's dag.test() fails on a successful run of a DAG that declares a deadline (it looks the alerts
    # up by definition, not id) and watches none anyway: the probe's run goes without, as local_platform's do.
    dag.deadline = None
    dag_run = dag.test(logical_date=datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC))
    states = {ti.task_id: str(ti.state).split(".")[-1].lower() for ti in dag_run.get_task_instances()}
    return {"state": str(dag_run.state).split(".")[-1].lower(), "task_states": states, "run_id": dag_run.run_id}


def main(argv: list[str]) -> int:
    command, *args = argv
    if command == "parse":
        with open(args[0]) as file:
            report = parse(json.load(file))
    elif command == "run":
        report = run(*args)
    else:
        raise SystemExit(f"unknown command {command!r}")
    print("PROBE-REPORT " + json.dumps(report, default=str), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
