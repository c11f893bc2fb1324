"""The demo as a user runs it: through Airflow's scheduler, its Celery workers and its REST API.

Set-up (timed apart): the platform, each scenario's inputs, Airflow (restarted with the scenarios' settings),
every DAG parsed. Then the pipelines (timed): every DAG unpaused, its dates triggered (or one backfill), all
pipelines at once as the scheduler and its pools allow; progress printed task by task until every run has
finished. Then the summary, taken from the runs (states, each run's summary from its alert) and the scenarios'
reports, also written as JSON to ``<state>/demo/summary.json``.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import time
from datetime import datetime

from local_platform.airflow_api import TERMINAL_RUN_STATES, AirflowApi, AirflowApiError
from local_platform.demo import DemoContext, DemoOutcome, DemoScenario, drain_alerts, format_summary
from local_platform.platform import NAMESPACE, LocalPlatform
from local_platform.settings import variables

PROGRESS_POLL_S = 1.0
RUN_TIMEOUT_S = 30 * 60
BACKFILL_COMPLETION_S = 90  # the scheduler's check of finished backfills runs every 30 s


@dataclasses.dataclass
class LaunchedRun:
    dag_id: str
    date: str
    run_id: str
    state: str = "queued"
    task_states: dict[str, str] = dataclasses.field(default_factory=dict)
    start_date: str | None = None
    end_date: str | None = None
    backfill_id: int | None = None


def alerts_of_every_run(ctx: DemoContext, runs: list[LaunchedRun], timeout_s: float = 180) -> list[dict]:
    """The alerts received, once every run has sent one (its success, no-data or failure alert) or ``timeout_s``
    has passed. A task's success callback runs after the task has reported its state, so a run can read as
    finished in the API a little before its alert is published."""
    alerts: list[dict] = []
    deadline = time.monotonic() + timeout_s
    while True:
        alerts += drain_alerts(ctx)
        waiting = {run.run_id for run in runs} - {alert.get("run_id") for alert in alerts}
        if not waiting or time.monotonic() > deadline:
            if waiting:
                print(f"== no alert after {timeout_s:.0f}s from: {', '.join(sorted(waiting))}", flush=True)
            return alerts
        time.sleep(1)


def load_scenarios(pipelines: list[str]) -> list[DemoScenario]:
    return [importlib.import_module(f"local_platform.demo.{pipeline}").SCENARIO for pipeline in pipelines]


def launch(api: AirflowApi, scenario: DemoScenario) -> list[LaunchedRun]:
    """Unpause the DAG, remove earlier runs of the scenario's dates (a demo run again starts afresh: the pipelines
    are idempotent per date), then trigger a run per date or one backfill."""
    api.unpause(scenario.dag_id)
    api.cancel_unfinished_backfills(scenario.dag_id)
    for run in api.runs(scenario.dag_id):
        if (run["logical_date"] or "")[:10] in scenario.dates:
            api.delete_run(scenario.dag_id, run["dag_run_id"])
    if not scenario.backfill:
        return [
            LaunchedRun(scenario.dag_id, date, api.trigger(scenario.dag_id, date)["dag_run_id"])
            for date in scenario.dates
        ]
    backfill = api.backfill(
        scenario.dag_id, scenario.dates[0], scenario.dates[-1], max_active_runs=scenario.backfill_max_active_runs
    )
    runs = [
        run
        for run in api.runs(scenario.dag_id)
        if run["run_type"] == "backfill" and (run["logical_date"] or "")[:10] in scenario.dates
    ]
    dates = sorted(run["logical_date"][:10] for run in runs)
    if dates != sorted(scenario.dates):
        raise AirflowApiError(
            f"backfill {backfill['id']} of {scenario.dag_id} made runs for {dates}, "
            f"the scenario asks for {scenario.dates}"
        )
    print(f"   backfill {backfill['id']} of {scenario.dag_id}: {len(runs)} runs", flush=True)
    return [
        LaunchedRun(scenario.dag_id, run["logical_date"][:10], run["dag_run_id"], backfill_id=backfill["id"])
        for run in runs
    ]


def wait_for_backfills(api: AirflowApi, runs: list[LaunchedRun], timeout_s: float = BACKFILL_COMPLETION_S) -> None:
    """Until the scheduler has marked each backfill of ``runs`` complete (it checks every 30 s, after its runs
    have finished), so that the UI no longer shows it as running when the demo says it is done."""
    deadline = time.monotonic() + timeout_s
    for backfill_id in sorted({run.backfill_id for run in runs if run.backfill_id is not None}):
        while api.get_backfill(backfill_id)["completed_at"] is None:
            if time.monotonic() > deadline:
                print(f"== backfill {backfill_id} not marked complete after {timeout_s:.0f}s", flush=True)
                return
            time.sleep(1)
        print(f"== backfill {backfill_id} complete", flush=True)


def _task_key(ti: dict) -> str:
    return ti["task_id"] if ti.get("map_index", -1) < 0 else f"{ti['task_id']}[{ti['map_index']}]"


def watch(api: AirflowApi, runs: list[LaunchedRun], started: float, timeout_s: float = RUN_TIMEOUT_S) -> None:
    """Until every run has finished: each change of a task's or a run's state printed with the elapsed time. Two
    API calls a round, whatever the number of runs: the API server shares the machine with the workers."""
    deadline = time.monotonic() + timeout_s
    dag_ids = sorted({run.dag_id for run in runs})
    while pending := [run for run in runs if run.state not in TERMINAL_RUN_STATES]:
        if time.monotonic() > deadline:
            raise AirflowApiError(
                f"runs still unfinished after {timeout_s:.0f}s: "
                f"{[(run.dag_id, run.date, run.state) for run in pending]}"
            )
        by_id = {(run.dag_id, run.run_id): run for run in pending}
        details = {(detail["dag_id"], detail["dag_run_id"]): detail for detail in api.runs_of(dag_ids)}
        task_instances = api.task_instances_of(dag_ids, [run.run_id for run in pending])
        elapsed = time.monotonic() - started
        for ti in sorted(task_instances, key=lambda ti: ti.get("start_date") or ""):
            run = by_id.get((ti["dag_id"], ti["dag_run_id"]))
            key, state = _task_key(ti), ti["state"] or "none"
            if run and run.task_states.get(key) != state and state not in ("none", "scheduled", "queued"):
                print(f"[{elapsed:6.1f}s] {run.dag_id} {run.date} {key}: {state}", flush=True)
            if run:
                run.task_states[key] = state
        for key, run in by_id.items():
            detail = details[key]
            if detail["state"] in TERMINAL_RUN_STATES:
                print(f"[{elapsed:6.1f}s] {run.dag_id} {run.date} run {detail['state'].upper()}", flush=True)
            run.state, run.start_date, run.end_date = detail["state"], detail["start_date"], detail["end_date"]
        time.sleep(PROGRESS_POLL_S)


def _wall_s(runs: list[LaunchedRun]) -> float:
    starts = [datetime.fromisoformat(run.start_date) for run in runs if run.start_date]
    ends = [datetime.fromisoformat(run.end_date) for run in runs if run.end_date]
    return (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0


def outcome_of(
    scenario: DemoScenario, runs: list[LaunchedRun], alerts: list[dict], ctx: DemoContext, ui_url: str
) -> DemoOutcome:
    own_alerts = [alert for alert in alerts if alert.get("dag_id") == scenario.dag_id]
    run_dicts = []
    for run in runs:
        summary_alert = next(
            (alert for alert in own_alerts if alert.get("run_id") == run.run_id and alert.get("event") != "failure"), {}
        )
        run_dicts.append(
            {
                "date": run.date,
                "run_id": run.run_id,
                "state": run.state,
                "task_states": run.task_states,
                "log": f"{ui_url}/dags/{run.dag_id}/runs/{run.run_id}",
                "event": summary_alert.get("event"),
                "summary": summary_alert.get("summary"),
            }
        )
    try:
        report, error = scenario.report(ctx), None
    except Exception as exc:  # the demo reports every pipeline, even after one breaks
        report, error = None, f"{type(exc).__name__}: {exc}"
    return DemoOutcome(scenario.dag_id, run_dicts, report, own_alerts, _wall_s(runs), error)


def run_demo(platform: LocalPlatform, pipelines: list[str]) -> int:
    setup_started = time.monotonic()
    env = platform.up()
    ctx = DemoContext(
        endpoint=platform.aws_endpoint,
        postgres_dsn=platform.postgres_dsn(),
        databases=platform.databases(),
        env=env,
        variables=variables(),
        namespace=NAMESPACE,
        state_dir=platform.state_dir,
    )
    scenarios = load_scenarios(pipelines)
    try:
        for scenario in scenarios:
            scenario.prepare(ctx)
        demo_env = dict(env)
        for scenario in scenarios:
            demo_env.update(scenario.extra_env(ctx))
        platform.restart_airflow_unless_running_with(demo_env)
        api = AirflowApi(platform.ui_url)
        api.wait_for_dags([scenario.dag_id for scenario in scenarios])
        drain_alerts(ctx)
        setup_s = time.monotonic() - setup_started
        print(f"== set-up done in {setup_s:.1f}s; Airflow UI: {platform.ui_url}", flush=True)

        pipelines_started = time.monotonic()
        launched: dict[str, list[LaunchedRun]] = {}
        for scenario in scenarios:
            launched[scenario.dag_id] = launch(api, scenario)
            print(
                f"== {scenario.dag_id}: {'backfill' if scenario.backfill else 'runs'} for {', '.join(scenario.dates)}",
                flush=True,
            )
        every_run = [run for runs in launched.values() for run in runs]
        watch(api, every_run, pipelines_started)
        pipelines_s = time.monotonic() - pipelines_started
        alerts = alerts_of_every_run(ctx, every_run)
        wait_for_backfills(api, every_run)
        outcomes = [
            outcome_of(scenario, launched[scenario.dag_id], alerts, ctx, platform.ui_url) for scenario in scenarios
        ]
    finally:
        for scenario in scenarios:
            scenario.cleanup()
    print()
    print(format_summary(outcomes))
    print()
    print(results_summary(ctx, [alert for outcome in outcomes for alert in outcome.alerts]))
    print(
        f"\nTiming: pipelines {pipelines_s:.1f}s (every run, first trigger to last run finished); set-up {setup_s:.1f}s"
    )
    write_summary(platform, outcomes, setup_s, pipelines_s)
    print(
        f"Airflow UI (still running): {platform.ui_url}, no login (every visitor is admin, on 127.0.0.1 only); "
        f"stop: make down"
    )
    return 0 if all(outcome.ok for outcome in outcomes) else 1


def results_summary(ctx: DemoContext, alerts: list[dict]) -> str:
    """The runs' charts (downloaded, with an index page under <state dir>/demo/) and AWS costs, from their alerts."""
    from local_platform.demo.report import collect_results, summary_lines, write_index

    results = collect_results(alerts)
    return "\n".join(summary_lines(results, write_index(ctx.client("s3"), results, ctx.state_dir / "demo")))


def write_summary(platform: LocalPlatform, outcomes: list[DemoOutcome], setup_s: float, pipelines_s: float) -> None:
    path = platform.state_dir / "demo" / "summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "setup_s": round(setup_s, 1),
                "pipelines_s": round(pipelines_s, 1),
                "pipelines": [
                    {
                        "dag_id": outcome.dag_id,
                        "ok": outcome.ok,
                        "runs": outcome.runs,
                        "report": dataclasses.asdict(outcome.report) if outcome.report else None,
                        "alerts": outcome.alerts,
                        "wall_s": outcome.wall_s,
                        "error": outcome.error,
                    }
                    for outcome in outcomes
                ],
            },
            indent=2,
            default=str,
        )
    )
