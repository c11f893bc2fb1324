"""Start and stop the pieces of the local platform for tests."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import requests
from botocore.config import Config

from local_platform.postgres import EmbeddedPostgres, named_server_dsn, wait_until_accepting

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_postgres(data_dir: Path):
    """(dsn, stop): a named server if the environment names one, else an embedded cluster."""
    if dsn := named_server_dsn():
        wait_until_accepting(dsn, timeout_s=10)
        return dsn, lambda: None
    server = EmbeddedPostgres(data_dir, free_port())
    return server.start(), server.stop


@dataclasses.dataclass
class LocalAws:
    endpoint: str
    namespace: str
    process: subprocess.Popen
    state_dir: Path
    log_path: Path

    def client(self, service: str):
        # No "api." host prefix (MWAA's): the local endpoint is an address, not a domain.
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name="us-east-1", config=Config(inject_host_prefix=False)
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def kill(self) -> None:
        """SIGKILL, as a crash or ``kill -9`` would: nothing runs on the way out."""
        self.process.kill()
        self.process.wait()

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


def ensure_role(local_aws: LocalAws, arn: str) -> str:
    """An IAM role for test functions, jobs and crawlers (the local platform checks roles exist, not what they
    allow)."""
    iam = local_aws.client("iam")
    name = arn.rsplit("/", 1)[-1]
    try:
        iam.get_role(RoleName=name)
    except iam.exceptions.NoSuchEntityException:
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": ["lambda.amazonaws.com", "glue.amazonaws.com"]},
                        }
                    ],
                }
            ),
        )
    return arn


def ensure_bucket(local_aws: LocalAws, name: str) -> str:
    s3 = local_aws.client("s3")
    if name not in [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=name)
    return name


def start_local_aws(
    state_dir: Path, postgres_dsn: str, namespace: str, args: tuple[str, ...] = (), log_name: str = "server.log"
) -> LocalAws:
    """Start a server on ``state_dir``; started again on the same folder, it restores what was saved there."""
    state_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = state_dir / log_name
    env = {**os.environ, "LOCAL_AWS_POSTGRES_DSN": postgres_dsn, "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local_platform.aws.server",
            "--port",
            str(port),
            "--state-dir",
            str(state_dir),
            "--namespace",
            namespace,
            *args,
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"local AWS server exited:\n{log_path.read_text()[-4000:]}")
        try:
            requests.get(f"{endpoint}/moto-api/", timeout=1)
            return LocalAws(endpoint, namespace, process, state_dir, log_path)
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"local AWS server did not answer on {endpoint}:\n{log_path.read_text()[-4000:]}")
