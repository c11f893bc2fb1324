"""The run's date as every pipeline names it (pipeline_kit.settings)."""

from __future__ import annotations

from types import SimpleNamespace

import pendulum
from pipeline_kit.settings import run_date_of

ASKED_AT = pendulum.datetime(2026, 3, 9, 22, tz="UTC")


def test_a_scheduled_runs_date_is_its_logical_date():
    logical = pendulum.datetime(2026, 3, 1, tz="UTC")
    assert run_date_of({"logical_date": logical, "dag_run": SimpleNamespace(run_after=ASKED_AT)}) == logical


def test_a_manual_run_without_a_logical_date_takes_the_day_it_was_asked_for():
    assert run_date_of({"logical_date": None, "dag_run": SimpleNamespace(run_after=ASKED_AT)}) == ASKED_AT
    assert run_date_of({"dag_run": SimpleNamespace(run_after=ASKED_AT)}) == ASKED_AT
