"""What is on disk under ``<state-dir>/saved/``, and how it is written so that a kill never damages it.

    snapshot.bin        b"LOCAL-AWS-STATE 1\\n", one line of JSON (versions, when, counts, the pickle's
                        SHA-256), then the pickle of every backend
    blobs/ab/abcd...    S3 object bodies, named by their SHA-256, shared by identical objects
    lock                held (flock) by the server using this folder

Every file is written to a temporary name, fsynced, renamed over its final name, then the folder is
fsynced: a reader finds the previous complete file or the new complete one, never a part. Blobs are on
disk before the snapshot naming them; blobs no snapshot names any more are deleted after the next one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path

from local_platform.aws.state.pickling import BLOB_ATTR, VERSION_ATTR

MAGIC = b"LOCAL-AWS-STATE 1\n"
SNAPSHOT = "snapshot.bin"


class StateError(RuntimeError):
    """The saved state cannot be used; the message says which file and what to do."""


def atomic_write(path: Path, chunks) -> None:
    """Write ``chunks`` (bytes-likes) to ``path`` so that ``path`` is always either old or new, whole."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with temporary.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class BlobStore:
    """S3 object bodies, content-addressed. Only the snapshot thread writes or deletes here."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.present: set[str] = set()
        for path in folder.glob("*/*"):
            if path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)  # left by a kill during a write
            else:
                self.present.add(path.name)
        self.referenced: set[str] = set()  # digests named by the snapshot being written
        self.written_bytes = 0

    def path(self, digest: str) -> Path:
        return self.folder / digest[:2] / digest

    def is_saved(self, key) -> bool:
        """Whether the FakeKey's current body is here (as far as its cached digest tells)."""
        cached = key.__dict__.get(BLOB_ATTR)
        return cached is not None and cached[1] == key.__dict__.get(VERSION_ATTR, 0) and cached[0] in self.present

    def save_key(self, key) -> str:
        """The digest of a FakeKey's body, written here if new; cached on the key until its value changes."""
        if self.is_saved(key):
            digest = key.__dict__[BLOB_ATTR][0]
        else:
            version = key.__dict__.get(VERSION_ATTR, 0)  # read before the value: a write meanwhile bumps it
            try:
                body = key.value
            except ValueError:  # a deleted key's buffer is closed; nothing to keep
                body = b""
            digest = hashlib.sha256(body).hexdigest()
            if digest not in self.present:
                target = self.path(digest)
                target.parent.mkdir(exist_ok=True)
                atomic_write(target, [body])
                self.present.add(digest)
                self.written_bytes += len(body)
            key.__dict__[BLOB_ATTR] = (digest, version)
        self.referenced.add(digest)
        return digest

    def copy_into(self, digest: str, buffer) -> None:
        try:
            with self.path(digest).open("rb") as blob:
                shutil.copyfileobj(blob, buffer, 1 << 20)
        except FileNotFoundError:
            raise StateError(f"the saved state names an S3 object body that is missing: {self.path(digest)}") from None

    def collect(self, keep: set[str]) -> int:
        """Delete the blobs not in ``keep``; return how many."""
        unused = self.present - keep
        for digest in unused:
            self.path(digest).unlink(missing_ok=True)
        self.present -= unused
        return len(unused)


class SnapshotFile:
    def __init__(self, folder: Path):
        self.path = folder / SNAPSHOT

    def write(self, header: dict, payload: bytes) -> None:
        header = {**header, "sha256": hashlib.sha256(payload).hexdigest(), "bytes": len(payload)}
        atomic_write(self.path, [MAGIC, json.dumps(header).encode() + b"\n", payload])

    def read(self) -> tuple[dict, bytes] | None:
        """(header, pickle) or None when nothing was saved yet; StateError when unreadable."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not data.startswith(MAGIC):
            raise StateError(f"{self.path} is not a saved local AWS state (unknown format)")
        line_end = data.index(b"\n", len(MAGIC))
        header = json.loads(data[len(MAGIC) : line_end])
        payload = data[line_end + 1 :]
        if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
            raise StateError(f"{self.path} is damaged (its checksum does not match)")
        return header, payload


class FolderLock:
    """One server per state folder: two writing the same snapshot would each lose the other's changes."""

    def __init__(self, folder: Path):
        self.path = folder / "lock"
        self._file = None

    def acquire(self) -> None:
        self._file = self.path.open("a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            holder = self._file.read().strip() or "another process"
            self._file.close()
            raise StateError(
                f"{self.path.parent} is in use by {holder}; one local AWS server per state folder "
                f"(give this one another --state-dir)"
            ) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(f"local AWS server pid {os.getpid()}")
        self._file.flush()

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
