"""Waiting in tests for something to happen, instead of sleeping a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(find: Callable[[], T], timeout_s: float, interval_s: float = 0.05) -> T:
    """What ``find`` returns once it is truthy, or its last (falsy) result after ``timeout_s``: the caller asserts
    on it, naming what did not happen."""
    deadline = time.monotonic() + timeout_s
    while not (found := find()) and time.monotonic() < deadline:
        time.sleep(interval_s)
    return found
