"""Does the package install and parse on Amazon MWAA 3.3.1 as MWAA runs it? The closest honest proxy without AWS:

    python -m deploy.mwaa_parity [--python PYTHON3.12] [--run DAG_ID YYYY-MM-DD]

1. ``requirements.txt`` is checked against MWAA's rules: one live ``--constraint`` line naming Airflow's
   3.3.1 / Python 3.12 constraints (MWAA's installer takes ANY line mentioning ``--constraint``/``-c``, even a
   comment, as "the customer brings their own" and then applies none), and every pin equal to what those
   constraints pin.
2. A Python 3.12 virtualenv is installed as MWAA's image is (``deploy/mwaa/``: Airflow's constraints file and
   MWAA's essential constraints, copied from the image's sources): first what the image installs, then
   ``requirements.txt`` exactly as MWAA's installer runs it (its constraint URL read from the local copy, since
   only package registries are reachable here). Nothing from requirements-dev.txt. Cached by content hash in
   the user's cache folder, so that every checkout on the machine (worktrees, clean clones) builds it once.
3. The MWAA package (``deploy.package``) is laid out as MWAA lays it out: the dags prefix as the DAGs folder,
   ``plugins.zip`` unzipped as the plugins folder, the working directory elsewhere, no project environment
   variables (only Airflow's own settings and the connections/variables MWAA's secrets backend would give).
4. ``deploy/mwaa_probe.py`` runs in that environment: every DAG imports with no import error and no warning,
   every templated field of every task renders for a sample run, every SQL file is found.

Optionally (``--run``) a DAG runs end to end in that environment against the local platform, which proves
what only executing shows (an operator's optional dependency, such as pandas for SqlToS3Operator).
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from deploy import package

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MWAA_DIR = Path(__file__).resolve().parent / "mwaa"
AIRFLOW_CONSTRAINTS = MWAA_DIR / "airflow-3.3.1-constraints-3.12.txt"
ESSENTIAL_CONSTRAINTS = MWAA_DIR / "mwaa-essential-constraints-3.3.1.txt"
CONSTRAINTS_URL = "https://raw.githubusercontent.com/apache/airflow/constraints-3.3.1/constraints-3.12.txt"
# What the MWAA 3.3.1 image installs before the customer's requirements (aws/amazon-mwaa-docker-images,
# images/airflow/3.3.1). psycopg2-binary stands in for the image's psycopg2 built from source.
IMAGE_PACKAGES = (
    "apache-airflow[celery,statsd]==3.3.1",
    "apache-airflow-providers-amazon[aiobotocore]",
    "apache-airflow-providers-postgres",
    "apache-airflow-providers-fab",
    "apache-airflow-providers-standard",
    "celery[sqs]",
    "psycopg2-binary",
)
PROBE = Path(__file__).resolve().parent / "mwaa_probe.py"
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "airflow-etl-pipelines" / "mwaa-parity"
# MWAA's own test for "the customer brings constraints" (mwaa/utils/user_requirements.py): comments included.
_MWAA_CONSTRAINT_LINE = re.compile(r"-c |--constraint ")
_PIN = re.compile(r"^([A-Za-z0-9._-]+)(\[[^\]]*\])?==([^\s;#]+)")


class ParityError(RuntimeError):
    """The package would not install or parse on MWAA; the message says why."""


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def constraint_pins(path: Path = AIRFLOW_CONSTRAINTS) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if match := _PIN.match(line.strip()):
            pins[_canonical(match.group(1))] = match.group(3)
    return pins


def requirement_problems(text: str, constraints: dict[str, str]) -> list[str]:
    """What in ``requirements.txt``'s text MWAA would reject or silently mis-install (empty: nothing)."""
    problems = []
    constraint_lines = [line for line in text.splitlines() if _MWAA_CONSTRAINT_LINE.search(line)]
    live = [line.strip() for line in constraint_lines if not line.lstrip().startswith("#")]
    commented = [line.strip() for line in constraint_lines if line.lstrip().startswith("#")]
    if commented:
        problems.append(
            f"a commented constraint line {commented[0]!r}: MWAA's installer sees it, assumes the file "
            "brings its own constraints and applies none"
        )
    if not live:
        problems.append(f'no --constraint line: add --constraint "{CONSTRAINTS_URL}" as the first line')
    elif len(live) > 1 or CONSTRAINTS_URL not in live[0]:
        problems.append(f'the constraint line must be --constraint "{CONSTRAINTS_URL}", found {live}')
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = _PIN.match(line)
        if not match:
            problems.append(f"{line!r} is not pinned with ==")
            continue
        name, version = _canonical(match.group(1)), match.group(3)
        if name in constraints and constraints[name] != version:
            problems.append(f"{name}=={version} but MWAA's constraints pin {name}=={constraints[name]}")
    return problems


