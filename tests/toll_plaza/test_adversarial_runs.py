"""The toll_plaza DAG over a day that holds every adversarial landing file next to the generator's batch: the Glue
job, the COPY and the one-transaction apply take it all; toll_table ends with exactly the staged transactions,
values as sent, and the success alert counts every line. The odd files are named *.json, as the original generator
named its files, which the landing crawler leaves to the Glue job: a malformed line in a *.jsonl file fails the
crawl, and with it the day, before the job can quarantine it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest

from tests.helpers.airflow_runs import run_dag
from tests.helpers.alerts import drain_alerts
from tests.toll_plaza.test_adversarial_files import CASES, LANDING, case_content
from tests.toll_plaza.test_dag import redshift  # noqa: F401 (fixture)

pytestmark = pytest.mark.dag_run

GENERATED = 5


@pytest.fixture
def platform(local_aws, stacks, airflow_settings):
    drain_alerts(local_aws)
    return local_aws


def test_a_day_of_odd_files_loads_every_staged_line_and_the_alert_counts_them_all(platform, redshift):  # noqa: F811
    day = date(2026, 4, 2)
    for name in CASES:
        platform.client("s3").put_object(
            Bucket=LANDING, Key=f"landing/toll/dt={day}/{name}.json", Body=case_content(name)
        )

    result = run_dag(
        "toll_plaza", datetime(day.year, day.month, day.day, tzinfo=UTC), {"records": GENERATED, "seed": 5}
    )

    assert result.state == "success", (result.task_states, platform.log_tail())
    cases = CASES.values()
    staged_ids = sorted(i for case in cases for i in case.get("staged_ids", []))
    expected = {
        "read": GENERATED + sum(case["read"] for case in cases),
        "loaded": GENERATED + len(staged_ids),
        "quarantined": sum(sum(case.get("reasons", {}).values()) for case in cases),
        "duplicates": sum(case.get("duplicates", 0) for case in cases),
        "quarantine_reasons": dict(sum((Counter(case.get("reasons", {})) for case in cases), Counter())),
    }
    summary = result.xcom("verify_loaded_rows")
    assert {key: summary[key] for key in expected} == expected
    loaded = dict(
        redshift(
            "SELECT transaction_id, toll_booth || '|' || coalesce(vehicle_make, '') || '|' || "
            "vehicle_category || '|' || transaction_date FROM public.toll_table "
            "WHERE landing_date = %s AND transaction_id < 10000",
            (day,),
        )
    )
    assert sorted(loaded) == staged_ids
    assert loaded[1601] == "golf_rd|Kia|Coupe, Sedan, Convertible|2026-04-01"
    assert loaded[1602] == 'golf\nrd|The "Beetle"|SUV|2026-04-01'
    assert loaded[1403] == "golf_rd|Škoda|SUV|2026-04-01"
    assert loaded[2201].endswith("|0001-01-01") and loaded[2203].endswith("|9999-12-31")
    alerts = drain_alerts(platform)
    assert [(alert["event"], alert["task_id"]) for alert in alerts] == [("success", "verify_loaded_rows")]
    assert alerts[0]["summary"]["quarantined"] == expected["quarantined"]
