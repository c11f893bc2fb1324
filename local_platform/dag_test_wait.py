"""Shorten ``dag.test()``'s own idle wait in the local platform's in-process runs.

When no task is ready, ``dag.test()`` sleeps one second before looking again (Airflow 3.3.1,
``airflow.sdk.definitions.dag.DAG.test``). Its loop also sets one level of skipped tasks per pass: a branch that
skips a chain of 13 tasks (tweet_hashtags' empty day) waited 13 s for no work at all, most of that test's time.
``capped_waits(seconds)`` makes those waits at most ``seconds`` (the run's poll interval), while the run lasts;
every other sleep of the process, in any thread, is left as it was. Only runs through ``dag_runs.run_dag``;
MWAA runs no ``dag.test()``.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator


def _dag_test_code():
    from airflow.sdk.definitions.dag import DAG

    return DAG.test.__code__


@contextlib.contextmanager
def capped_waits(seconds: float) -> Iterator[list[tuple[float, float]]]:
    """While inside, ``dag.test()``'s own sleeps last at most ``seconds``; yields its waits as they come, each as
    (seconds asked for, seconds slept)."""
    dag_test, real_sleep, waits = _dag_test_code(), time.sleep, []

    def sleep(requested: float) -> None:
        if sys._getframe(1).f_code is dag_test:
            capped = min(requested, seconds)
            waits.append((requested, capped))
            requested = capped
        real_sleep(requested)

    time.sleep = sleep
    try:
        yield waits
    finally:
        time.sleep = real_sleep
