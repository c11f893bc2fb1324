"""toll_plaza's apply (include/sql/toll_plaza/apply_deliveries.sql) against a model of what it must leave behind.

Random sequences of days loaded and reloaded, in any order, with slices that overlap, shrink, change values or
come again unchanged: after every apply, toll_deliveries holds each day's last slice, toll_table each
transaction's earliest delivery, and the daily aggregate the sums of toll_table, exactly as the model derives
them from scratch, and toll_loads says what the apply changed in the slice; a slice that comes again unchanged
rewrites no row. The SQL runs as the Redshift stand-in
runs it (translated, one transaction), on PostgreSQL.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg2
import pytest
import toll_transform

from local_platform.aws.compute.redshift_sql import translate
from plugins.pipeline_kit.paths import sql_statements
from plugins.pipeline_kit.settings import TEMPLATE_MACROS

DAYS = [date(2026, 3, 1) + timedelta(days=offset) for offset in range(3)]
# The staged columns between the key and the landing date: what a day delivers for a transaction.
DATA_COLUMNS = toll_transform.STAGED_COLUMNS[1:-1]
TABLES = ("toll_deliveries", "toll_table", "toll_daily_booth_revenue")


def rendered(relative_path: str, day: date, rebuild_day: bool = False) -> list[str]:
    from airflow.sdk.definitions._internal.templater import create_template_env

    env = create_template_env()
    env.globals.update(TEMPLATE_MACROS)  # as the DAG has them (pipeline_kit.defaults)
    context = {
        "logical_date": datetime(day.year, day.month, day.day, tzinfo=UTC),
        "dag_run": None,
        "run_id": f"scheduled__{day}",
        "params": {"rebuild_day": rebuild_day},
    }
    return [translate(env.from_string(statement).render(context)) for statement in sql_statements(relative_path)]


@pytest.fixture
def cursor(postgres_db):
    conn = psycopg2.connect(postgres_db)
    with conn.cursor() as cur:
        for name in ("create_toll_deliveries", "create_toll_table", "create_daily_booth_revenue", "create_toll_loads"):
            for statement in rendered(f"toll_plaza/{name}.sql", DAYS[0]):
                cur.execute(statement)
        conn.commit()
        yield cur
    conn.close()


def apply(cur, day: date, slice_: dict[int, tuple], rebuild_day: bool = False) -> None:
    """Stage ``slice_`` ({transaction_id: data columns}) for ``day`` and apply it, as the DAG's two tasks do."""
    for statement in rendered("toll_plaza/create_day_stage.sql", day):
        cur.execute(statement)
    cur.connection.commit()
    for transaction_id, values in slice_.items():
        cur.execute(
            f"INSERT INTO public.toll_stage_{day:%Y%m%d} (landing_date, transaction_id, {', '.join(DATA_COLUMNS)}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (day, transaction_id, *values),
        )
    cur.connection.commit()
    for statement in rendered("toll_plaza/apply_deliveries.sql", day, rebuild_day):
        cur.execute(statement)
    cur.connection.commit()
    cur.execute("DISCARD TEMP")  # each Data API batch is a session of its own


def expected_tables(deliveries: dict[date, dict[int, tuple]]) -> dict[str, list[tuple]]:
    """What the tables must hold for these slices, derived from scratch."""
    owners: dict[int, tuple] = {}
    for day in sorted(deliveries):
        for transaction_id, values in deliveries[day].items():
            owners.setdefault(transaction_id, (transaction_id, *values, day))
    revenue: dict[tuple, list] = {}
    for _, transaction_date, booth, _, category, amount, _ in owners.values():
        totals = revenue.setdefault((transaction_date, booth, category), [0, Decimal(0)])
        totals[0] += 1
        totals[1] += amount
    return {
        "toll_deliveries": sorted(
            (day, transaction_id, *values)
            for day, slice_ in deliveries.items()
            for transaction_id, values in slice_.items()
        ),
        "toll_table": sorted(owners.values()),
        "toll_daily_booth_revenue": sorted((*key, count, total) for key, (count, total) in revenue.items()),
    }


