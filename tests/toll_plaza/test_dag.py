"""The toll_plaza DAG end to end on the local platform: the Lambda runs, the crawler crawls, the Glue job runs
on PySpark and the Redshift Data API statements run on the PostgreSQL stand-in, which is read back here."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg2
import pytest

from local_platform.aws.compute.redshift_data import standin_database_name
from local_platform.postgres import database_dsn
from local_platform.settings import variables
from tests.helpers.airflow_runs import run_dag
from tests.helpers.alerts import drain_alerts
from tests.helpers.platform import PROJECT_ROOT
from tests.toll_plaza.conftest import SEED_FILE

pytestmark = pytest.mark.dag_run

SETTINGS = variables()["toll_plaza"]
LANDING = "toll-plaza-landing-local"
STAGING = "toll-plaza-staging-local"
TOLL_COLUMNS = (
    "transaction_id, transaction_date, toll_booth, vehicle_make, vehicle_category, transaction_amount, landing_date"
)


@pytest.fixture(scope="module")
def provisioned(local_aws, stacks):
    return local_aws


@pytest.fixture
def platform(provisioned, airflow_settings):
    drain_alerts(provisioned)
    return provisioned


@pytest.fixture
def redshift(local_aws, postgres_server_dsn):
    """A query function on the PostgreSQL database that stands in for the toll workgroup's database."""
    name = standin_database_name(local_aws.namespace, SETTINGS["redshift_workgroup"], SETTINGS["redshift_database"])

    def query(sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg2.connect(database_dsn(postgres_server_dsn, name)) as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        conn.close()
        return rows

    return query


def run_day(day: date, **conf):
    return run_dag("toll_plaza", datetime(day.year, day.month, day.day, tzinfo=UTC), conf)


def loaded_rows(redshift, day: date) -> list[tuple]:
    return redshift(f"SELECT {TOLL_COLUMNS} FROM public.toll_table WHERE landing_date = %s ORDER BY 1", (day,))


def assert_succeeded(result, local_aws):
    assert result.state == "success", (result.task_states, local_aws.log_tail())


def test_a_generated_day_is_loaded_once_per_transaction_and_aggregated(platform, redshift):
    day = date(2026, 3, 14)
    result = run_day(day, records=300, duplicates=20, seed=1)

    assert_succeeded(result, platform)
    payload = result.xcom("check_generator_payload")
    assert (payload["count"], payload["key"]) == (320, "landing/toll/dt=2026-03-14/toll-20260314-s1.jsonl")
    rows = loaded_rows(redshift, day)
    assert len(rows) == 320 - 20
    assert len({row[0] for row in rows}) == 300
    assert {row[1] for row in rows} == {day}
    assert all(row[5] > 0 for row in rows)

    aggregate = redshift(
        "SELECT toll_booth, vehicle_category, transaction_count, revenue "
        "FROM public.toll_daily_booth_revenue WHERE transaction_date = %s",
        (day,),
    )
    expected = redshift(
        "SELECT toll_booth, vehicle_category, COUNT(*), SUM(transaction_amount) "
        "FROM public.toll_table WHERE transaction_date = %s GROUP BY 1, 2",
        (day,),
    )
    assert sorted(aggregate) == sorted(expected)
    assert sum(row[2] for row in aggregate) == 300

    assert result.xcom("verify_loaded_rows") == {
        "run_date": "2026-03-14",
        "read": 320,
        "loaded": 300,
        "quarantined": 0,
        "duplicates": 20,
        "owned": 300,
        "owned_by_earlier_days": 0,
        "also_delivered_later": 0,
        "slice_changes": {"added": 300, "updated": 0, "removed": 0, "unchanged": 0},
        "quarantine_reasons": {},
    }
    table = platform.client("glue").get_table(DatabaseName="toll_plaza_raw", Name="toll")["Table"]
    columns = {column["Name"]: column["Type"] for column in table["StorageDescriptor"]["Columns"]}
    assert (columns["transaction_id"], columns["transaction_amount"]) == ("bigint", "double")
    assert [key["Name"] for key in table["PartitionKeys"]] == ["dt"]
    alerts = drain_alerts(platform)
    assert [(a["event"], a["task_id"]) for a in alerts] == [("success", "verify_loaded_rows")]
    assert alerts[0]["summary"]["loaded"] == 300


def test_rerun_of_the_same_date_changes_nothing(platform, redshift):
    day = date(2026, 3, 15)
    first = run_day(day, records=150, duplicates=5, seed=2)
    assert_succeeded(first, platform)
    rows_before = loaded_rows(redshift, day)
    aggregate_before = redshift(
        "SELECT * FROM public.toll_daily_booth_revenue WHERE transaction_date = %s ORDER BY 1, 2, 3", (day,)
    )

    second = run_day(day, records=150, duplicates=5, seed=2)

    assert_succeeded(second, platform)
    assert second.xcom("verify_loaded_rows")["slice_changes"] == {
        "added": 0,
        "updated": 0,
        "removed": 0,
        "unchanged": 150,
    }
    assert len(rows_before) == 150
    assert loaded_rows(redshift, day) == rows_before
    assert (
        redshift("SELECT * FROM public.toll_daily_booth_revenue WHERE transaction_date = %s ORDER BY 1, 2, 3", (day,))
        == aggregate_before
    )
    assert redshift(
        "SELECT COUNT(*) FROM public.toll_table WHERE transaction_id IN %s", (tuple(row[0] for row in rows_before),)
    ) == [(150,)]


def test_poisoned_file_quarantines_bad_records_and_loads_the_rest(platform, redshift):
    day = date(2026, 3, 16)
    legacy = SEED_FILE.read_text().splitlines()[:10]  # the original generator's single-quoted records
    bad = [
        "{'transaction_id': 'oops', 'transaction_date': '2026/03/16', 'toll_booth': 'golf_rd', "
        "'vehicle_category': 'SUV', 'transaction_amount': 3.5}",
        json.dumps(
            {
                "transaction_id": 7,
                "transaction_date": "2026-03-16",
                "toll_booth": "golf_rd",
                "vehicle_category": "SUV",
                "transaction_amount": -4,
            }
        ),
        json.dumps(
            {
                "transaction_id": 8,
                "transaction_date": "16.03.2026",
                "toll_booth": "golf_rd",
                "vehicle_category": "SUV",
                "transaction_amount": 4,
            }
        ),
        '{"transaction_id": 9, "transaction_date": "2026-03-16", "toll_booth": ',
    ]
    # Named as the original generator named its files (*.json), which the crawler leaves to the Glue job.
    platform.client("s3").put_object(
        Bucket=LANDING,
        Key=f"landing/toll/dt={day}/legacy-poisoned.json",
        Body=("\n".join(legacy + bad) + "\n").encode(),
    )

    result = run_day(day, records=40, seed=3)

    assert_succeeded(result, platform)
    report = result.xcom("read_job_report")
    assert (report["read"], report["loaded"], report["quarantined"], report["duplicates"]) == (54, 50, 4, 0)
    assert report["quarantine_reasons"] == {
        "transaction_id is not a positive integer": 1,
        "transaction_amount is not positive": 1,
        "transaction_date is not a valid yyyy/mm/dd or ISO date": 1,
        "unparseable: neither a JSON object nor a dict literal": 1,
    }
    rows = loaded_rows(redshift, day)
    assert len(rows) == 50
    assert {row[0] for row in rows} >= {95254, 35419}  # legacy records, typed
    assert redshift(
        "SELECT transaction_date, transaction_amount FROM public.toll_table WHERE transaction_id = 95254"
    ) == [(date(2023, 8, 13), Decimal("8.85"))]
    # The legacy rows' own dates got their daily aggregate too.
    assert (
        redshift(
            "SELECT SUM(transaction_count) FROM public.toll_daily_booth_revenue WHERE transaction_date = %s",
            (date(2023, 8, 13),),
        )[0][0]
        >= 1
    )

    s3 = platform.client("s3")
    quarantine_keys = [
        item["Key"]
        for item in s3.list_objects_v2(Bucket=STAGING, Prefix=f"quarantine/toll/dt={day}/").get("Contents", [])
    ]
    quarantined = [
        json.loads(line)
        for key in quarantine_keys
        for line in s3.get_object(Bucket=STAGING, Key=key)["Body"].read().decode().splitlines()
    ]
    assert sorted(item["line"] for item in quarantined) == sorted(bad)
    assert {item["source_file"] for item in quarantined} == {"legacy-poisoned.json"}


def test_rows_for_the_date_that_the_job_did_not_stage_fail_the_checks_and_alert(platform, redshift):
    day = date(2026, 3, 17)
    data_api = platform.client("redshift-data")
    ddl = (PROJECT_ROOT / "include" / "sql" / "toll_plaza" / "create_toll_table.sql").read_text()
    statement = data_api.execute_statement(
        WorkgroupName=SETTINGS["redshift_workgroup"], Database=SETTINGS["redshift_database"], Sql=ddl
    )["Id"]
    while (status := data_api.describe_statement(Id=statement)["Status"]) not in ("FINISHED", "FAILED"):
        time.sleep(0.2)
    assert status == "FINISHED"
    # A row some other process wrote for the date: the table no longer matches what the Glue job staged.
    redshift("INSERT INTO public.toll_table VALUES (1, %s, 'golf_rd', 'Kia', 'SUV', 2.5, %s) RETURNING 1", (day, day))

    result = run_day(day, records=20, seed=4)

    assert result.state == "failed"
    assert result.task_states["verify_loaded_rows"] == "failed"
    assert result.task_states["apply_deliveries"] == "success"
    alerts = drain_alerts(platform)
    assert [(a["event"], a["task_id"]) for a in alerts] == [("failure", "verify_loaded_rows")]
    assert "21 rows in toll_table for the date, but the day owns 20 of its deliveries" in alerts[0]["error"]


def test_a_transaction_delivered_on_two_days_stays_with_the_first_whatever_the_order_of_runs(platform, redshift):
    """The original generator's file delivered again a day later (a booth re-sending a batch): the earlier day
    owns those transactions, both days say so, and the tables end the same whichever day runs first."""
    first_day, second_day = date(2026, 3, 20), date(2026, 3, 21)
    legacy = SEED_FILE.read_text()
    legacy_ids = {int(line.split("'transaction_id': ")[1].split(",")[0]) for line in legacy.splitlines() if line}
    for day in (first_day, second_day):
        platform.client("s3").put_object(
            Bucket=LANDING, Key=f"landing/toll/dt={day}/legacy-resent.json", Body=legacy.encode()
        )
    tables = ("public.toll_table", "public.toll_deliveries", "public.toll_daily_booth_revenue")

    def run_in_order(days):
        for table in tables:  # a clean slate: the whole tables are compared
            redshift(f"DELETE FROM {table} RETURNING 1")
        summaries = {}
        for day in days:
            result = run_day(day, records=30, seed=day.day)
            assert_succeeded(result, platform)
            summaries[day] = result.xcom("verify_loaded_rows")
        state = [redshift(f"SELECT * FROM {table} ORDER BY 1, 2, 3") for table in tables]
        return summaries, state

    later_first, state_later_first = run_in_order([second_day, first_day])
    in_order, state_in_order = run_in_order([first_day, second_day])

    assert state_later_first == state_in_order
    owners = dict(
        redshift(
            "SELECT landing_date, COUNT(*) FROM public.toll_table WHERE transaction_id IN %s GROUP BY 1",
            (tuple(legacy_ids),),
        )
    )
    assert owners == {first_day: len(legacy_ids)}
    assert in_order[second_day]["owned_by_earlier_days"] == len(legacy_ids)
    assert in_order[second_day]["owned"] == 30
    assert later_first[first_day]["also_delivered_later"] == len(legacy_ids)
    assert later_first[first_day]["owned"] == 30 + len(legacy_ids)
