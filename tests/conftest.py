"""Session-wide test platform: real PostgreSQL, the local AWS server over HTTP, and an Airflow home.

Airflow reads its configuration when first imported, so the environment is set here, before any
test module imports it.
"""

from __future__ import annotations

import collections
import os
import tempfile
import uuid
from pathlib import Path

import pytest

from local_platform import spark_cds  # imports neither Airflow nor pyspark's JVM side: safe before the settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_STATE = Path(tempfile.mkdtemp(prefix="etl-tests-"))

os.environ.update(
    {
        "AIRFLOW_HOME": str(_STATE / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        # No real credentials can leak into a test: everything goes to the local endpoint.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        # Every Spark JVM of the run (the tests' session, the local Glue drivers) compiles with C1 only and collects
        # garbage on its own thread: the tests' data is small, and C2's compiling and G1's helper threads cost more
        # CPU than they saved; it maps Spark's classes from the archive make setup built (README, "Tests").
        "SPARK_SUBMIT_OPTS": spark_cds.with_archive("-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"),
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

from local_platform.botocore_models import share_loaders  # noqa: E402
from tests.helpers.platform import LocalAws, start_local_aws, start_postgres  # noqa: E402

share_loaders()  # the tests' own clients, beside the DAG runs' hooks


# What a test costs, by its markers, roughly in seconds on two cores; unmarked tests cost about a second or less.
MARKER_SECONDS = {"scheduler": 200, "dag_run": 10, "own_server": 10, "spark": 1, "browser": 1}


def pytest_collection_modifyitems(items):
    """The costliest files first (by their tests' markers, ``MARKER_SECONDS``), the demo's module leading. ``make
    test`` gives each file whole to one of two workers in collection order: a long file collected late would start
    late and run alone at the end, while the other worker has nothing left to do."""
    cost = collections.Counter()
    for item in items:
        cost[item.path] += sum(
            MARKER_SECONDS[marker.name] for marker in item.iter_markers() if marker.name in MARKER_SECONDS
        )
    items.sort(key=lambda item: -cost[item.path])


@pytest.fixture(scope="session")
def state_dir() -> Path:
    return _STATE


@pytest.fixture(scope="session")
def postgres_server_dsn(state_dir):
    """A real PostgreSQL server: the one named by LOCAL_POSTGRES_DSN/PGHOST, or an embedded one."""
    dsn, stop = start_postgres(state_dir / "postgres")
    yield dsn
    stop()


@pytest.fixture
def postgres_db(postgres_server_dsn):
    """A uniquely named, empty database, dropped afterwards. Yields its DSN."""
    from local_platform.postgres import create_database, drop_database

    name = f"t_{uuid.uuid4().hex[:12]}"
    dsn = create_database(postgres_server_dsn, name)
    yield dsn
    drop_database(postgres_server_dsn, name)


@pytest.fixture(scope="session")
def local_aws(state_dir, postgres_server_dsn) -> LocalAws:
    """The local AWS server (moto + compute) in its own process on a free loopback port. Its state lives in memory
    only, as moto's does: nothing reads it after the run, and snapshots of a whole session's state every 2 s cost
    it half its CPU (``tests/platform/test_aws_persistence.py`` tests persistence on servers of its own)."""
    namespace = f"t{uuid.uuid4().hex[:6]}"
    server = start_local_aws(state_dir / "aws", postgres_server_dsn, namespace, ("--ephemeral",))
    yield server
    server.stop()
    _drop_databases_with_prefix(postgres_server_dsn, f"{namespace}_")


@pytest.fixture(scope="session")
def stacks(local_aws) -> dict[str, dict[str, str]]:
    """The CloudFormation stacks of deploy/cloudformation/ (shared and every pipeline) deployed once to the
    session's local AWS, as the local platform does, with the alerts inbox. Returns each stack's outputs."""
    from local_platform.provision import provision

    return provision(local_aws.endpoint)


def _drop_databases_with_prefix(server_dsn: str, prefix: str) -> None:
    """Drop what the server created on PostgreSQL (its databases carry the namespace prefix)."""
    import psycopg2

    from local_platform.postgres import drop_database

    with psycopg2.connect(server_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix.replace("_", r"\_") + "%",))
        names = [row[0] for row in cur.fetchall()]
    conn.close()
    for name in names:
        drop_database(server_dsn, name)


@pytest.fixture(scope="session")
def airflow_db():
    """Migrate the session's Airflow metadata database once."""
    from tests.helpers.airflow_runs import migrate_metadata_db

    migrate_metadata_db()


@pytest.fixture
def airflow_settings(local_aws, postgres_server_dsn, airflow_db, monkeypatch):
    """Give Airflow the connections/variables of airflow_settings.yaml, each PostgreSQL connection on a
    fresh database of its own. Returns {conn_id: database DSN}."""
    from local_platform.postgres import create_database, drop_database
    from local_platform.settings import PlatformEndpoints, airflow_env, postgres_connection_ids

    databases = {conn_id: f"t_{conn_id}_{uuid.uuid4().hex[:8]}" for conn_id in postgres_connection_ids()}
    dsns = {conn_id: create_database(postgres_server_dsn, name) for conn_id, name in databases.items()}
    env = airflow_env(PlatformEndpoints(local_aws.endpoint, postgres_server_dsn, databases))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield dsns
    for name in databases.values():
        drop_database(postgres_server_dsn, name)


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for every transform test of the run."""
    from glue_io import spark_session

    session = spark_session("tests")
    yield session
    session.stop()
