"""Late and stuck runs alert through SNS, read back from the local alerts inbox: a run still not done at its
deadline sends ``late`` (Airflow's own deadline machinery: the run's deadline row, the scheduler's handling of a
miss, the triggerer's callback trigger), and a sensor that times out sends ``stuck`` with what it waited for."""

from __future__ import annotations

import asyncio
import textwrap
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pipeline_kit.defaults import DEFAULT_MUST_FINISH_WITHIN

from local_platform.provision import subscribe_inbox
from tests.helpers.airflow_runs import load_dag
from tests.helpers.alerts import drain_alerts

PROBE_DAG = textwrap.dedent("""
    from datetime import datetime, timedelta

    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG
    from pipeline_kit.defaults import dag_defaults

    with DAG("{dag_id}", schedule=None, start_date=datetime(2026, 1, 1),
             **dag_defaults("deadline_probe", must_finish_within=timedelta(seconds=1))):
        EmptyOperator(task_id="never_scheduled")
""")


@pytest.fixture
def alerts_inbox(local_aws, airflow_settings):
    """The alerts topic the settings name, with its local SQS inbox, emptied."""
    sns = local_aws.client("sns")
    topic_arn = sns.create_topic(Name="etl-pipeline-alerts")["TopicArn"]
    subscribe_inbox(local_aws.endpoint, topic_arn)
    drain_alerts(local_aws)
    return local_aws


