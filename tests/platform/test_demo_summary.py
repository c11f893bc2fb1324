"""The demo's closing table says, per pipeline, what ran, what loaded, what was quarantined and what alerted."""

import importlib

from local_platform.__main__ import DEMO_PIPELINES
from local_platform.demo import DemoOutcome, PipelineReport, format_summary


def test_summary_lists_counts_alerts_outputs_and_points_at_the_log_of_a_failed_run():
    outcomes = [
        DemoOutcome(
            "csv_lake",
            [{"state": "success", "date": "2023-05-30", "task_states": {}, "log": "a.log"}],
            PipelineReport(1334, 6, ["s3://processed/billing/"]),
            [{"event": "success"}, {"event": "no_data"}],
            157.5,
        ),
        DemoOutcome(
            "toll_plaza",
            [
                {
                    "state": "failed",
                    "date": "2026-03-14",
                    "log": "/tmp/t.log",
                    "task_states": {"load": "failed", "generate": "success"},
                }
            ],
            None,
            [{"event": "failure"}],
            12.0,
            error=None,
        ),
    ]
    lines = format_summary(outcomes).splitlines()

    assert lines[1].split() == ["csv_lake", "success", "1334", "6", "2", "(no_data,success)", "157.5"]
    assert lines[2].split()[:3] == ["toll_plaza", "failed", "-"]
    assert "csv_lake: s3://processed/billing/" in lines
    assert "toll_plaza 2026-03-14: failed (failed: ['load']); log /tmp/t.log" in lines
    assert not outcomes[1].ok and outcomes[0].ok


def test_every_demo_pipeline_has_a_scenario_for_its_dag():
    for pipeline in DEMO_PIPELINES:
        scenario = importlib.import_module(f"local_platform.demo.{pipeline}").SCENARIO
        assert scenario.dag_id == pipeline and scenario.dates
