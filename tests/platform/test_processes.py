"""A service's process that has exited is not running, even while the process that started it has not reaped it
yet (a zombie, which signal 0 still reaches): ``stop_service`` does not wait for it, ``read_pid`` forgets it and
``wait_for_port`` reports its exit at once."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from local_platform import processes
from tests.helpers.platform import free_port
from tests.helpers.waiting import wait_for

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
QUITTER = [sys.executable, "-c", "raise SystemExit(3)"]


def test_a_running_group_runs_and_an_unreaped_exited_one_does_not():
    service = subprocess.Popen(SLEEPER, start_new_session=True)
    try:
        assert processes.group_running(service.pid)
        service.terminate()
        # exited, not reaped: signal 0 still reaches its group
        assert wait_for(lambda: processes.process_state(service.pid) == "Z", 10), "the service did not exit"

        assert not processes.group_running(service.pid)
    finally:
        service.kill()
        service.wait()
    assert not processes.group_running(service.pid)


def test_stopping_a_service_this_process_started_does_not_wait_for_its_deadline(tmp_path):
    pid_file = tmp_path / "sleeper.pid"
    pid = processes.start_service("sleeper", SLEEPER, pid_file, tmp_path / "sleeper.log", {}, tmp_path)

    started = time.monotonic()
    assert processes.stop_service(pid_file, timeout_s=20)
    # It exits on SIGTERM at once; a zombie taken for running made this wait out the 20 s, then send SIGKILL.
    assert time.monotonic() - started < 10
    assert not pid_file.exists() and not processes.group_running(pid)
    assert not processes.stop_service(pid_file)


def test_a_service_that_exited_unreaped_is_forgotten_and_its_start_fails_at_once(tmp_path):
    pid_file, log = tmp_path / "quitter.pid", tmp_path / "quitter.log"
    started = time.monotonic()
    pid = processes.start_service("quitter", QUITTER, pid_file, log, {}, tmp_path)

    with pytest.raises(RuntimeError, match="quitter exited while starting"):
        processes.wait_for_port(free_port(), pid_file, log, "quitter", timeout_s=30)
    assert time.monotonic() - started < 15  # taken for running, it waited out the 30 s for its port
    assert processes.read_pid(pid_file) is None and not pid_file.exists() and not processes.process_running(pid)
