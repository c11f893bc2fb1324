"""Every DAG file imports cleanly, offline, and carries the project's operational defaults."""

from __future__ import annotations

import ast
import socket
from pathlib import Path

import pytest

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
PLUGINS = DAGS_DIR.parent / "plugins"
DAG_FILES = sorted(path for path in DAGS_DIR.glob("*.py") if not path.name.startswith("_"))
FORBIDDEN_AT_TOP_LEVEL = {"get_connection", "get_connection_from_secrets"}


class NetworkUsed(AssertionError):
    pass


@pytest.fixture(scope="module")
def dag_bag():
    """Parse dags/ with the network, variables and connections all unavailable."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk import Connection, Variable

    def refuse(*args, **kwargs):
        raise NetworkUsed(f"a DAG file touched the network or a secret at parse time: {args!r}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        patch.setattr(Variable, "get", refuse)
        patch.setattr(Connection, "get", refuse)
        bag = DagBag(dag_folder=str(DAGS_DIR))
    return bag


def test_dag_folder_has_the_pipelines():
    assert DAG_FILES, "no DAG files found"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda path: path.name)
def test_dag_file_imports_offline_without_errors_or_warnings(dag_bag, path):
    errors = {file: error for file, error in dag_bag.import_errors.items() if Path(file).name == path.name}
    assert errors == {}
    warnings = {file: items for file, items in dag_bag.captured_warnings.items() if Path(file).name == path.name}
    assert warnings == {}, "a DAG file must parse without warnings (deprecations included)"
    assert path.name in {Path(dag.fileloc).name for dag in dag_bag.dags.values()}, f"{path.name} defines no DAG"


def _dags_of(dag_bag, path):
    return [dag for dag in dag_bag.dags.values() if Path(dag.fileloc).name == path.name]


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda path: path.name)
def test_dag_has_tags_owner_retries_with_backoff_and_alerts(dag_bag, path):
    for dag in _dags_of(dag_bag, path):
        assert dag.tags, f"{dag.dag_id} has no tags"
        for task in dag.tasks:
            where = f"{dag.dag_id}.{task.task_id}"
            assert task.owner and task.owner != "airflow", f"{where} has no owner"
            assert task.retries >= 2, f"{where} retries {task.retries} < 2"
            assert task.retry_exponential_backoff, f"{where} has no exponential backoff"
            assert task.on_failure_callback, f"{where} sends no failure alert"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda path: path.name)
def test_dag_alerts_on_success(dag_bag, path):
    for dag in _dags_of(dag_bag, path):
        assert any(task.on_success_callback for task in dag.tasks), f"{dag.dag_id} sends no success alert"


def _top_level_calls(tree: ast.Module):
    """Calls made while the module is imported (outside function bodies)."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Call):
            yield node
        pending.extend(ast.iter_child_nodes(node))


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda path: path.name)
def test_no_variable_or_connection_lookup_at_top_level(path):
    for call in _top_level_calls(ast.parse(path.read_text())):
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
        assert not (owner == "Variable" and name == "get"), f"{path.name}:{call.lineno} Variable.get at top level"
        assert name not in FORBIDDEN_AT_TOP_LEVEL, f"{path.name}:{call.lineno} {name} at top level"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda path: path.name)
def test_no_heavy_imports_at_top_level(path):
    heavy = {"pyspark", "pandas", "selenium", "boto3", "psycopg2", "local_platform"}
    tree = ast.parse(path.read_text())
    for node in tree.body:
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in heavy, f"{path.name}:{node.lineno} imports {name} at top level"


def test_no_plugin_file_shadows_a_standard_library_module():
    """Airflow imports every file of the plugins folder under its bare name: ``operator.py`` anywhere in plugins/
    would replace the standard library's ``operator`` for the whole process."""
    import sys

    plugins = Path(__file__).resolve().parents[2] / "plugins"
    clashes = [
        path.relative_to(plugins).as_posix() for path in plugins.rglob("*.py") if path.stem in sys.stdlib_module_names
    ]
    assert clashes == []


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda path: path.name)
def test_a_long_wait_is_deferred_and_does_not_hold_up_other_runs(dag_bag, path):
    """A sensor that may wait for hours must not hold a worker slot (deferrable) nor keep manual runs and reruns
    of other days waiting behind it (more than one active run)."""
    from airflow.sdk.bases.sensor import BaseSensorOperator

    for dag in _dags_of(dag_bag, path):
        long_waits = [task for task in dag.tasks if isinstance(task, BaseSensorOperator) and task.timeout > 60 * 60]
        for sensor in long_waits:
            assert getattr(sensor, "deferrable", False) or sensor.mode == "reschedule", (
                f"{dag.dag_id}.{sensor.task_id} waits up to {sensor.timeout / 3600:.0f} h holding a worker slot"
            )
        if long_waits:
            assert dag.max_active_runs >= 2, (
                f"{dag.dag_id}: {long_waits[0].task_id} may wait "
                f"{long_waits[0].timeout / 3600:.0f} h and max_active_runs is 1"
            )


def test_the_plugin_manager_imports_nothing_from_the_plugins_folder():
    """``plugins/`` holds the package the DAGs import, and no AirflowPlugin: the plugin manager, which runs in every
    task process, must not import its files (``plugins/.airflowignore``)."""
    from airflow._shared.module_loading import find_path_from_directory
    from airflow.configuration import conf

    syntax = conf.get_mandatory_value("core", "DAG_IGNORE_FILE_SYNTAX", fallback="glob")
    scanned = [
        path for path in find_path_from_directory(str(PLUGINS), ".airflowignore", syntax) if path.endswith(".py")
    ]

    assert scanned == []


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda path: path.name)
def test_templates_name_the_runs_date_by_the_one_macro(dag_bag, path):
    """A scheduled run's date is its logical date; a manual run without one takes the day it was asked for."""
    from types import SimpleNamespace

    import pendulum

    asked = SimpleNamespace(run_after=pendulum.datetime(2026, 3, 9, 22, tz="UTC"))
    for dag in _dags_of(dag_bag, path):
        template = dag.get_template_env().from_string("{{ run_date() | ds }} {{ run_date() | ds_nodash }}")
        scheduled = template.render(logical_date=pendulum.datetime(2026, 3, 1, tz="UTC"), dag_run=asked)
        assert scheduled == "2026-03-01 20260301"
        assert template.render(logical_date=None, dag_run=asked) == "2026-03-09 20260309"


def test_the_rule_for_the_runs_date_is_spelt_once():
    sources = [*DAGS_DIR.glob("*.py"), *(DAGS_DIR.parent / "include" / "sql").rglob("*.sql")]
    spelt_out = [str(source) for source in sources if "run_after" in source.read_text()]
    assert spelt_out == [], "use run_date() (pipeline_kit.settings) instead of spelling out the rule"