def expected_changes(before: dict[int, tuple], after: dict[int, tuple]) -> dict[str, int]:
    """What replacing a day's slice ``before`` with ``after`` changes, as the apply logs it in toll_loads."""
    kept = before.keys() & after.keys()
    return {
        "added": len(after.keys() - before.keys()),
        "updated": sum(before[key] != after[key] for key in kept),
        "removed": len(before.keys() - after.keys()),
        "unchanged": sum(before[key] == after[key] for key in kept),
    }


def logged_changes(cur, day: date) -> dict[str, int]:
    cur.execute(
        "SELECT added, updated, removed, unchanged FROM public.toll_loads WHERE run_id = %s "
        "ORDER BY applied_at DESC LIMIT 1",
        (f"scheduled__{day}",),
    )
    return dict(zip(("added", "updated", "removed", "unchanged"), cur.fetchone(), strict=True))


def table_rows(cur, table: str, with_location: bool = False) -> list[tuple]:
    cur.execute(f"SELECT {'ctid::text, ' if with_location else ''}* FROM public.{table}")
    return sorted(cur.fetchall())


def random_slice(rng: random.Random) -> dict[int, tuple]:
    """A few transactions from a small pool (so days overlap), with values from small sets (so a reload often
    changes some and keeps others)."""
    ids = rng.sample(range(1, 41), rng.randint(0, 25))
    return {
        transaction_id: (
            rng.choice(DAYS),
            rng.choice(["golf_rd", "royal_ave"]),
            rng.choice(["Kia", None]),
            rng.choice(["SUV", "Sedan"]),
            rng.choice([Decimal("1.00"), Decimal("2.50")]),
        )
        for transaction_id in ids
    }


@pytest.mark.parametrize("seed", range(4))
def test_every_apply_leaves_the_tables_as_derived_from_the_days_last_slices(cursor, seed):
    rng = random.Random(seed)
    deliveries: dict[date, dict[int, tuple]] = {}
    for _ in range(12):
        day = rng.choice(DAYS)
        before, deliveries[day] = deliveries.get(day, {}), random_slice(rng)
        apply(cursor, day, deliveries[day])
        assert {table: table_rows(cursor, table) for table in TABLES} == expected_tables(deliveries)
        assert logged_changes(cursor, day) == expected_changes(before, deliveries[day])


def test_a_slice_that_comes_again_unchanged_rewrites_no_row(cursor):
    rng = random.Random(7)
    deliveries = {day: random_slice(rng) for day in DAYS}
    shared = dict.fromkeys(range(100, 110), (DAYS[1], "golf_rd", None, "SUV", Decimal("3.00")))
    deliveries[DAYS[0]].update(shared)
    deliveries[DAYS[2]].update(shared)
    for day in DAYS:
        apply(cursor, day, deliveries[day])
    before = {table: table_rows(cursor, table, with_location=True) for table in TABLES}

    apply(cursor, DAYS[0], deliveries[DAYS[0]])

    assert {table: table_rows(cursor, table, with_location=True) for table in TABLES} == before
    assert {table: table_rows(cursor, table) for table in TABLES} == expected_tables(deliveries)
    assert logged_changes(cursor, DAYS[0]) == {
        "added": 0,
        "updated": 0,
        "removed": 0,
        "unchanged": len(deliveries[DAYS[0]]),
    }


def test_rebuild_day_repairs_what_a_change_outside_the_pipeline_did_to_the_days_transactions(cursor):
    rng = random.Random(11)
    deliveries = {day: random_slice(rng) for day in DAYS}
    deliveries[DAYS[0]][500] = (DAYS[0], "golf_rd", "Kia", "SUV", Decimal("2.50"))
    for day in DAYS:
        apply(cursor, day, deliveries[day])
    cursor.execute("DELETE FROM public.toll_table WHERE transaction_id = 500")
    cursor.execute(
        "UPDATE public.toll_daily_booth_revenue SET revenue = revenue + 100 WHERE transaction_date = %s", (DAYS[0],)
    )
    cursor.connection.commit()

    apply(cursor, DAYS[0], deliveries[DAYS[0]])
    assert table_rows(cursor, "toll_table") != expected_tables(deliveries)["toll_table"]

    apply(cursor, DAYS[0], deliveries[DAYS[0]], rebuild_day=True)
    assert {table: table_rows(cursor, table) for table in TABLES} == expected_tables(deliveries)
    assert logged_changes(cursor, DAYS[0]) == expected_changes(deliveries[DAYS[0]], deliveries[DAYS[0]])
