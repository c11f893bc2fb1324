"""Run whole DAGs in-process with ``dag.test()``: the same code the demo uses."""

from local_platform.dag_runs import DagRunResult, load_dag, migrate_metadata_db, run_dag

__all__ = ["DagRunResult", "load_dag", "migrate_metadata_db", "run_dag"]
