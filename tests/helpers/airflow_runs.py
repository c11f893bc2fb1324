"""Run whole DAGs in-process with ``dag.test()`` and read back what happened."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import datetime

from tests.helpers.platform import PROJECT_ROOT


def migrate_metadata_db() -> None:
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True,
                   cwd=PROJECT_ROOT)


def load_dag(dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"), include_examples=False)
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


@dataclasses.dataclass
class DagRunResult:
    state: str
    task_states: dict[str, str]
    run_id: str

    def xcom(self, task_id: str, key: str = "return_value"):
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            row = session.query(XComModel).filter_by(run_id=self.run_id, task_id=task_id, key=key).one_or_none()
            return None if row is None else XComModel.deserialize_value(row)


def run_dag(dag_id: str, logical_date: datetime | None, conf: dict | None = None) -> DagRunResult:
    dag = load_dag(dag_id)
    dag_run = dag.test(logical_date=logical_date, run_conf=conf)
    task_states = {ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]": str(ti.state)
                   for ti in dag_run.get_task_instances()}
    state = str(dag_run.state)
    return DagRunResult(state=state.split(".")[-1].lower(), task_states=task_states, run_id=dag_run.run_id)
