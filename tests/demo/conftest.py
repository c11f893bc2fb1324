"""One whole demo, run as a user runs it (``python -m local_platform demo``: scheduler, two Celery workers, SQS
broker, REST API) on a platform of its own (own folder, ports and embedded PostgreSQL), shared by the tests of
this folder and stopped after them. Screenshots go to ``.local/test-artifacts/``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.helpers.platform import PROJECT_ROOT, free_port

ARTIFACTS = PROJECT_ROOT / ".local" / "test-artifacts"


@pytest.fixture(scope="session")
def demo_platform():
    """(platform, summary, demo output): the demo has run; its Airflow is still up for the UI tests."""
    from local_platform.platform import LocalPlatform

    # Not under pytest's basetemp: another pytest session on the machine may prune it while the platform runs.
    state_dir = Path(tempfile.mkdtemp(prefix="demo-platform-"))
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "LOCAL_", "PG"))
    }  # nothing of the test session's own Airflow
    env.update(
        LOCAL_STATE_DIR=str(state_dir),
        LOCAL_AWS_PORT=str(free_port()),
        LOCAL_POSTGRES_PORT=str(free_port()),
        AIRFLOW_UI_PORT=str(free_port()),
        LOCAL_CAFEF_PORT=str(free_port()),
    )
    saved = {key: os.environ.get(key) for key in env if key.startswith(("LOCAL_", "AIRFLOW_UI"))}
    os.environ.update({key: env[key] for key in saved})
    platform = LocalPlatform(state_dir=state_dir)
    try:
        demo = subprocess.run(
            [sys.executable, "-m", "local_platform", "demo"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=40 * 60,
        )
        output = demo.stdout + demo.stderr
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "demo-output.txt").write_text(output)
        summary_path = state_dir / "demo" / "summary.json"
        assert summary_path.exists(), output[-6000:]
        yield platform, json.loads(summary_path.read_text()), output
    finally:
        platform.down()
        # The platform's own logs (Airflow's components, each worker, local AWS) beside the screenshots.
        shutil.copytree(state_dir / "logs", ARTIFACTS / "demo-platform-logs", dirs_exist_ok=True)
        shutil.rmtree(state_dir, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
