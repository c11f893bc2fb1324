"""Pickling moto's live models: what the standard pickler cannot do, done explicitly.

Everything not listed here is pickled as Python would. Listed:

- S3 objects (``FakeKey``): the body goes to the :class:`~local_platform.aws.state.store.BlobStore` and
  only its digest is pickled; the SpooledTemporaryFile buffer and the lock are rebuilt on load.
- The live registries (``BackendDict``, ``AccountSpecificBackend``) met inside models are references to the
  loading process's own registries, never copies of them.
- Dict subclasses are saved raw (``dict.copy``) and restored raw: moto's ``_VersionedKeyStore`` (S3
  versions) overrides ``items()`` to yield only the latest version, and ``ParameterDict`` (SSM) cannot be
  rebuilt through its ``__init__``; the default pickling would lose or break both.
- Locks, conditions and events are recreated fresh (an event keeps whether it was set).
- Work that cannot outlive the process (threads, subprocesses, open files, sockets, database connections,
  AWS clients, generators, executors) is dropped: the attribute reads ``None`` after a restore, and
  :mod:`.interrupted` marks the work it belonged to as interrupted.
- Lambdas and local functions (moto's ``defaultdict(lambda: ...)``) are saved by value (their code, with
  :mod:`marshal`): the snapshot is therefore tied to the Python version, which its header records.
- Weak containers keep their entries while those are alive elsewhere in the state.
"""

from __future__ import annotations

import collections
import concurrent.futures
import copyreg
import io
import marshal
import pickle
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import types
import weakref
from collections import Counter
from collections.abc import Callable

PROTOCOL = 5
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))
_DROPPED_TYPES = (
    threading.Thread,
    subprocess.Popen,
    io.IOBase,
    socket.socket,
    tempfile.SpooledTemporaryFile,
    tempfile._TemporaryFileWrapper,
    types.GeneratorType,
    types.CoroutineType,
    types.FrameType,
    concurrent.futures.Executor,
    queue.SimpleQueue,
)
# Connections, sessions and clients (module, class): what they point at is gone after a restart.
_DROPPED_CLASSES = (
    ("psycopg2.extensions", "connection"),
    ("psycopg2.extensions", "cursor"),
    ("psycopg", "Connection"),
    ("psycopg", "Cursor"),
    ("botocore.client", "BaseClient"),
    ("botocore.session", "Session"),
    ("boto3.session", "Session"),
    ("requests", "Session"),
    ("urllib3", "PoolManager"),
    ("urllib3.connectionpool", "ConnectionPool"),
    ("sqlite3", "Connection"),
    ("sqlite3", "Cursor"),
    ("ssl", "SSLContext"),
    ("selectors", "BaseSelector"),
)
BLOB_ATTR = "_local_blob"  # (digest, value version) cached on a FakeKey
VERSION_ATTR = "_local_value_version"  # bumped by every write of a FakeKey's value


class BodiesPending(Exception):
    """An S3 body is not in the blob store yet, and the pickler was told not to write one itself."""


class StatePickler(pickle.Pickler):
    """Pickles a snapshot; ``blobs`` stores S3 bodies, ``registry_name`` names a live BackendDict. With
    ``write_bodies`` False, meeting an S3 body not saved yet raises BodiesPending instead of saving it here
    (a snapshot pickles while requests wait: hashing and writing a large body then would hold them up)."""

    def __init__(self, file, blobs, registry_name: Callable[[object], tuple[str, str]], write_bodies: bool = True):
        super().__init__(file, protocol=PROTOCOL)
        self.blobs = blobs
        self.registry_name = registry_name
        self.write_bodies = write_bodies
        self.dropped: Counter[str] = Counter()
        self._actions: dict[type, Callable] = {}

    def reducer_override(self, obj):
        kind = type(obj)
        action = self._actions.get(kind)
        if action is None:
            action = self._actions[kind] = self._classify(kind)
        return action(obj)

    def _classify(self, kind: type) -> Callable:
        from moto.core.base_backend import AccountSpecificBackend, BackendDict
        from moto.s3.models import FakeKey

        if issubclass(kind, FakeKey):
            return self._reduce_key
        if issubclass(kind, BackendDict):
            return lambda registry: (live_registry, self.registry_name(registry))
        if issubclass(kind, AccountSpecificBackend):
            return self._reduce_account_backends
        if kind in _LOCK_TYPES:
            return lambda lock: (threading.RLock if "RLock" in kind.__name__ else threading.Lock, ())
        if issubclass(kind, threading.Condition):
            return lambda condition: (threading.Condition, ())
        if issubclass(kind, threading.Event):
            return lambda event: (fresh_event, (event.is_set(),))
        if issubclass(kind, _DROPPED_TYPES + _loaded_classes(_DROPPED_CLASSES)):
            return self._drop
        if issubclass(kind, (weakref.WeakValueDictionary, weakref.WeakKeyDictionary)):
            return lambda weak: (kind, (), None, None, iter(list(weak.items())))
        if issubclass(kind, weakref.WeakSet):
            return lambda weak: (kind, (list(weak),))
        if kind is weakref.ReferenceType:
            return lambda ref: (weak_reference, (ref(),))
        if kind is weakref.ProxyType or kind is weakref.CallableProxyType:
            return self._drop
        if kind is types.FunctionType:
            return self._reduce_function
        if issubclass(kind, dict) and not issubclass(kind, collections.OrderedDict):
            return _reduce_dict_subclass
        return _default

    def _drop(self, obj):
        self.dropped[f"{type(obj).__module__}.{type(obj).__qualname__}"] += 1
        return (_none, ())

    def _reduce_key(self, key):
        if not self.write_bodies and not self.blobs.is_saved(key):
            raise BodiesPending(key.name)
        digest = self.blobs.save_key(key)
        state = {
            name: value
            for name, value in key.__dict__.items()
            if name not in ("_value_buffer", "lock", BLOB_ATTR, VERSION_ATTR)
        }
        return (copyreg.__newobj__, (type(key),), (state, digest), None, None, restore_key)

    def _reduce_account_backends(self, account_backends):
        module, name = self.registry_name(account_backends_registry(account_backends))
        return (live_account_backends, (module, name, account_backends.account_id))

    def _reduce_function(self, function: types.FunctionType):
        if "<" not in function.__qualname__:
            return _default(function)  # importable by name
        closure = tuple(cell.cell_contents for cell in function.__closure__ or ())
        return (
            make_function,
            (
                marshal.dumps(function.__code__),
                function.__module__,
                function.__name__,
                function.__qualname__,
                function.__defaults__,
                function.__kwdefaults__,
                closure,
            ),
        )


