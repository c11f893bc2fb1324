"""A ``dim_dates`` calendar with working days and public holidays, generated with the ``holidays`` package.

The holiday calendar is a country's, named by its ISO code. The retail pipeline uses Nigeria ("NG"): the
original pipeline was a Data2bots (a Lagos data consultancy) assessment whose write-up names no country.
Days the country observes in place of a holiday falling on a weekend ("... (observed)") count as public
holidays, as they are days off.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

COLUMNS = (
    "calendar_date",
    "year_num",
    "month_num",
    "day_of_month",
    "iso_day_of_week",
    "day_name",
    "is_weekend",
    "is_public_holiday",
    "holiday_name",
    "is_working_day",
    "holiday_country",
)


def calendar_rows(first_year: int, last_year: int, country: str) -> Iterator[tuple]:
    """One row per day of ``first_year``..``last_year`` in the order of ``COLUMNS``."""
    import holidays

    public_holidays = holidays.country_holidays(country, years=range(first_year, last_year + 1))
    day = date(first_year, 1, 1)
    while day.year <= last_year:
        name = public_holidays.get(day)
        weekend = day.isoweekday() >= 6
        yield (
            day,
            day.year,
            day.month,
            day.day,
            day.isoweekday(),
            day.strftime("%A"),
            weekend,
            name is not None,
            name,
            not weekend and name is None,
            country,
        )
        day += timedelta(days=1)


def refresh_dim_dates(conn, table: str, first_year: int, last_year: int, country: str) -> int:
    """Replace the calendar's days of ``first_year``..``last_year`` in one transaction; return the day count."""
    rows = list(calendar_rows(first_year, last_year, country))
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    try:
        with conn.cursor() as cursor:
            # Concurrent runs refresh the same days: one at a time (this transaction only).
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (table,))
            cursor.execute(
                f"DELETE FROM {table} WHERE calendar_date BETWEEN %s AND %s",
                (date(first_year, 1, 1), date(last_year, 12, 31)),
            )
            cursor.executemany(f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({placeholders})", rows)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    return len(rows)
