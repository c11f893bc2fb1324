"""The local AWS server's state survives a restart: a clean stop, a crash or ``kill -9``.

What is saved: every moto backend in use, whole (S3 buckets, objects with their versions, metadata and
configuration; the Glue catalog, crawlers, jobs and run history; IAM; SNS; SQS with its messages; Lambda
functions with their code; RDS; Redshift; Secrets Manager; CloudWatch Logs; Kinesis; CloudFormation; any
other service used). See :mod:`.pickling` for how, :mod:`.store` for the files, :mod:`.interrupted` for the
work that was running at the stop.

When: every ``interval_s`` (2 s) if a request that may change state (not GET/HEAD, nor an action named
Get/Describe/List/...) finished since the last snapshot, and once more when the server stops on SIGTERM/SIGINT.
Compute extensions also change state from their own threads (a Glue run, a crawl, an asynchronous Lambda, a
Redshift statement): while such a thread lives, snapshots follow as long as they find changes, then back off
to every 4th tick while nothing changes, and one follows the tick after the work ends. A snapshot identical
to the last one is not written. So a kill loses at most the request-made changes of the last ``interval_s``
plus the time a snapshot takes (tens to hundreds of milliseconds; more right after large uploads, whose
bodies are written first); a change a background job makes after a quiet spell of its own may wait up to
4 ticks.

How a snapshot runs beside requests: S3 bodies new since the last snapshot are written to the blob store
first, while the server keeps serving. Then requests that change state wait at the door (reads go on)
while the running ones finish — for at most ``DRAIN_S``: a Lambda handler calling the server from inside
an Invoke must not deadlock — and the backends are pickled to memory; then the door opens and the file is
written. Requests wait for the pickling only: about 0.1 s for the provisioned platform on the 2-core
development machine, most of it the 1,300 default EC2 images that moto creates once Redshift or RDS is used
(``benchmarks/aws_state_snapshot.py``).

``GET /_local_aws/state`` reports the request generation, the generation the last snapshot covers, and
timings; tests wait on it rather than sleeping.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import pickle
import re
import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from local_platform.aws.state import backends, interrupted
from local_platform.aws.state.pickling import (
    VERSION_ATTR,
    BodiesPending,
    StatePickler,
    loading_blobs,
    python_version,
)
from local_platform.aws.state.store import BlobStore, FolderLock, SnapshotFile, StateError

__all__ = ["Persistence", "StateError", "STATUS_PATH"]

log = logging.getLogger("local_platform.aws.state")

STATUS_PATH = "/_local_aws/state"
DRAIN_S = 0.1  # how long a snapshot waits for running requests that change state
BODY_ATTEMPTS = 3  # pickling attempts that leave S3 bodies put meanwhile to the pass outside the pause
MAX_WAIT_S = 5.0
MAX_BACKOFF_TICKS = 4  # background work that changes nothing is looked at every 4th tick at least  # a request never waits longer than this at the door, whatever the snapshot does
READ_ACTION = re.compile(
    r"(Get|Describe|List|Search|Lookup|Head|Query|Scan|Select|Validate|BatchGet|BatchDescribe)"
    r"($|[A-Z])"
)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
FORMAT = 1
# What pickling a service can raise when something in it cannot be pickled (or its registry not be found).
UNPICKLABLE = (pickle.PicklingError, TypeError, AttributeError, ValueError, LookupError)


def moto_version() -> str:
    import moto

    return moto.__version__


def changes_state(environ: dict) -> bool:
    """Whether a request may change state: by HTTP method (REST protocols), else by action name (JSON and
    query protocols). Unknown is "yes": a needless snapshot is cheap, a missed one is lost data."""
    if environ.get("REQUEST_METHOD", "GET") in SAFE_METHODS:
        return False
    action = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
    if not action:
        match = re.search(r"(?:^|&)Action=([A-Za-z]+)", environ.get("QUERY_STRING", ""))
        action = match.group(1) if match else ""
    return not (action and READ_ACTION.match(action))


class Gate:
    """Requests that change state pass through; a snapshot closes it for the moment it pickles."""

    def __init__(self):
        self._condition = threading.Condition()
        self._open = True
        self._running = 0
        self.generation = 0  # state-changing requests finished so far

    @contextlib.contextmanager
    def passage(self):
        with self._condition:
            if not self._open:
                self._condition.wait_for(lambda: self._open, timeout=MAX_WAIT_S)
            self._running += 1
        try:
            yield
        finally:
            with self._condition:
                self._running -= 1
                self.generation += 1
                self._condition.notify_all()

    @contextlib.contextmanager
    def closed(self):
        """Closed, with running requests given ``DRAIN_S`` to finish; yields the generation covered."""
        with self._condition:
            self._open = False
            self._condition.wait_for(lambda: self._running == 0, timeout=DRAIN_S)
            generation = self.generation  # requests still running (drain timed out) count when they finish
        try:
            yield generation
        finally:
            with self._condition:
                self._open = True
                self._condition.notify_all()


class Persistence:
    """Saves and restores the server's moto state under ``folder`` (``<state-dir>/saved``)."""

    def __init__(self, folder: Path, interval_s: float = 2.0):
        self.folder = Path(folder)
        self.interval_s = interval_s
        self.snapshot_file = SnapshotFile(self.folder)
        self.blobs: BlobStore | None = None
        self.gate = Gate()
        self._lock = FolderLock(self.folder)
        self._snapshot_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._baseline_threads: set[int] = set()
        self._last_digest: str | None = None
        self._unsaveable: dict[str, str] = {}  # service -> why, logged once
        self._dropped_logged: set[str] = set()
        self.status = {
            "folder": str(self.folder),
            "interval_s": interval_s,
            "generation": 0,
            "saved_generation": 0,
            "snapshots_written": 0,
            "last_saved_at": None,
            "last_duration_s": None,
            "last_pause_s": None,
            "last_bytes": None,
            "last_error": None,
            "restored": None,
        }

    # --- start -------------------------------------------------------------------------------------------------

    def open(self, fresh: bool = False) -> None:
        """Lock the folder, restore what it holds (or wipe it when ``fresh``), and watch requests."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        for partial in self.folder.glob(".*.tmp"):  # a snapshot being written when the server was killed
            partial.unlink(missing_ok=True)
        if fresh:
            self.snapshot_file.path.unlink(missing_ok=True)
            shutil.rmtree(self.folder / "blobs", ignore_errors=True)
            log.warning("local AWS state: --fresh given, saved state in %s deleted; starting empty", self.folder)
        self.blobs = BlobStore(self.folder / "blobs")
        _track_value_writes()
        self._restore()
        _watch_requests(self)

    def _restore(self) -> None:
        found = self.snapshot_file.read()
        if found is None:
            log.info("local AWS state: nothing saved in %s yet; starting empty", self.folder)
            return
        header, payload = found
        advice = (
            f"Start clean with `make clean` (deletes all of .local), or delete {self.folder}, or start the "
            f"server once with --fresh (LOCAL_AWS_FRESH=1)."
        )
        saved_by = (header.get("format"), header.get("moto"), header.get("python"))
        if saved_by != (FORMAT, moto_version(), python_version()):
            raise StateError(
                f"{self.snapshot_file.path} was saved by moto {header.get('moto')} on Python "
                f"{header.get('python')} (format {header.get('format')}); this server runs moto "
                f"{moto_version()} on Python {python_version()} (format {FORMAT}) and cannot read it. "
                f"{advice}"
            )
        started = time.monotonic()
        try:
            with loading_blobs(self.blobs):
                state = pickle.loads(payload)["backends"]  # noqa: S301  (our own file, in our own folder)
        except StateError as exc:
            raise StateError(f"{exc}. {advice}") from None
        except Exception as exc:  # noqa: BLE001  (any failure to read means the same to the user)
            raise StateError(
                f"{self.snapshot_file.path} cannot be read ({type(exc).__name__}: {exc}). {advice}"
            ) from exc
        backends.install(state)
        settled = interrupted.settle(backends.services(state))
        counts = backends.summary(state)
        took = time.monotonic() - started
        saved_at = header.get("written_at", "?")
        log.info(
            "local AWS state restored from %s (saved %s, %.2f s to load): %s",
            self.snapshot_file.path,
            saved_at,
            took,
            backends.format_summary(counts),
        )
        if settled:
            log.warning(
                "local AWS state: work running at the last stop marked FAILED (%s): %s",
                interrupted.MESSAGE,
                ", ".join(f"{number} {kind}" for kind, number in settled.items()),
            )
        self.status["restored"] = {
            "saved_at": saved_at,
            "seconds": round(took, 3),
            "counts": counts,
            "interrupted": dict(settled),
        }

    def start(self) -> None:
        """Snapshot in the background from now on (call once the server runs)."""
        self._baseline_threads = {thread.ident for thread in threading.enumerate()}
        self._thread = threading.Thread(target=self._loop, name="local-aws-snapshots", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop snapshotting and write the final snapshot (on SIGTERM/SIGINT)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.snapshot("stop")
            log.info("local AWS state saved on stop in %s (%.2f s)", self.folder, self.status["last_duration_s"])
        except Exception:  # noqa: BLE001  (the previous snapshot stays; say what was lost)
            log.exception(
                "local AWS state NOT saved on stop: changes since %s are lost",
                datetime.fromtimestamp(self.status["last_saved_at"] or 0, UTC).isoformat(),
            )
        finally:
            self._lock.release()

    # --- snapshots ---------------------------------------------------------------------------------------------

    def _loop(self) -> None:
        """Every tick: snapshot if a state-changing request finished since the last one; while background work
        runs, snapshot too, but every 2nd, 4th... tick (up to ``MAX_BACKOFF_TICKS``) while it changes nothing
        (a long-lived thread must not cost a pickling every tick); and right after the work ends."""
        backoff, skip, busy_before = 1, 0, False
        while not self._stopping.wait(self.interval_s):
            busy = self._background_work()
            requested = self.gate.generation != self.status["saved_generation"]
            ended = busy_before and not busy
            busy_before = busy
            if not (requested or busy or ended) or (skip and not (requested or ended)):
                skip = max(skip - 1, 0)
                continue
            try:
                written = self.snapshot("periodic")
            except Exception as exc:  # noqa: BLE001  (keep trying: the next tick may succeed)
                self.status["last_error"] = f"{type(exc).__name__}: {exc}"
                log.exception("local AWS state: snapshot failed; the previous one is kept")
                written = False
            backoff = 1 if requested or written else min(backoff * 2, MAX_BACKOFF_TICKS)
            skip = backoff - 1

    def _background_work(self) -> bool:
        """A thread that is neither the server's, a request's, nor this one's: compute at work."""
        return any(
            thread.ident not in self._baseline_threads
            and thread is not self._thread
            and "process_request_thread" not in thread.name
            for thread in threading.enumerate()
        )

    def snapshot(self, reason: str) -> bool:
        """Write a snapshot unless it would equal the last one; True if written."""
        with self._snapshot_lock:
            started = time.monotonic()
            for attempt in range(BODY_ATTEMPTS):
                self._save_new_bodies()  # while requests flow
                paused = time.monotonic()
                with self.gate.closed() as generation:
                    try:  # the last attempt saves bodies put meanwhile itself, rather than never finishing
                        payload, dropped = self._pickle(backends.collect(), attempt == BODY_ATTEMPTS - 1)
                    except BodiesPending:
                        continue
                    finally:
                        pause_s = time.monotonic() - paused
                break
            self._log_dropped(dropped)
            digest = hashlib.sha256(payload).hexdigest()
            written = digest != self._last_digest
            if written:
                header = {
                    "format": FORMAT,
                    "moto": moto_version(),
                    "python": python_version(),
                    "written_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "reason": reason,
                    "generation": generation,
                    "not_saved": self._unsaveable,
                }
                self.snapshot_file.write(header, payload)
                self.blobs.collect(self.blobs.referenced)
                self._last_digest = digest
            self.status.update(
                {
                    "saved_generation": generation,
                    "last_duration_s": round(time.monotonic() - started, 4),
                    "last_pause_s": round(pause_s, 4),
                    "last_saved_at": time.time(),
                    "last_bytes": len(payload),
                    "snapshots_written": self.status["snapshots_written"] + written,
                    "last_error": None,
                }
            )
            return written

    def _save_new_bodies(self) -> None:
        """Write S3 bodies not yet in the blob store while requests still flow (the pickling then finds them)."""
        for backend in backends.services(backends.collect()).get("s3", []):
            for bucket in list(backend.buckets.values()):
                keys = [key for versions in list(dict.values(bucket.keys)) for key in versions]
                keys += [part for upload in list(bucket.multiparts.values()) for part in list(upload.parts.values())]
                for key in keys:
                    if hasattr(key, "_value_buffer"):  # not a delete marker
                        self.blobs.save_key(key)

    def _pickle(self, state: list[tuple], write_bodies: bool) -> tuple[bytes, dict]:
        """The pickled state; a service that cannot be pickled is left out and named in the log (once)."""
        kept = [entry for entry in state if backends.service_key(entry[0]) not in self._unsaveable]
        for attempt in range(5):
            try:
                return self._dump(kept, write_bodies)
            except RuntimeError as exc:  # a compute thread changed a dict while it was pickled
                if "changed size during iteration" not in str(exc) or attempt == 4:
                    raise
            except UNPICKLABLE:
                kept = self._leave_out_unpicklable(kept)
        raise AssertionError("unreachable")

    def _dump(self, state: list[tuple], write_bodies: bool = True) -> tuple[bytes, dict]:
        buffer = io.BytesIO()
        self.blobs.referenced = set()
        pickler = StatePickler(buffer, self.blobs, backends.registry_name, write_bodies)
        pickler.dump({"backends": state})
        return buffer.getvalue(), pickler.dropped

    def _leave_out_unpicklable(self, state: list[tuple]) -> list[tuple]:
        kept = []
        for entry in state:
            try:
                self._dump([entry])
                kept.append(entry)
            except UNPICKLABLE as exc:
                service = backends.service_key(entry[0])
                self._unsaveable[service] = f"{type(exc).__name__}: {exc}"
                log.error(
                    "local AWS state: %s cannot be saved (%s); its state will not survive a restart",
                    service,
                    self._unsaveable[service],
                )
        return kept

    def _log_dropped(self, dropped: dict) -> None:
        for kind in sorted(set(dropped) - self._dropped_logged):
            self._dropped_logged.add(kind)
            log.info("local AWS state: %s objects are not saved (they cannot outlive the process)", kind)

    def describe(self) -> dict:
        return {**self.status, "generation": self.gate.generation}