def find_python312() -> str | None:
    """A Python 3.12 interpreter: MWAA_PYTHON, python3.12 on PATH, or pyenv's."""
    candidates = [
        os.environ.get("MWAA_PYTHON"),
        shutil.which("python3.12"),
        *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python")), reverse=True),
    ]
    for candidate in filter(None, candidates):
        version = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
        ).stdout.strip()
        if version == "(3, 12)":
            return candidate
    return None


def _pip(python: Path, *args: str) -> None:
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-compile", "-q", *args],
        capture_output=True,
        text=True,
    )
    if result.returncode:
        output = "\n".join(
            line for line in (result.stdout + result.stderr).splitlines() if not line.startswith("WARNING: Location")
        )
        raise ParityError(f"pip install {' '.join(args)} failed:\n{output[-4000:]}")


def mwaa_requirements_text(text: str) -> str:
    """``requirements.txt``'s text with its constraint URL pointing at the local copy of the same file."""
    return text.replace(CONSTRAINTS_URL, str(AIRFLOW_CONSTRAINTS))


def environment_dir(python: str, requirements: Path, cache_dir: Path = CACHE_DIR) -> Path:
    """Where the virtualenv for this Python and these requirements lives: named by what goes into it."""
    key = hashlib.sha256()
    for part in (
        python,
        requirements.read_bytes(),
        AIRFLOW_CONSTRAINTS.read_bytes(),
        ESSENTIAL_CONSTRAINTS.read_bytes(),
        "\n".join(IMAGE_PACKAGES),
    ):
        key.update(part if isinstance(part, bytes) else part.encode())
    return cache_dir / f"venv-{key.hexdigest()[:16]}"


def lock_file(venv: Path) -> Path:
    return venv.with_name(f"{venv.name}.lock")


def build_environment(python: str, requirements: Path, cache_dir: Path = CACHE_DIR) -> Path:
    """The virtualenv (``environment_dir``), built unless it is complete; returns its python. Builds of the same
    one wait for each other (checkouts share the cache): the first builds it, the others find it complete."""
    venv = environment_dir(python, requirements, cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_file(venv), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".complete").exists():
            _install(python, venv, requirements)
    return venv / "bin" / "python"


def _install(python: str, venv: Path, requirements: Path) -> None:
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    venv_python = venv / "bin" / "python"
    try:
        _pip(venv_python, "--upgrade", "pip")
        _pip(venv_python, "-c", str(AIRFLOW_CONSTRAINTS), *IMAGE_PACKAGES)
        local_requirements = venv / "requirements.txt"
        local_requirements.write_text(mwaa_requirements_text(requirements.read_text()))
        _pip(venv_python, "-r", str(local_requirements), "-c", str(ESSENTIAL_CONSTRAINTS))
    except ParityError:
        shutil.rmtree(venv, ignore_errors=True)
        raise
    (venv / ".complete").touch()


