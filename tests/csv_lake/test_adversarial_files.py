"""Malformed and edge-case billing files (tests/csv_lake/adversarial/, expectations in cases.yaml) through the
csv_lake Glue job on real PySpark against the local S3: every record is accounted for (loaded, quarantined with
its reason, or dropped as an exact duplicate), and a run that fails leaves the day's partition byte-identical.

The job reads the whole day's prefix, so one run covers every case file: the day gets its first drop
(baseline.csv), then a second drop adds every case file and the day is run again."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from datetime import date
from pathlib import Path

import csv_lake_to_parquet
import glue_io
import pytest
import yaml

from tests.csv_lake.lake import PROCESSED, RAW, delete_raw_days, job_args, keys, put_raw, read_partition, read_text

pytestmark = pytest.mark.spark

CASES_DIR = Path(__file__).parent / "adversarial"
SPEC = yaml.safe_load((CASES_DIR / "cases.yaml").read_text())
CASES = SPEC["cases"]
HEADER = (CASES_DIR / "header_only.csv").read_text()
ROW = (
    "{id},2025-01-15,C10001,The Red Lion,BEEF-RIB-01,{description},beef,2.500,{price},GBP,0.000,61.25,paid,2025-02-14\n"
)


def case_content(name: str) -> bytes:
    if name == "very_long_fields":  # generated: a 1 MB description (valid) and a 200,000-digit price
        return (
            HEADER
            + ROW.format(id="LONG-1", description="Beef " * 200_000, price="24.50")
            + ROW.format(id="LONG-2", description="Beef ribeye", price="9" * 200_000)
        ).encode()
    return (CASES_DIR / f"{name}.csv").read_bytes()


def run_job(local_aws, day: date, max_reject_rate: float = 0.05) -> dict:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", local_aws.endpoint)
        try:
            return csv_lake_to_parquet.main(job_args(day, max_reject_rate))
        finally:
            glue_io.cleanup()


def partition_checksum(local_aws, day: date) -> str:
    s3, digest = local_aws.client("s3"), hashlib.sha256()
    for key in keys(local_aws, PROCESSED, f"billing/dt={day}/"):
        digest.update(key.encode() + s3.get_object(Bucket=PROCESSED, Key=key)["Body"].read())
    return digest.hexdigest()


def quarantined_records(local_aws, day: date) -> list[dict]:
    text = read_text(local_aws, PROCESSED, f"quarantine/billing/dt={day}/", ".csv")
    # Spark writes a quote inside a quoted value as \" and a header per part file.
    csv.field_size_limit(1 << 24)  # very_long_fields quarantines a 200,000-character value
    rows = csv.DictReader(io.StringIO(text), escapechar="\\", doublequote=False)
    return [row for row in rows if row["invoice_id"] != "invoice_id"]


def file_of(uri: str) -> str:
    return uri.rsplit("/", 1)[-1].removesuffix(".csv")


@pytest.fixture(scope="module", autouse=True)
def raw_files_removed_afterwards(provisioned):
    yield
    delete_raw_days(provisioned, [SPEC["day"], *(case["day"] for case in SPEC["failing_drops"])])


@pytest.fixture(scope="module")
def second_drop(provisioned, spark):
    """The day after its first drop, then after a second drop that adds every case file: (first report, second
    report, loaded rows, quarantined records)."""
    day = date.fromisoformat(SPEC["day"])
    put_raw(provisioned, day, "baseline.csv", (CASES_DIR / "baseline.csv").read_bytes())
    first = run_job(provisioned, day)
    for name in CASES:
        put_raw(provisioned, day, f"{name}.csv", case_content(name))
    second = run_job(provisioned, day, max_reject_rate=1.0)
    return first, second, read_partition(provisioned, day).to_pylist(), quarantined_records(provisioned, day)


@pytest.mark.parametrize("name", sorted(CASES), ids=str)
def test_every_record_of_an_odd_file_is_loaded_quarantined_with_its_reason_or_a_counted_duplicate(name, second_drop):
    expected = CASES[name]
    _, _, loaded, quarantined = second_drop
    loaded_ids = sorted(row["invoice_id"] for row in loaded if file_of(row["source_file"]) == name)
    reasons = Counter(
        re.sub("9{20,}", "9…9", row["reason"]) for row in quarantined if file_of(row["source_file"]) == name
    )

    assert expected["read"] == len(loaded_ids) + sum(reasons.values()) + expected.get("duplicates", 0)
    assert loaded_ids == sorted(expected.get("loaded_ids", []))
    assert dict(reasons) == expected.get("reasons", {})


def test_the_run_report_accounts_for_every_record_of_the_day(second_drop):
    first, second, loaded, quarantined = second_drop
    cases = CASES.values()
    expected = {
        "read": 2 + sum(case["read"] for case in cases),
        "loaded": 2 + sum(len(case.get("loaded_ids", [])) for case in cases),
        "quarantined": sum(sum(case.get("reasons", {}).values()) for case in cases),
        "duplicates": sum(case.get("duplicates", 0) for case in cases),
    }
    assert {key: first[key] for key in expected} == {"read": 2, "loaded": 2, "quarantined": 0, "duplicates": 0}
    assert {key: second[key] for key in expected} == expected
    assert second["read"] == second["loaded"] + second["quarantined"] + second["duplicates"]
    assert (len(loaded), len(quarantined)) == (expected["loaded"], expected["quarantined"])


def test_a_second_drop_for_the_day_keeps_the_first_drops_rows(second_drop):
    _, _, loaded, _ = second_drop
    assert sorted(row["invoice_id"] for row in loaded if file_of(row["source_file"]) == "baseline") == [
        "BASE-1",
        "BASE-2",
    ]


def test_values_arrive_as_they_were_sent(second_drop):
    _, _, loaded, _ = second_drop
    by_id = {row["invoice_id"]: row for row in loaded}
    assert by_id["QUO-2"]["customer_name"] == "Kings Arms, Islington"
    assert by_id["QUO-2"]["product_description"] == 'Beef rib,\nfor the "big" roast'
    assert by_id["QUO-3"]["customer_name"] == 'The "Red" Lion'
    assert by_id["UTF-3"]["customer_name"] == "épicerie Crème"
    assert by_id["LONG-1"]["product_description"] == ("Beef " * 200_000).strip()
    assert str(by_id["ORD-2"]["unit_price"]) == "9.60" and by_id["ORD-2"]["customer_name"] == "Pho Saigon"
    assert [str(by_id[f"FAR-{n}"]["invoice_date"]) for n in (1, 2, 3, 4)] == [
        "0001-01-01",
        "1582-10-10",
        "1899-12-31",
        "9999-12-31",
    ]


@pytest.mark.parametrize("case", SPEC["failing_drops"], ids=lambda case: case["file"])
def test_a_failing_drop_leaves_the_days_partition_byte_identical_and_says_why(case, provisioned, spark):
    day = date.fromisoformat(case["day"])
    put_raw(provisioned, day, "baseline.csv", (CASES_DIR / "baseline.csv").read_bytes())
    assert run_job(provisioned, day)["loaded"] == 2
    before = partition_checksum(provisioned, day)
    put_raw(provisioned, day, case["file"], (CASES_DIR / case["file"]).read_bytes())

    with pytest.raises(glue_io.DataError) as failure:
        run_job(provisioned, day)

    assert case["error"].format(raw=f"s3://{RAW}/billing/dt={day}", processed=f"s3://{PROCESSED}") in str(failure.value)
    assert partition_checksum(provisioned, day) == before
