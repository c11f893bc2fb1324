"""Run a DAG built inside a test with ``dag.test()``.

``dag.test()`` only finds DAGs that a bundle's parsing wrote to the metadata database, and a DAG
defined in a test file lives in no bundle, so it is serialized into the ``dags-folder`` bundle first.
"""

from __future__ import annotations

from local_platform.dag_runs import DagRunResult


def run_test_dag(dag) -> DagRunResult:
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
    dag_run = dag.test()
    task_states = {ti.task_id: str(ti.state).split(".")[-1].lower() for ti in dag_run.get_task_instances()}
    return DagRunResult(
        state=str(dag_run.state).split(".")[-1].lower(),
        task_states=task_states,
        run_id=dag_run.run_id,
        dag_id=dag.dag_id,
    )