@dataclasses.dataclass(frozen=True)
class MwaaLayout:
    root: Path

    @property
    def dags(self) -> Path:
        return self.root / "usr/local/airflow/dags"

    @property
    def plugins(self) -> Path:
        return self.root / "usr/local/airflow/plugins"

    @property
    def airflow_home(self) -> Path:
        return self.root / "usr/local/airflow"

    @property
    def workdir(self) -> Path:
        return self.root / "workdir"

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """Airflow's settings as MWAA sets them (AIRFLOW_HOME, so the DAGs and plugins folders are its default
        ``dags`` and ``plugins``; MWAA sets neither folder explicitly); nothing of this project's own."""
        keep = ("PATH", "HOME", "LANG", "TMPDIR")
        return {
            **{key: os.environ[key] for key in keep if key in os.environ},
            "AIRFLOW_HOME": str(self.airflow_home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            **(extra or {}),
        }


def lay_out(built: package.Package, root: Path) -> MwaaLayout:
    """The package as MWAA puts it on a worker: dags/ synced, plugins.zip unzipped, cwd elsewhere."""
    layout = MwaaLayout(root)
    shutil.copytree(built.dags, layout.dags)
    layout.plugins.mkdir(parents=True)
    with zipfile.ZipFile(built.plugins_zip) as archive:
        archive.extractall(layout.plugins)
    layout.workdir.mkdir(parents=True)
    return layout


def run_probe(
    venv_python: Path, layout: MwaaLayout, args: list[str], env: dict[str, str] | None = None, timeout_s: float = 900
) -> dict:
    result = subprocess.run(
        [str(venv_python), str(PROBE), *args],
        cwd=layout.workdir,
        text=True,
        capture_output=True,
        env=layout.environment(env),
        timeout=timeout_s,
    )
    reports = [line for line in result.stdout.splitlines() if line.startswith("PROBE-REPORT ")]
    if result.returncode or not reports:
        raise ParityError(f"the probe failed (exit {result.returncode}):\n{(result.stdout + result.stderr)[-6000:]}")
    return json.loads(reports[-1].removeprefix("PROBE-REPORT "))


def run_dag(venv_python: Path, layout: MwaaLayout, dag_id: str, logical_date, env: dict[str, str]) -> dict:
    """One whole run of ``dag_id`` (``dag.test()``) in the MWAA environment; ``env`` gives it connections and
    variables. Returns the run's state and task states."""
    migrate = subprocess.run(
        [str(venv_python), "-m", "airflow", "db", "migrate"],
        cwd=layout.workdir,
        env=layout.environment(env),
        capture_output=True,
        text=True,
    )
    if migrate.returncode:
        raise ParityError(f"airflow db migrate failed:\n{migrate.stderr[-3000:]}")
    return run_probe(venv_python, layout, ["run", dag_id, logical_date.strftime("%Y-%m-%d")], env)


def parse_problems(report: dict, expected_dags: set[str]) -> list[str]:
    problems = [
        f"import error in {Path(path).name}: {error.strip().splitlines()[-1]}"
        for path, error in report["import_errors"].items()
    ]
    problems += [
        f"warning in {Path(where).name}: {message.split(': ', 1)[-1]}"
        for where, messages in report["warnings"].items()
        for message in messages
    ]
    problems += [f"{where} does not render: {error}" for where, error in report["render_errors"].items()]
    if missing := expected_dags - set(report["dags"]):
        problems.append(f"DAGs not found: {sorted(missing)}")
    return problems


def check(python: str, workspace: Path, variables: dict, expected_dags: set[str]) -> dict:
    """The whole check; raises ParityError listing every problem, else returns the probe's report."""
    requirements = PROJECT_ROOT / "requirements.txt"
    if problems := requirement_problems(requirements.read_text(), constraint_pins()):
        raise ParityError("requirements.txt:\n- " + "\n- ".join(problems))
    venv_python = build_environment(python, requirements)
    layout = lay_out(package.build(workspace / "package"), workspace / "mwaa")
    variables_file = workspace / "variables.json"
    variables_file.write_text(json.dumps(variables))
    report = run_probe(venv_python, layout, ["parse", str(variables_file)])
    if problems := parse_problems(report, expected_dags):
        raise ParityError("on MWAA's layout and Python:\n- " + "\n- ".join(problems))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=None, help="a Python 3.12 (default: MWAA_PYTHON, PATH, pyenv)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(PROJECT_ROOT))
    from local_platform.settings import variables

    python = args.python or find_python312()
    if python is None:
        print("MWAA parity: no Python 3.12 found (set MWAA_PYTHON)", file=sys.stderr)
        return 2
    expected = {path.stem for path in (PROJECT_ROOT / "dags").glob("*.py")}
    with tempfile.TemporaryDirectory(prefix="mwaa-parity-") as workspace:
        try:
            report = check(python, Path(workspace), variables(), expected)
        except ParityError as exc:
            print(f"MWAA parity: FAILED\n{exc}", file=sys.stderr)
            return 1
    print(
        f"MWAA parity: OK: {len(report['dags'])} DAGs import with no error or warning on Python 3.12 under "
        f"MWAA's constraints; {report['rendered_fields']} templated fields render; "
        f"{len(report['sql_files'])} SQL file references found"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
