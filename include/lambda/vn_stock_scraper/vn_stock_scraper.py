"""Lambda: scrape the VN-Index daily history from cafef.vn with headless Chromium and store raw CSV in S3.

Event (all optional): ``date_from``/``date_to`` (ISO dates, inclusive; ``date`` for one day), ``source_url``,
``bucket``, ``timeout_s``. Environment: ``SOURCE_URL``, ``RAW_BUCKET``, ``RAW_PREFIX``, ``CHROMIUM_PATH``,
``CHROMEDRIVER_PATH``, ``PAGE_TIMEOUT_S``.

Returns ``{"status": "ok", "rows": n, "keys": [...], "trading_dates": [...]}`` with one CSV per trading
date at ``<prefix>/dt=YYYY-MM-DD/YYYYMMDD.csv``, or ``{"status": "no_trading", "rows": 0, "keys": []}``
when the site answers "no matching results" for the whole range (a holiday or weekend, not an error).
A page that no longer has the expected form or table raises LayoutChanged naming what is missing.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from vn_stock_parser import RAW_COLUMNS, TABLE_ID, LayoutChanged, parse_history_table

DEFAULT_SOURCE_URL = "https://s.cafef.vn/lich-su-giao-dich-vnindex-1.chn"
DATE_INPUT = "#date-inp-disclosure"
SEARCH_BUTTON = "#owner-find"
# The site shows 20 rows a page; 14 calendar days never hold more than 10 trading days.
CHUNK_DAYS = 14


@dataclasses.dataclass(frozen=True)
class ScrapeConfig:
    source_url: str
    bucket: str
    prefix: str
    chromium_path: str
    chromedriver_path: str
    timeout_s: float

    @classmethod
    def from_env(cls, event: dict) -> ScrapeConfig:
        return cls(
            source_url=event.get("source_url") or os.environ.get("SOURCE_URL") or DEFAULT_SOURCE_URL,
            bucket=event.get("bucket") or os.environ["RAW_BUCKET"],
            prefix=os.environ.get("RAW_PREFIX", "raw/vn_stock").strip("/"),
            chromium_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            chromedriver_path=os.environ.get("CHROMEDRIVER_PATH", "/usr/bin/chromedriver"),
            timeout_s=float(event.get("timeout_s") or os.environ.get("PAGE_TIMEOUT_S", "30")),
        )


def requested_range(event: dict) -> tuple[date, date]:
    first = event.get("date_from") or event.get("date")
    if not first:
        raise ValueError("event needs 'date' or 'date_from' (YYYY-MM-DD)")
    start = date.fromisoformat(first)
    end = date.fromisoformat(event.get("date_to") or first)
    if end < start:
        raise ValueError(f"date_to {end} is before date_from {start}")
    return start, end


def chunks(start: date, end: date, days: int = CHUNK_DAYS) -> Iterator[tuple[date, date]]:
    while start <= end:
        last = min(start + timedelta(days=days - 1), end)
        yield start, last
        start = last + timedelta(days=1)


def open_browser(config: ScrapeConfig, profile_dir: str):
    """Headless Chromium from explicit paths: Selenium Manager never downloads a driver or browser."""
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = config.chromium_path
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={profile_dir}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=config.chromedriver_path), options=options)
    driver.set_page_load_timeout(config.timeout_s)
    return driver


def _settled_rows(driver):
    """The table body's rows once they are results, not the loading placeholder (False while loading)."""
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, f"#{TABLE_ID} tbody tr")
    if rows and "loading" not in (rows[0].get_attribute("class") or ""):
        return rows
    return False


def search(driver, config: ScrapeConfig, start: date, end: date) -> str:
    """Enter the range, click search, wait for the refreshed table; return the table's HTML."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(
        driver, config.timeout_s, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)
    )
    try:
        driver.get(config.source_url)
    except TimeoutException:
        raise TimeoutError(f"{config.source_url} did not finish loading within {config.timeout_s:g}s") from None
    try:
        date_input = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, DATE_INPUT)))
    except TimeoutException:
        raise LayoutChanged(f"date range input {DATE_INPUT} not found on {config.source_url}") from None
    # The rest of the form is static markup: if it is absent now, the layout changed.
    for selector, what in ((SEARCH_BUTTON, "search button"), (f"#{TABLE_ID}", "history table")):
        if not driver.find_elements(By.CSS_SELECTOR, selector):
            raise LayoutChanged(f"{what} {selector} not found on {config.source_url}")
    try:
        # Let the page's own first load finish, so that it cannot overwrite our results.
        before = wait.until(_settled_rows)[0]
        date_input.clear()
        date_input.send_keys(f"{start:%d/%m/%Y} - {end:%d/%m/%Y}")
        wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, SEARCH_BUTTON))).click()
        wait.until(ec.staleness_of(before))
        wait.until(_settled_rows)
    except TimeoutException:
        raise TimeoutError(
            f"#{TABLE_ID} showed no results within {config.timeout_s:g}s for {start}..{end} on {config.source_url}"
        ) from None
    return driver.find_element(By.ID, TABLE_ID).get_attribute("outerHTML")


def scrape(config: ScrapeConfig, start: date, end: date) -> list[dict[str, str]]:
    """Raw rows (page text under RAW_COLUMNS) for every trading day in the range."""
    profile_dir = tempfile.mkdtemp(prefix="chromium-profile-")
    driver = open_browser(config, profile_dir)
    try:
        rows = []
        for first, last in chunks(start, end):
            rows.extend(parse_history_table(search(driver, config, first, last)))
        return rows
    finally:
        driver.quit()
        shutil.rmtree(profile_dir, ignore_errors=True)


def trading_date(row: dict[str, str]) -> date:
    return datetime.strptime(row["RECORDED_DATE"], "%d/%m/%Y").date()


def raw_key(prefix: str, day: date) -> str:
    return f"{prefix}/dt={day.isoformat()}/{day:%Y%m%d}.csv"


def to_csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RAW_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def handler(event, context):
    event = event or {}
    config = ScrapeConfig.from_env(event)
    start, end = requested_range(event)
    by_date: dict[date, list[dict[str, str]]] = {}
    for row in scrape(config, start, end):
        day = trading_date(row)
        if start <= day <= end:  # the site pads nothing today, but never store a day we did not ask for
            by_date.setdefault(day, []).append(row)
    result = {"date_from": start.isoformat(), "date_to": end.isoformat()}
    if not by_date:
        return {**result, "status": "no_trading", "rows": 0, "keys": [], "trading_dates": []}

    import boto3

    s3 = boto3.client("s3")
    keys = []
    for day in sorted(by_date):
        key = raw_key(config.prefix, day)
        s3.put_object(Bucket=config.bucket, Key=key, Body=to_csv(by_date[day]), ContentType="text/csv")
        keys.append(key)
    return {
        **result,
        "status": "ok",
        "rows": sum(len(rows) for rows in by_date.values()),
        "keys": keys,
        "trading_dates": [day.isoformat() for day in sorted(by_date)],
    }
