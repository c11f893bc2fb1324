"""Odd history pages (tests/vn_stock/adversarial/, expectations in cases.yaml): the parser refuses a page it cannot
read right with a clear error, and the rows it gives land as the scraper's raw CSV and go through the cleaning
job on real PySpark against the local S3, every row loaded or rejected with its reason.

One job run covers every page (the job takes a list of raw files), after a first run of the baseline page."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import glue_io
import pytest
import vn_stock_clean
import yaml
from vn_stock_parser import LayoutChanged, parse_history_table
from vn_stock_scraper import raw_key, to_csv, trading_date

RAW = "vn-stock-raw-local"
CASES_DIR = Path(__file__).parent / "adversarial"
CASES = yaml.safe_load((CASES_DIR / "cases.yaml").read_text())["cases"]
LANDED = sorted(name for name, case in CASES.items() if "read" in case)


def parse(name: str) -> list[dict[str, str]]:
    return parse_history_table((CASES_DIR / f"{name}.html").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(CASES), ids=str)
def test_a_page_is_read_right_or_refused_with_the_reason(name):
    expected = CASES[name]
    if "layout_error" in expected:
        with pytest.raises(LayoutChanged) as refused:
            parse(name)
        assert str(refused.value) == expected["layout_error"]
    elif expected.get("no_trading"):
        assert parse(name) == []
    else:
        assert len(parse(name)) == expected["read"]


def land(local_aws, name: str) -> list[str]:
    """The page's rows as the scraper lands them: one raw CSV per trading date."""
    by_date: dict = {}
    for row in parse(name):
        by_date.setdefault(trading_date(row), []).append(row)
    s3, uris = local_aws.client("s3"), []
    for day, rows in sorted(by_date.items()):
        key = raw_key(f"raw/vn_stock_adversarial/{name}", day)
        s3.put_object(Bucket=RAW, Key=key, Body=to_csv(rows))
        uris.append(f"s3://{RAW}/{key}")
    return uris


def run_job(local_aws, uris: list[str]) -> dict:
    args = [
        "vn_stock_clean.py",
        "--run_date",
        "2024-01-02",
        "--raw_uris",
        ",".join(uris),
        "--clean_uri",
        f"s3://{RAW}/clean/vn_stock_adversarial/",
        "--quarantine_uri",
        f"s3://{RAW}/quarantine/vn_stock_adversarial/",
        "--report_uri",
        f"s3://{RAW}/reports/vn_stock_adversarial/report.json",
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", local_aws.endpoint)
        try:
            vn_stock_clean.main(args)
        finally:
            glue_io.cleanup()
    return json.loads(read_objects(local_aws, "reports/vn_stock_adversarial/report.json"))


def read_objects(local_aws, prefix: str, suffix: str = "") -> str:
    s3 = local_aws.client("s3")
    listed = s3.list_objects_v2(Bucket=RAW, Prefix=prefix).get("Contents", [])
    return "".join(
        s3.get_object(Bucket=RAW, Key=item["Key"])["Body"].read().decode()
        for item in sorted(listed, key=lambda item: item["Key"])
        if item["Key"].endswith(suffix)
    )


def csv_rows(text: str, first_column: str) -> list[dict]:
    rows = csv.DictReader(io.StringIO(text), escapechar="\\", doublequote=False)
    return [row for row in rows if row[first_column] != first_column]  # a header per part file


@pytest.fixture(scope="module")
def second_drop(local_aws, stacks, spark):
    """(first report, second report, clean rows by date, rejected rows) of the baseline page's run, then of a run
    over every other page that lands."""
    first = run_job(local_aws, land(local_aws, "baseline"))
    second = run_job(local_aws, [uri for name in LANDED if name != "baseline" for uri in land(local_aws, name)])
    clean = {}
    for row in csv_rows(read_objects(local_aws, "clean/vn_stock_adversarial/", ".csv"), "trading_date"):
        clean.setdefault(row["trading_date"], []).append(row)
    rejected = csv_rows(read_objects(local_aws, "quarantine/vn_stock_adversarial/", ".csv"), "RECORDED_DATE")
    return first, second, clean, rejected


def page_of(recorded_date: str) -> str:
    dates = {row["RECORDED_DATE"]: name for name in LANDED if name != "baseline" for row in parse(name)}
    return dates[recorded_date]


@pytest.mark.spark
@pytest.mark.parametrize("name", [name for name in LANDED if name != "baseline"], ids=str)
def test_every_row_of_a_page_is_loaded_or_rejected_with_its_reason(name, second_drop):
    expected = CASES[name]
    _, _, clean, rejected = second_drop
    page_dates = {datetime.strptime(row["RECORDED_DATE"], "%d/%m/%Y").date().isoformat() for row in parse(name)}
    loaded = sorted(day for day in clean if day in page_dates)
    reasons = Counter(row["reason"] for row in rejected if page_of(row["RECORDED_DATE"]) == name)

    assert expected["read"] == len(loaded) + sum(reasons.values())
    assert loaded == expected.get("loaded", [])
    assert dict(reasons) == expected.get("reasons", {})


@pytest.mark.spark
def test_the_run_report_accounts_for_every_row(second_drop):
    first, second, clean, rejected = second_drop
    cases = [CASES[name] for name in LANDED if name != "baseline"]
    expected = {
        "read": sum(case["read"] for case in cases),
        "loaded": sum(len(case.get("loaded", [])) for case in cases),
        "quarantined": sum(sum(case.get("reasons", {}).values()) for case in cases),
    }
    assert {key: first[key] for key in expected} == {"read": 1, "loaded": 1, "quarantined": 0}
    assert {key: second[key] for key in expected} == expected
    assert second["read"] == second["loaded"] + second["quarantined"]
    # The report counts each row under its first reason without the value (the shared report words).
    assert second["quarantine_reasons"] == dict(
        Counter(
            reason.split(": ", 1)[0]
            for case in cases
            for reason, count in case.get("reasons", {}).items()
            for _ in range(count)
        )
    )
    assert len(rejected) == expected["quarantined"]


@pytest.mark.spark
def test_a_second_drop_for_a_day_replaces_its_row(second_drop):
    _, _, clean, _ = second_drop
    assert [row["close_price"] for row in clean["2024-01-02"]] == ["1101.0"]
    assert [row["close_price"] for row in clean["2024-01-18"]] == ["1100.07"]