def _queue_run(dag_folder, dag_id: str):
    """Parse the DAG file, store it as the DAG processor does and queue a run as the scheduler does."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.models.dagbag import DBDagBag
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=str(dag_folder))
    assert not bag.import_errors, bag.import_errors
    sync_bag_to_db(bag, "dags-folder", None)
    with create_session() as session:
        dag = DBDagBag().get_latest_version_of_dag(dag_id, session=session)
        run = dag.create_dagrun(
            run_id=f"manual__{uuid.uuid4().hex[:8]}",
            run_after=datetime.now(UTC),
            run_type=DagRunType.MANUAL,
            triggered_by=DagRunTriggeredByType.TEST,
            state=DagRunState.QUEUED,
            session=session,
        )
        session.flush()
        return run.id, run.run_id, [deadline.deadline_time for deadline in run.deadlines]


def _handle_missed_deadlines(dagrun_id: int) -> list:
    """The scheduler loop's step for deadlines (``Deadline.handle_miss`` on each passed, unhandled one), then the
    triggerer's run of each callback trigger it queued. Returns the triggers' events."""
    from airflow.models import Deadline
    from airflow.triggers.callback import CallbackTrigger
    from airflow.utils.session import create_session
    from sqlalchemy import select

    async def events_of(trigger):
        return [event async for event in trigger.run()]

    with create_session() as session:
        missed = session.scalars(
            select(Deadline).where(
                Deadline.dagrun_id == dagrun_id, ~Deadline.missed, Deadline.deadline_time < datetime.now(UTC)
            )
        ).all()
        for deadline in missed:
            deadline.handle_miss(session)
        session.flush()
        triggers = [CallbackTrigger(**deadline.callback.trigger.kwargs) for deadline in missed]
    return [event for trigger in triggers for event in asyncio.run(events_of(trigger))]


def test_run_not_done_by_its_deadline_sends_a_late_alert(alerts_inbox, tmp_path):
    dag_id = f"deadline_probe_{uuid.uuid4().hex[:6]}"
    (tmp_path / f"{dag_id}.py").write_text(PROBE_DAG.format(dag_id=dag_id))
    dagrun_id, run_id, deadlines = _queue_run(tmp_path, dag_id)
    assert len(deadlines) == 1
    time.sleep(max(0.0, (deadlines[0] - datetime.now(UTC)).total_seconds()) + 0.1)  # the deadline passes

    events = _handle_missed_deadlines(dagrun_id)

    assert [event.payload["state"] for event in events] == ["running", "success"]
    late = [alert for alert in drain_alerts(alerts_inbox) if alert["run_id"] == run_id]
    assert len(late) == 1
    assert late[0]["subject"] == "[LATE] deadline_probe"
    assert late[0]["event"] == "late" and late[0]["dag_id"] == dag_id
    assert late[0]["state"] == "queued"
    assert late[0]["must_finish_within_s"] == 1.0
    assert late[0]["deadline"].startswith(deadlines[0].strftime("%Y-%m-%d %H:%M:%S"))


def _finish_run(dag_id: str, dagrun_id: int):
    """The run's tasks succeed and the scheduler updates the run's state, as its loop does."""
    from airflow.models import DagRun, Deadline
    from airflow.models.dagbag import DBDagBag
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState, TaskInstanceState
    from sqlalchemy import select

    with create_session() as session:
        run = session.get(DagRun, dagrun_id)
        run.dag = DBDagBag().get_latest_version_of_dag(dag_id, session=session)
        run.state = DagRunState.RUNNING
        for ti in run.get_task_instances(session=session):
            ti.state = TaskInstanceState.SUCCESS
        session.flush()
        run.update_state(session=session)
        session.flush()
        return run.state, session.scalars(select(Deadline).where(Deadline.dagrun_id == dagrun_id)).all()


def test_run_done_within_its_deadline_sends_nothing_and_its_deadline_is_dropped(alerts_inbox, tmp_path):
    dag_id = f"deadline_probe_{uuid.uuid4().hex[:6]}"
    (tmp_path / f"{dag_id}.py").write_text(PROBE_DAG.format(dag_id=dag_id).replace("seconds=1", "hours=1"))
    dagrun_id, run_id, deadlines = _queue_run(tmp_path, dag_id)

    assert deadlines[0] - datetime.now(UTC) > timedelta(minutes=59)
    assert _handle_missed_deadlines(dagrun_id) == []
    assert _finish_run(dag_id, dagrun_id) == ("success", [])
    assert [alert for alert in drain_alerts(alerts_inbox) if alert["run_id"] == run_id] == []


def test_every_pipeline_declares_a_deadline_with_the_late_alert():
    from deploy.pipelines import names

    for pipeline in names():
        deadline = load_dag(pipeline).deadline
        deadline = deadline[0] if isinstance(deadline, list) else deadline
        assert deadline.callback.path == "pipeline_kit.alerts.alert_late_run", pipeline
        assert deadline.callback.kwargs["pipeline"] == pipeline
        assert timedelta(0) < deadline.interval <= DEFAULT_MUST_FINISH_WITHIN, pipeline


def test_sensor_timing_out_sends_stuck_with_what_it_waited_for(alerts_inbox):
    dag = load_dag("retail_analytics")
    sensor = dag.get_task("wait_for_drop")
    # The drop never comes; the sensor waits a second instead of twenty hours, polling as it does on AWS.
    sensor.deferrable, sensor.timeout, sensor.poke_interval = False, 1, 0.2

    result = run_dag_in_process(dag, datetime(2024, 5, 1, tzinfo=UTC))

    assert result["wait_for_drop"] == "failed"
    stuck = [alert for alert in drain_alerts(alerts_inbox) if alert["event"] == "stuck"]
    assert len(stuck) == 1
    assert stuck[0]["subject"] == "[STUCK] retail_analytics"
    assert stuck[0]["task_id"] == "wait_for_drop"
    assert stuck[0]["waiting_for"] == {
        "bucket_name": "retail-analytics-raw-local",
        "bucket_key": "retail/dt=2024-05-01/_SUCCESS",
        "wildcard_match": False,
        "timeout_s": 1,
    }
    assert "timed out" in stuck[0]["error"].lower() or "timeout" in stuck[0]["error"].lower()


def run_dag_in_process(dag, logical_date) -> dict[str, str]:
    dag_run = dag.test(logical_date=logical_date)
    return {ti.task_id: str(ti.state).split(".")[-1].lower() for ti in dag_run.get_task_instances()}
