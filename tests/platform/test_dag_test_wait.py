"""``capped_waits``: ``dag.test()`` waits no longer than the run's poll interval when no task is ready (its loop
skips one level of a branch's chain per pass); every other sleep is left alone."""

from __future__ import annotations

import time
from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, task

from local_platform.dag_test_wait import capped_waits
from tests.platform.compute_dags import run_test_dag

CHAIN = [f"skipped_{level}" for level in range(5)]


def branch_skipping_a_chain() -> DAG:
    with DAG("capped_waits", start_date=datetime(2026, 1, 1), schedule=None) as dag:

        @task.branch
        def choose():
            return "taken"

        chosen = choose()
        chosen >> EmptyOperator(task_id="taken")
        previous = chosen
        for task_id in CHAIN:
            current = EmptyOperator(task_id=task_id)
            previous >> current
            previous = current
    return dag


def test_dag_test_waits_at_most_the_cap_while_a_skipped_chain_is_marked(airflow_db):
    with capped_waits(0.05) as waits:
        result = run_test_dag(branch_skipping_a_chain(), poll_seconds=None)

    assert result.state == "success", result.task_states
    assert result.task_states["taken"] == "success"
    assert {result.task_states[task_id] for task_id in CHAIN} == {"skipped"}
    # dag.test() asked to wait (a second each time) while it marked the chain, and slept the cap instead.
    assert waits and {asked for asked, _ in waits} == {1}
    assert {slept for _, slept in waits} == {0.05}


def test_other_sleeps_are_not_capped_and_the_real_sleep_is_back_after():
    real_sleep = time.sleep
    with capped_waits(0.01) as waits:
        started = time.monotonic()
        time.sleep(0.2)
        inside = time.monotonic() - started

    assert inside >= 0.2 and waits == []
    assert time.sleep is real_sleep
