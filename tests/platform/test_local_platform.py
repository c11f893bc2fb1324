"""The local platform's lifecycle: up is idempotent, down leaves nothing running, a taken port is named."""

from __future__ import annotations

import socket

import pytest

from local_platform import processes
from local_platform.platform import LocalPlatform, PlatformError
from tests.helpers.platform import free_port

pytestmark = pytest.mark.own_server


@pytest.fixture
def platform(tmp_path, monkeypatch):
    for name in ("LOCAL_POSTGRES_DSN", "PGHOST"):
        monkeypatch.delenv(name, raising=False)  # the embedded PostgreSQL, in this test's own folder
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("LOCAL_AWS_PORT", str(free_port()))
    monkeypatch.setenv("LOCAL_POSTGRES_PORT", str(free_port()))
    platform = LocalPlatform()
    yield platform
    platform.down()


def test_up_twice_reuses_the_running_services_and_down_stops_them_all(platform):
    env = platform.up()
    aws_pid = processes.read_pid(platform.aws_pid)
    postgres_pid = int((platform.embedded_postgres.data_dir / "postmaster.pid").read_text().split()[0])

    assert platform.up() == env
    assert processes.read_pid(platform.aws_pid) == aws_pid
    assert f"127.0.0.1:{platform.aws_port}" in env["AIRFLOW_CONN_AWS_DEFAULT"]
    assert (platform.state_dir / "airflow.env").read_text().count("export ") == len(env)
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=platform.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert {"retail-analytics-raw-local", "toll-plaza-landing-local", "csv-lake-raw-local", "vn-stock-raw-local"} <= {
        bucket["Name"] for bucket in s3.list_buckets()["Buckets"]
    }

    assert platform.down() == ["local AWS", "embedded PostgreSQL"]
    assert platform.down() == []
    assert not processes.process_running(aws_pid) and not processes.process_running(postgres_pid)
    assert platform.status() == {"postgres": "stopped", "local AWS": "stopped", "airflow UI": "stopped"}


def test_a_taken_aws_port_stops_up_with_a_message_naming_the_port_and_the_setting(platform):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", platform.aws_port))
        squatter.listen()
        with pytest.raises(PlatformError, match=rf"port {platform.aws_port} is taken.*LOCAL_AWS_PORT"):
            platform.up()
    assert processes.read_pid(platform.aws_pid) is None
