"""Background services of the local platform: started as their own process group, tracked by pid file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def read_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    if not process_running(pid):
        pid_file.unlink(missing_ok=True)
        return None
    return pid


def start_service(name: str, command: list[str], pid_file: Path, log_file: Path, env: dict[str, str], cwd: Path) -> int:
    """Start ``command`` in a new session (so it can be stopped as a group); return its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file.write_text(str(process.pid))
    return process.pid


def stop_service(pid_file: Path, timeout_s: float = 20.0) -> bool:
    """Stop the process group recorded in ``pid_file``: SIGTERM, then SIGKILL. True if one was running. The group
    is stopped even when its leader has exited (Airflow's components outlive the shell that started them)."""
    group = _group_still_running(pid_file)  # read first: read_pid forgets a file whose leader has exited
    pid = read_pid(pid_file) or group
    if pid is None:
        return False
    for signum, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, signum)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not group_running(pid):
                break
            time.sleep(0.2)
        else:
            continue
        break
    pid_file.unlink(missing_ok=True)
    return True


def _group_still_running(pid_file: Path) -> int | None:
    try:
        group = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return group if group_running(group) else None


PROC = Path("/proc")
EXITED = ("Z", "X")  # a zombie (exited, not reaped by its parent yet) or dead


def _stat_fields(stat: Path) -> list[str]:
    """A ``/proc/<pid>/stat``'s fields after the command name: the state, the parent, the process group, ..."""
    return stat.read_text().rsplit(")", 1)[1].split()


def process_state(pid: int, proc: Path = PROC) -> str | None:
    """The process's state letter (``R``, ``S``, ... ``Z`` for a zombie); None when there is no such process."""
    try:
        return _stat_fields(proc / str(pid) / "stat")[0]
    except FileNotFoundError:
        return None


def process_running(pid: int, proc: Path = PROC) -> bool:
    """Whether ``pid`` runs: a zombie (exited, its parent has not reaped it yet) does not, though signal 0 reaches
    it. Without ``/proc`` (macOS), signal 0 decides."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not proc.is_dir() or process_state(pid, proc) not in (None, *EXITED)


def group_running(group: int, proc: Path = PROC) -> bool:
    """Whether a process of ``group`` still runs. One that has exited but that its parent has not reaped yet (a
    zombie: a service stopped by the process that started it) has stopped; signal 0 would take it for running, and
    ``stop_service`` would wait for it until its deadlines. Without ``/proc`` (macOS), signal 0 decides."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    if not proc.is_dir():
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            state, _, process_group = _stat_fields(stat)[:3]
        except (OSError, ValueError):
            continue  # the process ended while the folder was read
        if int(process_group) == group and state not in EXITED:
            return True
    return False


def wait_for_port(port: int, pid_file: Path, log_file: Path, what: str, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if read_pid(pid_file) is None:
            raise RuntimeError(f"{what} exited while starting; see {log_file}:\n{_tail(log_file)}")
        if port_in_use(port):
            return
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not open 127.0.0.1:{port} within {timeout_s:.0f}s; see {log_file}")


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except FileNotFoundError:
        return "(no log)"
