"""Odd toll landing files (tests/toll_plaza/adversarial/, expectations in cases.yaml) through the toll Glue job on
real PySpark against the local S3: every line is accounted for (staged, quarantined with its reason, or a counted
duplicate), and nothing staged can break the load into toll_table's column types.

The job reads the whole day's landing prefix, so one run covers every case file: the day gets its first drop
(baseline.jsonl), then a second drop adds every case file and the day is run again."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import glue_io
import pytest
import toll_transform
import yaml

pytestmark = pytest.mark.spark

LANDING = "toll-plaza-landing-local"
STAGING = "toll-plaza-staging-local"
CASES_DIR = Path(__file__).parent / "adversarial"
SPEC = yaml.safe_load((CASES_DIR / "cases.yaml").read_text())
CASES = SPEC["cases"]
DAY = SPEC["day"]


def record(transaction_id: int, **values) -> str:
    return json.dumps(
        {
            "transaction_id": transaction_id,
            "transaction_date": DAY,
            "toll_booth": "golf_rd",
            "vehicle_make": "Kia",
            "vehicle_category": "SUV",
            "transaction_amount": 4.25,
            **values,
        }
    )


def case_content(name: str) -> bytes:
    if name == "very_long_fields":  # generated: values toll_table's columns cannot hold, and one line of 1 MB
        return (
            "\n".join(
                [
                    record(1701, vehicle_make="x" * 100_000),
                    record(1702, transaction_amount=1e12),
                    record(1703, toll_booth="b" * 65),
                    record(1704, vehicle_category="c" * 129),
                    record(1705, transaction_amount=99999999.99),
                    record(1706, toll_booth="b" * 64, unused="u" * 1_000_000),
                ]
            ).encode()
            + b"\n"
        )
    return (CASES_DIR / f"{name}.jsonl").read_bytes()


@pytest.fixture(scope="module")
def provisioned(local_aws, stacks):
    return local_aws


def run_job(local_aws) -> dict:
    prefix = f"dt={DAY}/"
    args = [
        "toll_transform.py",
        "--run_date",
        DAY,
        "--landing_uri",
        f"s3://{LANDING}/landing/toll/{prefix}",
        "--staging_uri",
        f"s3://{STAGING}/staging/toll/{prefix}",
        "--quarantine_uri",
        f"s3://{STAGING}/quarantine/toll/{prefix}",
        "--report_uri",
        f"s3://{STAGING}/reports/toll/{prefix}report.json",
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", local_aws.endpoint)
        try:
            toll_transform.main(args)
        finally:
            glue_io.cleanup()
    return json.loads(objects(local_aws, f"reports/toll/{prefix}report.json"))


def objects(local_aws, prefix: str, suffix: str = "") -> str:
    s3 = local_aws.client("s3")
    listed = s3.list_objects_v2(Bucket=STAGING, Prefix=prefix).get("Contents", [])
    return "".join(
        s3.get_object(Bucket=STAGING, Key=item["Key"])["Body"].read().decode()
        for item in sorted(listed, key=lambda item: item["Key"])
        if item["Key"].endswith(suffix)
    )


def staged_rows(local_aws) -> list[dict]:
    text = objects(local_aws, f"staging/toll/dt={DAY}/", ".csv")
    # The job writes RFC 4180 CSV (a quote inside a value doubled), with a header per part file.
    rows = csv.DictReader(io.StringIO(text))
    return [row for row in rows if row["transaction_id"] != "transaction_id"]


@pytest.fixture(scope="module")
def second_drop(provisioned, spark):
    """(first report, second report, staged rows, quarantined records) of the day's two drops."""
    s3 = provisioned.client("s3")
    s3.put_object(
        Bucket=LANDING, Key=f"landing/toll/dt={DAY}/baseline.jsonl", Body=(CASES_DIR / "baseline.jsonl").read_bytes()
    )
    first = run_job(provisioned)
    for name in CASES:
        s3.put_object(Bucket=LANDING, Key=f"landing/toll/dt={DAY}/{name}.jsonl", Body=case_content(name))
    second = run_job(provisioned)
    quarantined = [
        json.loads(line) for line in objects(provisioned, f"quarantine/toll/dt={DAY}/", ".json").splitlines() if line
    ]
    yield first, second, staged_rows(provisioned), quarantined
    # The landing bucket is shared with the DAG tests of this session, whose crawler reads every *.jsonl in it.
    landed = s3.list_objects_v2(Bucket=LANDING, Prefix=f"landing/toll/dt={DAY}/").get("Contents", [])
    for item in landed:
        s3.delete_object(Bucket=LANDING, Key=item["Key"])


@pytest.mark.parametrize("name", sorted(CASES), ids=str)
def test_every_line_of_an_odd_file_is_staged_quarantined_with_its_reason_or_a_counted_duplicate(name, second_drop):
    expected = CASES[name]
    _, _, staged, quarantined = second_drop
    ids = range(expected["ids"], expected["ids"] + 100) if "ids" in expected else range(0)
    staged_ids = sorted(int(row["transaction_id"]) for row in staged if int(row["transaction_id"]) in ids)
    reasons = Counter(item["reason"] for item in quarantined if item["source_file"] == f"{name}.jsonl")

    assert expected["read"] == len(staged_ids) + sum(reasons.values()) + expected.get("duplicates", 0)
    assert staged_ids == sorted(expected.get("staged_ids", []))
    assert dict(reasons) == expected.get("reasons", {})


def test_the_run_report_accounts_for_every_line_of_the_day(second_drop):
    first, second, staged, quarantined = second_drop
    cases = CASES.values()
    expected = {
        "read": 2 + sum(case["read"] for case in cases),
        "loaded": 2 + sum(len(case.get("staged_ids", [])) for case in cases),
        "quarantined": sum(sum(case.get("reasons", {}).values()) for case in cases),
        "duplicates": sum(case.get("duplicates", 0) for case in cases),
    }
    assert {key: first[key] for key in expected} == {"read": 2, "loaded": 2, "quarantined": 0, "duplicates": 0}
    assert {key: second[key] for key in expected} == expected
    assert second["quarantine_reasons"] == dict(sum((Counter(case.get("reasons", {})) for case in cases), Counter()))
    assert (len(staged), len(quarantined)) == (expected["loaded"], expected["quarantined"])
    assert {"1001", "1002"} <= {row["transaction_id"] for row in staged}, "the first drop's lines stay staged"


def test_staged_values_are_the_values_sent_and_fit_the_table(second_drop):
    _, _, staged, _ = second_drop
    by_id = {int(row["transaction_id"]): row for row in staged}
    assert by_id[1601]["vehicle_category"] == "Coupe, Sedan, Convertible"
    assert (by_id[1602]["toll_booth"], by_id[1602]["vehicle_make"]) == ("golf\nrd", 'The "Beetle"')
    assert by_id[1403]["vehicle_make"] == "Škoda"
    assert [by_id[n]["transaction_date"] for n in (2201, 2202, 2203)] == ["0001-01-01", "1582-10-10", "9999-12-31"]
    assert max(len(row["toll_booth"]) for row in staged) <= 64
    assert max(len(row["vehicle_make"]) for row in staged) <= 64
    assert max(len(row["vehicle_category"]) for row in staged) <= 128
    assert max(float(row["transaction_amount"]) for row in staged) < 1e8  # DECIMAL(10, 2)
