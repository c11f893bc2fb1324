"""Run a DAG built inside a test with ``dag.test()``.

``dag.test()`` only finds DAGs that a bundle's parsing wrote to the metadata database, and a DAG
defined in a test file lives in no bundle, so it is serialized into the ``dags-folder`` bundle first.
"""

from __future__ import annotations

from local_platform.dag_runs import DagRunResult, run_parsed_dag
from tests.helpers.airflow_runs import POLL_SECONDS


def run_test_dag(dag, poll_seconds: float | None = POLL_SECONDS) -> DagRunResult:
    """The DAG's run, its tasks polling as the pipelines' test runs do (``poll_seconds=None``: as the DAG says)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.collection import update_dag_parsing_results_in_db
    from airflow.serialization.serialized_objects import LazyDeserializedDAG
    from airflow.utils.session import create_session

    with create_session() as session:
        DagBundlesManager().sync_bundles_to_db(session=session)
    with create_session() as session:
        update_dag_parsing_results_in_db(
            "dags-folder", None, [LazyDeserializedDAG.from_dag(dag)], {}, None, set(), session=session
        )
    return run_parsed_dag(dag, poll_seconds=poll_seconds)
