"""The package installs, parses and runs on Amazon MWAA 3.3.1 as MWAA runs it (deploy/mwaa_parity.py): Python 3.12,
MWAA's constraints, MWAA's folder layout. Each problem the check exists for is shown to fail it."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deploy import mwaa_parity, package
from local_platform.settings import PROJECT_ROOT, variables
from tests.helpers.waiting import wait_for

FIXTURES = Path(__file__).parent / "fixtures"
DAG_IDS = {path.stem for path in (PROJECT_ROOT / "dags").glob("*.py")}


@pytest.fixture(scope="session")
def mwaa_python() -> Path:
    """The MWAA-like virtualenv's python (built once per machine: ``mwaa_parity.CACHE_DIR``)."""
    python = mwaa_parity.find_python312()
    if python is None:
        if os.environ.get("CI"):
            pytest.fail("CI machines have Python 3.12 (pyenv); the MWAA parity check must run there")
        pytest.skip("no Python 3.12 on this machine (set MWAA_PYTHON): the MWAA parity check cannot run")
    return mwaa_parity.build_environment(python, PROJECT_ROOT / "requirements.txt")


@pytest.fixture
def mwaa_layout(tmp_path) -> mwaa_parity.MwaaLayout:
    return mwaa_parity.lay_out(package.build(tmp_path / "package"), tmp_path / "mwaa")


def parse(mwaa_python, layout: mwaa_parity.MwaaLayout, tmp_path) -> dict:
    variables_file = tmp_path / "variables.json"
    variables_file.write_text(json.dumps(variables()))
    return mwaa_parity.run_probe(mwaa_python, layout, ["parse", str(variables_file)])


def test_requirements_follow_mwaa_rules():
    text = (PROJECT_ROOT / "requirements.txt").read_text()
    assert mwaa_parity.requirement_problems(text, mwaa_parity.constraint_pins()) == []
    assert text.splitlines()[0] == f'--constraint "{mwaa_parity.CONSTRAINTS_URL}"'


def test_the_requirements_before_this_check_are_refused_for_each_reason():
    before = (FIXTURES / "requirements_before_mwaa_parity.txt").read_text()
    problems = mwaa_parity.requirement_problems(before, mwaa_parity.constraint_pins())
    assert any("commented constraint line" in problem and "applies none" in problem for problem in problems)
    assert any(problem.startswith("no --constraint line") for problem in problems)
    for pinned, constrained in [
        ("apache-airflow-providers-postgres==7.1.1", "7.0.1"),
        ("apache-airflow-providers-common-sql==2.4.0", "2.1.0"),
        ("apache-airflow-providers-standard==1.21.0", "1.17.0"),
    ]:
        assert f"{pinned} but MWAA's constraints pin {pinned.split('==')[0]}=={constrained}" in problems


def test_packages_missing_from_the_image_are_required():
    pins = {
        line.split("==")[0].split("[")[0]: line
        for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line
    }
    assert "pandas" in pins, "SqlToS3Operator needs pandas and the MWAA image has none"
    assert "holidays" in pins


def test_the_package_is_laid_out_as_mwaa_takes_it(tmp_path):
    built = package.build(tmp_path / "mwaa")
    assert sorted(path.name for path in built.folder.iterdir()) == ["dags", "plugins.zip", "requirements.txt"]
    assert {path.stem for path in built.dags.glob("*.py")} == DAG_IDS
    assert (built.dags / ".airflowignore").is_file()
    sql_files = sorted(
        path.relative_to(PROJECT_ROOT / "include").as_posix()
        for path in (PROJECT_ROOT / "include" / "sql").rglob("*.sql")
    )
    assert (
        sorted(path.relative_to(built.dags / "include").as_posix() for path in (built.dags / "include").rglob("*.sql"))
        == sql_files
    )
    import zipfile

    with zipfile.ZipFile(built.plugins_zip) as archive:
        names = archive.namelist()
    assert "pipeline_kit/__init__.py" in names and not any(name.startswith("plugins/") for name in names)
    assert ".airflowignore" in names  # so that MWAA's plugin manager does not import pipeline_kit's files too
    again = package.build(tmp_path / "again")
    assert again.plugins_zip.read_bytes() == built.plugins_zip.read_bytes(), "the zip must be reproducible"


def _waited_on(lock: Path) -> bool:
    """Whether a flock on ``lock`` is waiting (``/proc/locks`` lists a waiter with "->")."""
    inode = f":{lock.stat().st_ino} "
    return any("->" in line and inode in line for line in Path("/proc/locks").read_text().splitlines())


