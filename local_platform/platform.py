"""The local platform as one object: PostgreSQL, the local AWS server and Airflow as MWAA runs it.

Airflow runs as on MWAA: the CeleryExecutor with ``CELERY_WORKERS`` workers (``AIRFLOW_CELERY_WORKERS``, default
2), SQS as the broker (a queue on the local AWS server, through kombu's SQS transport), the metadata database and
Celery's results in the platform's PostgreSQL (database ``airflow``).

State lives under ``.local/`` (``LOCAL_STATE_DIR``). Ports: ``LOCAL_AWS_PORT`` (4566),
``LOCAL_POSTGRES_PORT`` (55432, embedded server only) and ``AIRFLOW_UI_PORT`` (8080).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from deploy.stacks import session_for
from local_platform import processes, secrets_backend
from local_platform.postgres import (
    EmbeddedPostgres,
    create_database,
    database_dsn,
    named_server_dsn,
    wait_until_accepting,
)
from local_platform.provision import provision
from local_platform.settings import PROJECT_ROOT, PlatformEndpoints, airflow_env, local_databases

NAMESPACE = "local"
AIRFLOW_DATABASE = "airflow"
# Locally every operator and sensor asks AWS once a second (pipeline_kit.polling; on MWAA each keeps its own).
LOCAL_POLL_INTERVAL_SECONDS = 1
# Airflow's own start-up imports airflow_local_settings from here in each process (what it does: that file).
AIRFLOW_LOCAL_SETTINGS = Path(__file__).with_name("airflow_processes")


class PlatformError(RuntimeError):
    pass


class LocalPlatform:
    """``secrets_backend``: connections and variables come from the local Secrets Manager as on MWAA
    (``local_platform.secrets_backend``) instead of environment variables; default: ``LOCAL_SECRETS_BACKEND=1``."""

    def __init__(self, state_dir: Path | None = None, secrets_backend: bool | None = None):
        if secrets_backend is None:
            secrets_backend = os.environ.get("LOCAL_SECRETS_BACKEND", "") in ("1", "true", "yes")
        self.secrets_backend = secrets_backend
        self.state_dir = Path(state_dir or os.environ.get("LOCAL_STATE_DIR", PROJECT_ROOT / ".local")).resolve()
        self.aws_port = int(os.environ.get("LOCAL_AWS_PORT", "4566"))
        self.postgres_port = int(os.environ.get("LOCAL_POSTGRES_PORT", "55432"))
        self.ui_port = int(os.environ.get("AIRFLOW_UI_PORT", "8080"))
        self.celery_workers = int(os.environ.get("AIRFLOW_CELERY_WORKERS", "2"))
        self.worker_concurrency = int(os.environ.get("AIRFLOW_WORKER_CONCURRENCY", "4"))
        self.aws_pid = self.state_dir / "aws.pid"
        self.airflow_pid = self.state_dir / "airflow.pid"
        self.airflow_started_env = self.state_dir / "airflow.started.json"
        self.embedded_postgres = EmbeddedPostgres(self.state_dir / "postgres", self.postgres_port)

    @property
    def aws_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    # PostgreSQL -------------------------------------------------------------------------------
    def postgres_dsn(self, start: bool = True) -> str:
        if dsn := named_server_dsn():
            wait_until_accepting(dsn, timeout_s=10)
            return dsn
        if not self.embedded_postgres.is_running():
            if not start:
                raise PlatformError("the local platform is not running: run `make up` (or `make demo`)")
            if processes.port_in_use(self.postgres_port):
                raise PlatformError(
                    f"port {self.postgres_port} is taken by another program; set LOCAL_POSTGRES_PORT, or name an "
                    "existing server with LOCAL_POSTGRES_DSN"
                )
            self.embedded_postgres.start()
        return self.embedded_postgres.dsn

    def databases(self) -> dict[str, str]:
        """Each PostgreSQL connection of airflow_settings.yaml gets its database (the connection's schema)."""
        return local_databases()

    # Local AWS --------------------------------------------------------------------------------
    def start_aws(self, postgres_dsn: str) -> None:
        if processes.read_pid(self.aws_pid) is not None:
            return
        if processes.port_in_use(self.aws_port):
            raise PlatformError(f"port {self.aws_port} is taken by another program; set LOCAL_AWS_PORT")
        log = self.state_dir / "logs" / "aws.log"
        command = [
            sys.executable,
            "-m",
            "local_platform.aws.server",
            "--port",
            str(self.aws_port),
            "--state-dir",
            str(self.state_dir / "aws"),
            "--postgres-dsn",
            postgres_dsn,
            "--namespace",
            NAMESPACE,
        ]
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
        processes.start_service("local AWS", command, self.aws_pid, log, env, PROJECT_ROOT)
        processes.wait_for_port(self.aws_port, self.aws_pid, log, "local AWS server")

    # Airflow ----------------------------------------------------------------------------------
    def endpoints(self, postgres_dsn: str) -> PlatformEndpoints:
        return PlatformEndpoints(self.aws_endpoint, postgres_dsn, self.databases())

    def executor_environment(self, postgres_dsn: str) -> dict[str, str]:
        """MWAA's executor: Celery, SQS as the broker (here the local AWS server's), results in PostgreSQL."""
        metadata = database_dsn(postgres_dsn, AIRFLOW_DATABASE).replace("postgresql://", "postgresql+psycopg2://", 1)
        visibility_timeout_s = 3600  # a task runs for minutes here; a lost worker's task is redelivered after an hour
        transport = {
            "region": "us-east-1",
            "is_secure": False,
            "visibility_timeout": visibility_timeout_s,
            # Long polls: a queued task reaches an idle worker at once, without busy polling.
            "wait_time_seconds": 5,
            "polling_interval": 0.2,
        }
        return {
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": f"sqs://testing:testing@127.0.0.1:{self.aws_port}",
            # Typed options (the [celery_broker_transport_options] section gives strings, "False" included).
            "AIRFLOW__CELERY__EXTRA_CELERY_CONFIG": json.dumps({"broker_transport_options": transport}),
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": str(visibility_timeout_s),
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{metadata}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.worker_concurrency),
        }

    def airflow_environment(self, postgres_dsn: str) -> dict[str, str]:
        endpoints = self.endpoints(postgres_dsn)
        settings = secrets_backend.airflow_env(endpoints) if self.secrets_backend else airflow_env(endpoints)
        return {
            "AIRFLOW_HOME": str(self.state_dir / "airflow"),
            "PYTHONPATH": os.pathsep.join([str(AIRFLOW_LOCAL_SETTINGS), str(PROJECT_ROOT)]),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.ui_port}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.ui_port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.ui_port}",
            # A laptop-only UI: every visitor is admin; nothing listens beyond loopback.
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            # Locally a run is one you trigger or backfill: a schedule firing for today would wait a day for a drop
            # (or generate data) nobody asked for.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__PIPELINES__POLL_INTERVAL_SECONDS": str(LOCAL_POLL_INTERVAL_SECONDS),
            # A worker's calls to the API server (5 s by default) time out when two shared cores also run Spark; a
            # timed-out call fails the task before it starts.
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
            **self.executor_environment(postgres_dsn),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            **settings,
        }

    def write_env_file(self, env: dict[str, str]) -> Path:
        path = self.state_dir / "airflow.env"
        lines = [f"export {key}={_shell_quote(value)}" for key, value in sorted(env.items())]
        path.write_text("\n".join(lines) + "\n")
        return path

    def migrate_airflow_db(self, env: dict[str, str]) -> None:
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env={**os.environ, **env},
            check=True,
            capture_output=True,
            cwd=PROJECT_ROOT,
        )

    def start_airflow(self, env: dict[str, str]) -> None:
        """Airflow's components and ``celery_workers`` Celery workers as one process group. Not ``airflow
        standalone``: its log servers bind every interface, and here nothing listens beyond 127.0.0.1 (task logs
        are read from local files)."""
        if processes.read_pid(self.airflow_pid) is not None:
            return
        if processes.port_in_use(self.ui_port):
            raise PlatformError(f"port {self.ui_port} is taken by another program; set AIRFLOW_UI_PORT")
        self.airflow_started_env.write_text(json.dumps(env, sort_keys=True))
        log = self.state_dir / "logs" / "airflow.log"
        airflow = f"{sys.executable} -m airflow"
        components = [
            f"{airflow} api-server --host 127.0.0.1 --port {self.ui_port}",
            f"{airflow} scheduler --skip-serve-logs",
            f"{airflow} dag-processor",
            f"{airflow} triggerer --skip-serve-logs",
            # Workers share nothing but the broker, the metadata database and S3, as MWAA's do; each logs to
            # logs/worker-N.log. SQS has no broadcast, so no gossip or mingle between them.
            *(
                f"{airflow} celery worker --celery-hostname worker-{number}@%h --skip-serve-logs --without-gossip "
                f"--without-mingle > {log.parent / f'worker-{number}.log'} 2>&1"
                for number in range(1, self.celery_workers + 1)
            ),
        ]
        script = " & ".join(components) + " & wait"
        processes.start_service(
            "airflow", ["bash", "-c", script], self.airflow_pid, log, {**os.environ, **env}, PROJECT_ROOT
        )
        # Minutes on a busy 2-core machine: the API server builds its whole application before it listens.
        processes.wait_for_port(self.ui_port, self.airflow_pid, log, "Airflow API server", timeout_s=600)

    def restart_airflow_unless_running_with(self, env: dict[str, str]) -> None:
        """Airflow's processes read their settings when they start: one running with other settings is restarted."""
        running = processes.read_pid(self.airflow_pid) is not None
        if running and self.airflow_started_env.exists() and json.loads(self.airflow_started_env.read_text()) == env:
            return
        self.stop_airflow()
        self.start_airflow(env)

    def stop_airflow(self) -> bool:
        return processes.stop_service(self.airflow_pid)

    # Whole platform ---------------------------------------------------------------------------
    def up(self) -> dict[str, str]:
        """Start (or reuse) everything, deploy the stacks (``local_platform.provision``); return Airflow's
        environment."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        dsn = self.postgres_dsn()
        for database in [AIRFLOW_DATABASE, *self.databases().values()]:
            create_database(dsn, database)
        self.start_aws(dsn)
        provision(self.aws_endpoint)
        if self.secrets_backend:
            secrets_backend.publish_connections(self.endpoints(dsn), session_for(self.aws_endpoint))
        env = self.airflow_environment(dsn)
        self.write_env_file(env)
        self.migrate_airflow_db(env)
        return env

    def down(self) -> list[str]:
        stopped = []
        if self.stop_airflow():
            stopped.append("airflow")
        if processes.stop_service(self.aws_pid):
            stopped.append("local AWS")
        if self.embedded_postgres.is_running():
            self.embedded_postgres.stop()
            stopped.append("embedded PostgreSQL")
        return stopped

    def status(self) -> dict[str, str]:
        named = named_server_dsn()
        return {
            "postgres": named or (self.embedded_postgres.dsn if self.embedded_postgres.is_running() else "stopped"),
            "local AWS": self.aws_endpoint if processes.read_pid(self.aws_pid) else "stopped",
            "airflow UI": self.ui_url if processes.read_pid(self.airflow_pid) else "stopped",
        }


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"
