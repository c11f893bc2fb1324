"""PostgreSQL for the local platform: a server you name, or an embedded throwaway cluster.

A server is "named" by ``LOCAL_POSTGRES_DSN`` or by the standard ``PGHOST`` variables. Otherwise
an embedded cluster is started from the binaries the ``pgserver`` wheel ships, listening on
127.0.0.1 only. ``initdb`` refuses to run as root, so as root the cluster runs as an unprivileged
system user (created on first use, the way pgserver itself does it).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
import warnings
from pathlib import Path
from urllib.parse import quote

import psycopg2

HOST = "127.0.0.1"
EMBEDDED_SYSTEM_USER = "pgserver"


class PostgresUnavailable(RuntimeError):
    pass


def named_server_dsn() -> str | None:
    """The DSN of a server the user named through the environment, if any."""
    if dsn := os.environ.get("LOCAL_POSTGRES_DSN"):
        return dsn
    if host := os.environ.get("PGHOST"):
        user = os.environ.get("PGUSER", "postgres")
        password = os.environ.get("PGPASSWORD", "")
        port = os.environ.get("PGPORT", "5432")
        database = os.environ.get("PGDATABASE", "postgres")
        auth = quote(user) + (f":{quote(password)}" if password else "")
        return f"postgresql://{auth}@{host}:{port}/{database}"
    return None


def wait_until_accepting(dsn: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            psycopg2.connect(dsn, connect_timeout=3).close()
            return
        except psycopg2.OperationalError as exc:
            if time.monotonic() > deadline:
                raise PostgresUnavailable(f"PostgreSQL at {dsn} did not accept connections: {exc}") from exc
            time.sleep(0.3)


class EmbeddedPostgres:
    """A throwaway cluster in ``data_dir`` on 127.0.0.1:``port``; start and stop are idempotent."""

    def __init__(self, data_dir: Path, port: int):
        self.data_dir = data_dir.resolve()
        self.port = port

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/postgres"

    def _bin(self, name: str) -> str:
        try:
            with warnings.catch_warnings():  # pgserver warns about XDG_RUNTIME_DIR on import; irrelevant here
                warnings.simplefilter("ignore")
                from pgserver._commands import POSTGRES_BIN_PATH
        except ImportError as exc:
            raise PostgresUnavailable(
                "no PostgreSQL named (LOCAL_POSTGRES_DSN or PGHOST) and the embedded one needs the "
                "'pgserver' package: pip install -r requirements-dev.txt"
            ) from exc
        return str(POSTGRES_BIN_PATH / name)

    def _run_as(self) -> dict:
        """subprocess kwargs that run PostgreSQL binaries as a non-root user when we are root."""
        if os.geteuid() != 0:
            return {}
        from pgserver._commands import POSTGRES_BIN_PATH
        from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

        ensure_user_exists(EMBEDDED_SYSTEM_USER)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        entry = pwd.getpwnam(EMBEDDED_SYSTEM_USER)
        shutil.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        return {"user": EMBEDDED_SYSTEM_USER}

    def is_running(self) -> bool:
        if not (self.data_dir / "postmaster.pid").exists():
            return False
        result = subprocess.run(
            [self._bin("pg_ctl"), "-D", str(self.data_dir), "status"], capture_output=True, **self._run_as()
        )
        return result.returncode == 0

    def start(self) -> str:
        if self.is_running():
            return self.dsn
        self.data_dir.mkdir(parents=True, exist_ok=True)
        run_as = self._run_as()
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [self._bin("initdb"), "-D", str(self.data_dir), "--auth=trust", "--encoding=UTF8", "-U", "postgres"],
                check=True,
                capture_output=True,
                **run_as,
            )
        log = self.data_dir / "server.log"
        options = f"-h {HOST} -p {self.port} -k {self.data_dir}"
        result = subprocess.run(
            [self._bin("pg_ctl"), "-D", str(self.data_dir), "-w", "-t", "60", "-o", options, "-l", str(log), "start"],
            capture_output=True,
            text=True,
            **run_as,
        )
        if result.returncode != 0:
            tail = log.read_text()[-2000:] if log.exists() else result.stderr
            raise PostgresUnavailable(f"embedded PostgreSQL failed to start on {HOST}:{self.port}:\n{tail}")
        wait_until_accepting(self.dsn)
        return self.dsn

    def stop(self) -> None:
        if not self.is_running():
            return
        subprocess.run(
            [self._bin("pg_ctl"), "-D", str(self.data_dir), "-w", "-m", "fast", "stop"],
            check=True,
            capture_output=True,
            **self._run_as(),
        )


def database_dsn(server_dsn: str, database: str) -> str:
    """The same server, another database."""
    base, _, query = server_dsn.partition("?")
    prefix, _, _ = base.rpartition("/")
    return f"{prefix}/{database}" + (f"?{query}" if query else "")


def create_database(server_dsn: str, database: str, *, replace: bool = False) -> str:
    """Create ``database`` (dropping it first when ``replace``); return its DSN."""
    conn = psycopg2.connect(server_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            if replace:
                cur.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{database}"')
    finally:
        conn.close()
    return database_dsn(server_dsn, database)


def drop_database(server_dsn: str, database: str) -> None:
    conn = psycopg2.connect(server_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        conn.close()