def _loaded_classes(names) -> tuple[type, ...]:
    """The classes among ``names`` whose module this process has imported (an instance needs its class)."""
    found = []
    for module, name in names:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type):
            found.append(cls)
    return tuple(found)


def _default(_obj):
    return NotImplemented


def _reduce_dict_subclass(mapping: dict):
    factory = mapping.default_factory if isinstance(mapping, collections.defaultdict) else None
    state = (getattr(mapping, "__dict__", None), dict.copy(mapping), factory)
    return (copyreg.__newobj__, (type(mapping),), state, None, None, restore_dict_subclass)


# --- what the unpickler calls (module-level, so the snapshot refers to them by name) ----------------------------

_loading_blobs = threading.local()


class loading_blobs:  # noqa: N801  (a context manager read as a phrase)
    """While unpickling, S3 bodies are read from ``blobs``."""

    def __init__(self, blobs):
        self.blobs = blobs

    def __enter__(self):
        _loading_blobs.store = self.blobs

    def __exit__(self, *exc):
        _loading_blobs.store = None


def restore_key(key, state_and_digest) -> None:
    state, digest = state_and_digest
    key.__dict__.update(state)
    key._value_buffer = tempfile.SpooledTemporaryFile(max_size=key._max_buffer_size)
    _loading_blobs.store.copy_into(digest, key._value_buffer)
    key.lock = threading.Lock()
    key.__dict__[BLOB_ATTR] = (digest, 0)
    key.__dict__[VERSION_ATTR] = 0


def restore_dict_subclass(mapping: dict, state) -> None:
    attributes, items, factory = state
    if attributes:
        mapping.__dict__.update(attributes)
    dict.update(mapping, items)  # dict's own update: no overridden __setitem__ in the way
    if factory is not None:
        mapping.default_factory = factory


def live_registry(module: str, name: str):
    import importlib

    return getattr(importlib.import_module(module), name)


def live_account_backends(module: str, name: str, account_id: str):
    return live_registry(module, name)[account_id]


def account_backends_registry(account_backends):
    """The BackendDict an AccountSpecificBackend belongs to."""
    from moto.core.base_backend import BackendDict

    for registry in BackendDict._instances:
        if any(value is account_backends for value in dict.values(registry)):
            return registry
    raise pickle.PicklingError(
        f"{account_backends.service_name} backends of account {account_backends.account_id} belong to no live registry"
    )


def fresh_event(is_set: bool) -> threading.Event:
    event = threading.Event()
    if is_set:
        event.set()
    return event


def weak_reference(target):
    return None if target is None else weakref.ref(target)


def make_function(code: bytes, module: str, name: str, qualname: str, defaults, kwdefaults, closure):
    import importlib

    function = types.FunctionType(
        marshal.loads(code),
        vars(importlib.import_module(module)),
        name,
        defaults,
        tuple(types.CellType(value) for value in closure) or None,
    )
    function.__qualname__ = qualname
    function.__kwdefaults__ = kwdefaults
    return function


def _none():
    return None


def python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"
