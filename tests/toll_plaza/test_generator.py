import json
from collections import Counter

import pytest
import toll_generator

DATE = "2026-03-14"
BOOTHS = ["golf_rd", "royal_ave", "buckley_rd"]
FIELDS = {"transaction_id", "transaction_date", "toll_booth", "vehicle_make", "vehicle_category", "transaction_amount"}


def _lines(records) -> list[str]:
    return toll_generator.to_json_lines(records).decode().splitlines()


def _strict(line: str) -> dict:
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(line, parse_constant=refuse)


def test_same_date_and_seed_generate_the_same_batch():
    first = list(toll_generator.generate_records(DATE, 7, 50, BOOTHS))
    second = list(toll_generator.generate_records(DATE, 7, 50, BOOTHS))
    other_seed = list(toll_generator.generate_records(DATE, 8, 50, BOOTHS))

    assert first == second
    assert {r["transaction_id"] for r in first} != {r["transaction_id"] for r in other_seed}


def test_transaction_ids_are_unique_bigints_prefixed_by_the_date():
    records = list(toll_generator.generate_records(DATE, 1, 1000, BOOTHS))

    ids = [r["transaction_id"] for r in records]
    assert len(set(ids)) == 1000
    assert all(str(i).startswith("20260314") and 0 < i < 2**63 for i in ids)
    assert {r["transaction_date"] for r in records} == {DATE}
    assert {r["toll_booth"] for r in records} == set(BOOTHS)
    assert all(r["transaction_amount"] > 0 for r in records)


def test_duplicates_resend_earlier_records_unchanged():
    records = list(toll_generator.generate_records(DATE, 3, 100, BOOTHS, duplicates=5))

    assert len(records) == 105
    counts = Counter(r["transaction_id"] for r in records)
    assert sorted(counts.values()).count(2) == 5
    first_copy = {r["transaction_id"]: r for r in records[:100]}
    assert all(first_copy[r["transaction_id"]] == r for r in records[100:])


def test_lines_are_strict_json_objects_not_python_reprs():
    lines = _lines(toll_generator.generate_records(DATE, 1, 20, BOOTHS))

    assert len(lines) == 20
    assert all("'" not in line for line in lines)
    assert all(set(_strict(line)) == FIELDS for line in lines)


def test_config_from_environment_when_event_is_silent():
    config = toll_generator.batch_config(
        {"date": "2026-03-14T00:00:00+00:00"},
        {"LANDING_BUCKET": "b", "RECORD_COUNT": "12", "TOLL_BOOTHS": "a, b", "GENERATOR_SEED": "4"},
    )
    assert (config["date"], config["records"], config["booths"], config["seed"], config["bucket"]) == (
        DATE,
        12,
        ["a", "b"],
        4,
        "b",
    )
    with pytest.raises(ValueError, match="landing bucket"):
        toll_generator.batch_config({}, {})
    with pytest.raises(ValueError, match="duplicates"):
        toll_generator.batch_config({"records": 2, "duplicates": 3, "bucket": "b"}, {})


@pytest.fixture
def landing_bucket(local_aws, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", local_aws.endpoint)
    monkeypatch.setenv("LANDING_BUCKET", "toll-generator-test")
    local_aws.client("s3").create_bucket(Bucket="toll-generator-test")
    return "toll-generator-test"


def _read(local_aws, bucket, key) -> list[dict]:
    body = local_aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return [_strict(line) for line in body.splitlines()]


def test_handler_writes_only_this_invocations_records_on_warm_reuse(local_aws, landing_bucket):
    # Two invocations in one process, as a warm Lambda container would run them.
    first = toll_generator.handler({"date": "2026-03-14", "records": 30, "seed": 1})
    second = toll_generator.handler({"date": "2026-03-15", "records": 10, "seed": 1})

    assert first["key"] == "landing/toll/dt=2026-03-14/toll-20260314-s1.jsonl"
    assert second["key"] == "landing/toll/dt=2026-03-15/toll-20260315-s1.jsonl"
    assert (first["count"], second["count"]) == (30, 10)
    second_records = _read(local_aws, landing_bucket, second["key"])
    assert len(second_records) == 10
    assert {r["transaction_date"] for r in second_records} == {"2026-03-15"}
    assert len(_read(local_aws, landing_bucket, first["key"])) == 30


def test_handler_rerun_of_a_date_overwrites_the_same_key_with_the_same_records(local_aws, landing_bucket):
    event = {"date": "2026-04-01", "records": 25, "seed": 9, "duplicates": 2}
    first = toll_generator.handler(event)
    before = _read(local_aws, landing_bucket, first["key"])
    second = toll_generator.handler(event)

    assert second == first
    assert _read(local_aws, landing_bucket, second["key"]) == before
    listed = local_aws.client("s3").list_objects_v2(Bucket=landing_bucket, Prefix="landing/toll/dt=2026-04-01/")
    assert [item["Key"] for item in listed["Contents"]] == [first["key"]]
    assert (first["count"], first["unique_transactions"], first["duplicates"]) == (27, 25, 2)