def test_a_build_of_an_environment_being_built_waits_for_it_then_uses_it(tmp_path):
    # Checkouts share the cache. The Python named does not exist: building would fail at once.
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("holidays\n")
    python, cache = "/nonexistent/python3.12", tmp_path / "cache"
    venv = mwaa_parity.environment_dir(python, requirements, cache)
    venv.mkdir(parents=True)
    returned = []
    with open(mwaa_parity.lock_file(venv), "w") as building:  # another checkout building it
        fcntl.flock(building, fcntl.LOCK_EX)
        waiting = threading.Thread(
            target=lambda: returned.append(mwaa_parity.build_environment(python, requirements, cache))
        )
        waiting.start()
        assert wait_for(lambda: _waited_on(mwaa_parity.lock_file(venv)), 10)
        (venv / ".complete").touch()
    waiting.join(timeout=10)

    assert returned == [venv / "bin" / "python"]
    requirements.write_text("holidays\npandas\n")
    assert mwaa_parity.environment_dir(python, requirements, cache) != venv


def test_old_pins_with_the_constraint_line_enabled_do_not_resolve(mwaa_python, tmp_path):
    enabled = (FIXTURES / "requirements_before_mwaa_parity.txt").read_text().replace("#   --constraint", "--constraint")
    requirements = mwaa_parity.mwaa_requirements_text(enabled)
    (tmp_path / "requirements.txt").write_text(requirements)
    result = subprocess.run(
        [str(mwaa_python), "-m", "pip", "install", "--dry-run", "-q", "-r", str(tmp_path / "requirements.txt")],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "ResolutionImpossible" in result.stderr or "conflict" in result.stderr.lower()


def test_every_dag_imports_without_error_or_warning_and_every_template_renders(mwaa_python, mwaa_layout, tmp_path):
    report = parse(mwaa_python, mwaa_layout, tmp_path)

    assert set(report["dags"]) == DAG_IDS
    assert report["import_errors"] == {}
    assert report["warnings"] == {}
    assert report["render_errors"] == {}
    assert report["tasks"] >= 50 and report["rendered_fields"] >= report["tasks"]


def test_a_missing_include_folder_fails_the_check_by_name(mwaa_python, mwaa_layout, tmp_path):
    shutil.rmtree(mwaa_layout.dags / "include")

    report = parse(mwaa_python, mwaa_layout, tmp_path)

    assert mwaa_parity.parse_problems(report, DAG_IDS)
    errors = "\n".join(report["import_errors"].values())
    assert "no include/ folder in or beside the DAGs folder" in errors


def test_a_missing_sql_file_fails_rendering(mwaa_python, mwaa_layout, tmp_path):
    (mwaa_layout.dags / "include" / "sql" / "retail_analytics" / "agg_shipments.sql").unlink()

    report = parse(mwaa_python, mwaa_layout, tmp_path)

    assert "agg_shipments.sql" in report["render_errors"]["retail_analytics.analyse.agg_shipments"]


@pytest.mark.dag_run
def test_retail_runs_end_to_end_on_mwaa_python_and_layout(
    mwaa_python, mwaa_layout, local_aws, stacks, airflow_settings
):
    """What only running shows: SqlToS3Operator needs pandas on MWAA's image."""
    from local_platform.seed import upload_retail_seed

    config = variables()["retail_analytics"]
    s3 = local_aws.client("s3")
    upload_retail_seed(s3, config["raw_bucket"], "2022-09-06")
    # Earlier retail runs of this worker's session exported to the same bucket: only this run's files count.
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=config["export_bucket"], Prefix="retail_analytics/"
    ):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=config["export_bucket"], Key=item["Key"])
    env = {key: value for key, value in os.environ.items() if key.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")

    result = mwaa_parity.run_dag(mwaa_python, mwaa_layout, "retail_analytics", datetime(2022, 9, 6, tzinfo=UTC), env)

    assert result["state"] == "success", result["task_states"]
    exports = s3.list_objects_v2(Bucket=config["export_bucket"], Prefix="retail_analytics/")["Contents"]
    keys = [item["Key"] for item in exports]
    assert sorted(key.split("/")[1] for key in keys if key.endswith(".csv")) == [
        "agg_public_holiday_orders",
        "agg_shipments",
        "best_performing_product",
    ]
    # matplotlib draws on MWAA's Python as well: each chart as PNG and self-contained HTML.
    assert sorted(key.rsplit("/", 1)[1] for key in keys if key.split("/")[1] == "charts") == [
        "best_product_stars.html",
        "best_product_stars.png",
        "late_undelivered.html",
        "late_undelivered.png",
    ]


def test_a_setting_the_pipelines_variable_lacks_fails_rendering(mwaa_python, mwaa_layout, tmp_path):
    dag = mwaa_layout.dags / "csv_lake.py"
    dag.write_text(dag.read_text().replace("SETTINGS.raw_bucket", "SETTINGS.raw_bukcet"))

    report = parse(mwaa_python, mwaa_layout, tmp_path)

    assert "raw_bukcet" in report["render_errors"]["csv_lake.wait_for_csv"]
