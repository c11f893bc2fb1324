"""Warm Glue drivers kept by the local AWS server, so that a job run costs what its work costs instead of a JVM
start (the driver's side, and what it resets between runs, is in :mod:`.glue_driver`).

A driver runs one job run at a time. The pool starts one when a run finds none free, up to
``LOCAL_GLUE_WARM_DRIVERS`` (default 2; more concurrent runs wait for a free one), and keeps it for the next
runs. A driver that ends during a run (``os._exit``, a crash, a stop, a timeout) fails that run only; the pool
forgets it and the next run starts a new one. ``LOCAL_GLUE_WARM=0`` runs every job in a process of its own
instead, as Glue's cold start would (the cold path of :mod:`.glue_jobs`).
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from local_platform.aws.compute.glue_driver import MARKER

DRIVER_SCRIPT = Path(__file__).with_name("glue_driver.py")
DEFAULT_DRIVERS = 2


def enabled() -> bool:
    return os.environ.get("LOCAL_GLUE_WARM", "1") != "0"


class DriverExited(Exception):
    """The driver process ended before the run did."""

    def __init__(self, returncode: int):
        super().__init__(f"the warm Glue driver exited with code {returncode}")
        self.returncode = returncode


class _Run:
    """Where one run's output goes, and what the driver said at its end."""

    def __init__(self, sinks: dict[str, Callable[[str], None]]):
        self.token = uuid.uuid4().hex
        self.sinks = sinks
        self.ended: set[str] = set()
        self.code: int | None = None
        self.done = threading.Event()


class WarmDriver:
    """One driver process; ``pid`` leads its process group (the JVM and Spark's Python workers included)."""

    def __init__(self, folder: Path, env: dict[str, str]):
        folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, str(DRIVER_SCRIPT), str(folder / "warehouse")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=folder,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        self.pid = self.process.pid
        self._log = (folder / f"driver-{self.pid}.log").open("a")  # what is said outside any run (start-up)
        self._lock = threading.Lock()
        self._run: _Run | None = None
        self.exited = threading.Event()
        self._pumps = [
            threading.Thread(target=self._pump, args=(stream, kind), daemon=True)
            for stream, kind in ((self.process.stdout, "out"), (self.process.stderr, "err"))
        ]
        for pump in self._pumps:
            pump.start()
        threading.Thread(target=self._watch, name=f"glue-driver-{self.pid}", daemon=True).start()

    def __reduce__(self):  # a state snapshot keeps no process: the run it served is settled as interrupted
        return (type(None), ())

    def run(self, request: dict, sinks: dict[str, Callable[[str], None]], timeout_s: float) -> int | None:
        """Run one script (``request``: script, argv, cwd, python_path); its lines go to ``sinks["out"]`` and
        ``sinks["err"]``. Returns its exit code, None if it outlived ``timeout_s`` (the driver is then ended).
        Raises DriverExited if the driver ends first."""
        run = _Run(sinks)
        with self._lock:
            self._run = run
        if self.exited.is_set():  # ended before the run was registered: the watcher could not end it
            run.done.set()
        try:
            self.process.stdin.write(json.dumps({**request, "token": run.token}) + "\n")
            self.process.stdin.flush()
        except OSError:  # already gone: the watcher ends the run
            pass
        try:
            if not run.done.wait(timeout_s):
                self.kill()
                self.exited.wait()
                return None
        finally:
            with self._lock:
                self._run = None
        if run.code is None:
            raise DriverExited(self.process.returncode)
        return run.code

    def kill(self, signum: int = signal.SIGKILL) -> None:
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            pass

    def _pump(self, stream, kind: str) -> None:
        current: _Run | None = None
        for line in stream:
            line = line.rstrip("\n")
            if line.startswith(MARKER):
                current = self._marker(line.split(" "), kind)
                continue
            if current is not None:
                current.sinks[kind](line)
            else:
                self._log.write(f"{kind}: {line}\n")
                self._log.flush()

    def _marker(self, words: list[str], kind: str) -> _Run | None:
        """Handle ``<MARKER> start|end <token> [code]``; return the run the next lines belong to."""
        with self._lock:
            run = self._run
        if run is None or len(words) < 3 or words[2] != run.token:
            return None
        if words[1] == "start":
            return run
        with self._lock:
            run.ended.add(kind)
            if kind == "err":
                run.code = int(words[3])
            if run.ended == {"out", "err"}:
                run.done.set()
        return None

    def _watch(self) -> None:
        self.process.wait()
        self.kill()  # the JVM and Python workers hold the pipes open: the pumps end when they do
        for pump in self._pumps:
            pump.join()
        self._log.close()
        self.exited.set()
        with self._lock:
            run = self._run
        if run is not None:
            run.done.set()


class DriverPool:
    """The server's warm drivers, each serving one run at a time."""

    def __init__(self, folder: Path, env: dict[str, str], size: int):
        self.folder, self.env, self.size = folder, env, size
        self._all: list[WarmDriver] = []
        self._idle: list[WarmDriver] = []
        self._changed = threading.Condition()

    def acquire(self) -> WarmDriver:
        with self._changed:
            while True:
                self._forget_exited()
                if self._idle:
                    return self._idle.pop()
                if len(self._all) < self.size:
                    driver = WarmDriver(self.folder, self.env)
                    self._all.append(driver)
                    return driver
                self._changed.wait()

    def release(self, driver: WarmDriver) -> None:
        with self._changed:
            if not driver.exited.is_set() and driver.process.poll() is None:
                self._idle.append(driver)
            self._forget_exited()
            self._changed.notify()

    def close(self) -> None:
        with self._changed:
            for driver in self._all:
                driver.kill()
            self._all.clear()
            self._idle.clear()

    def _forget_exited(self) -> None:
        self._all = [driver for driver in self._all if driver.process.poll() is None]
        self._idle = [driver for driver in self._idle if driver in self._all]


_pools: dict[Path, DriverPool] = {}
_pools_lock = threading.Lock()


def pool(folder: Path, env: dict[str, str]) -> DriverPool:
    """The pool of drivers kept under ``folder`` (one per server), made at first use."""
    with _pools_lock:
        if folder not in _pools:
            size = int(os.environ.get("LOCAL_GLUE_WARM_DRIVERS", DEFAULT_DRIVERS))
            _pools[folder] = DriverPool(folder, env, size)
            atexit.register(_pools[folder].close)
        return _pools[folder]
