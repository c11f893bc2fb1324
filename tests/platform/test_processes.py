"""``stop_service`` stops a service's process group and waits only while one of its processes runs: a service this
process started, stopped and not yet reaped (a zombie), has stopped."""

from __future__ import annotations

import subprocess
import sys
import time

from local_platform import processes

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def _wait_until_zombie(pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if processes.process_state(pid) == "Z":
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} did not exit")


def test_a_running_group_runs_and_an_unreaped_exited_one_does_not():
    service = subprocess.Popen(SLEEPER, start_new_session=True)
    try:
        assert processes.group_running(service.pid)
        service.terminate()
        _wait_until_zombie(service.pid)  # exited, not reaped: signal 0 still reaches its group

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