# --- hooks into moto -------------------------------------------------------------------------------------------

_hooks = {"values": False, "requests": None}


def _track_value_writes() -> None:
    """Count writes of an S3 object's value, so that a body is hashed and saved again only after one."""
    if _hooks["values"]:
        return
    from moto.s3.models import FakeKey

    original = FakeKey.value

    def set_value(key, value) -> None:
        original.fset(key, value)
        key.__dict__[VERSION_ATTR] = key.__dict__.get(VERSION_ATTR, 0) + 1

    FakeKey.value = property(original.fget, set_value)
    _hooks["values"] = True


def _watch_requests(persistence: Persistence) -> None:
    """Every request passes moto's DomainDispatcherApplication: count those that change state, let them
    through the snapshot gate, and answer ``GET /_local_aws/state``."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    first = _hooks["requests"] is None
    _hooks["requests"] = persistence
    if not first:
        return
    original = DomainDispatcherApplication.__call__

    def __call__(self, environ, start_response):  # noqa: N807
        current = _hooks["requests"]
        if environ.get("PATH_INFO") == STATUS_PATH:
            body = json.dumps(current.describe()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if not changes_state(environ):
            return original(self, environ, start_response)
        with current.gate.passage():
            return original(self, environ, start_response)

    DomainDispatcherApplication.__call__ = __call__
