import json
from datetime import date

import pytest
import toll_transform

from tests.toll_plaza.conftest import SEED_FILE


def _good(transaction_id, amount=4.5, day="2026-03-14", booth="golf_rd", category="SUV") -> str:
    return json.dumps(
        {
            "transaction_id": transaction_id,
            "transaction_date": day,
            "toll_booth": booth,
            "vehicle_make": "Audi",
            "vehicle_category": category,
            "transaction_amount": amount,
        }
    )


def _transform_files(spark, tmp_path, files: dict[str, list[str]], landing_date="2026-03-14"):
    for name, lines in files.items():
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    lines = spark.read.text([str(tmp_path / name) for name in files])
    return toll_transform.transform(lines, landing_date).cache()


@pytest.mark.spark
def test_dict_literals_are_read_natively_and_code_in_them_is_never_run(spark, tmp_path):
    lines = [
        "{'transaction_id': 1, 'transaction_date': '2026/03/14', 'toll_booth': 'golf_rd', 'vehicle_make': None, "
        "'vehicle_category': 'SUV', 'transaction_amount': 4.5, 'paid': True}",
        # strict JSON is taken as it is: a value that merely contains ': None,' is not rewritten
        _good(2, booth="a: None, b"),
        "{'transaction_id': __import__('os').getpid(), 'transaction_date': '2026/03/14'}",
        "{'transaction_id': 3, 'toll_booth': {1, 2}}",
        "[1, 2]",
    ]
    marked = _transform_files(spark, tmp_path, {"legacy.json": lines})

    staged = {row["transaction_id"]: row for row in toll_transform.staged_rows(marked).collect()}
    assert sorted(staged) == [1, 2]
    assert (staged[1]["vehicle_make"], staged[1]["toll_booth"], staged[2]["toll_booth"]) == (
        None,
        "golf_rd",
        "a: None, b",
    )
    quarantined = {row["line"]: row["reason"] for row in toll_transform.quarantined_rows(marked).collect()}
    assert quarantined == {line: toll_transform.UNPARSEABLE for line in lines[2:]}


@pytest.mark.spark
def test_original_single_quoted_seed_file_is_parsed_and_typed(spark):
    marked = toll_transform.transform(spark.read.text(str(SEED_FILE)), "2023-08-31")
    staged = {row["transaction_id"]: row for row in toll_transform.staged_rows(marked).collect()}

    assert toll_transform.summarize(marked, "2023-08-31").as_dict() == {
        "run_date": "2023-08-31",
        "read": 100,
        "loaded": 100,
        "quarantined": 0,
        "duplicates": 0,
        "held_back": 0,
        "quarantine_reasons": {},
    }
    first = staged[95254]
    assert first.asDict() == {
        "transaction_id": 95254,
        "transaction_date": date(2023, 8, 13),
        "toll_booth": "buckley_rd",
        "vehicle_make": "Audi",
        "vehicle_category": "Coupe, Sedan, Convertible",
        "transaction_amount": 8.85,
        "landing_date": date(2023, 8, 31),
    }
    assert dict(toll_transform.staged_rows(marked).dtypes) == {
        "transaction_id": "bigint",
        "transaction_date": "date",
        "toll_booth": "string",
        "vehicle_make": "string",
        "vehicle_category": "string",
        "transaction_amount": "double",
        "landing_date": "date",
    }
    assert min(row["transaction_date"] for row in staged.values()) == date(2023, 7, 30)


@pytest.mark.spark
def test_bad_records_are_quarantined_with_their_reason_and_good_ones_staged(spark, tmp_path):
    lines = [
        _good(1),
        "{'transaction_id': 2, 'transaction_date': '2026/03/14', 'toll_booth': 'royal_ave', "
        "'vehicle_make': 'Kia', 'vehicle_category': 'Sedan', 'transaction_amount': 3}",
        "this is not a record",
        '{"transaction_id": "abc", "transaction_date": "2026-03-14", "toll_booth": "x", "vehicle_category": "SUV",'
        ' "transaction_amount": 1}',
        '{"transaction_date": "2026-03-14", "toll_booth": "x", "vehicle_category": "SUV", "transaction_amount": 1}',
        _good(3, day="2026-02-30"),
        _good(4, day="14/03/2026"),
        _good(5, amount=0),
        _good(6, amount=-2.5),
        _good(7, amount="NaN"),
        _good(8, booth=""),
        "",
        "{'transaction_id': __import__('os').getpid(), 'transaction_date': '2026/03/14'}",
    ]
    marked = _transform_files(spark, tmp_path, {"poisoned.jsonl": lines})

    quarantined = {row["line"]: row["reason"] for row in toll_transform.quarantined_rows(marked).collect()}
    assert sorted(row["transaction_id"] for row in toll_transform.staged_rows(marked).collect()) == [1, 2]
    assert quarantined == {
        lines[2]: "unparseable: neither a JSON object nor a dict literal",
        lines[3]: "transaction_id is not a positive integer",
        lines[4]: "missing transaction_id",
        lines[5]: "transaction_date is not a valid yyyy/mm/dd or ISO date",
        lines[6]: "transaction_date is not a valid yyyy/mm/dd or ISO date",
        lines[7]: "transaction_amount is not positive",
        lines[8]: "transaction_amount is not positive",
        lines[9]: "transaction_amount is not a number",
        lines[10]: "missing toll_booth",
        lines[12]: "unparseable: neither a JSON object nor a dict literal",
    }
    summary = toll_transform.summarize(marked, "2026-03-14")
    assert (summary.read, summary.loaded, summary.quarantined, summary.duplicates) == (12, 2, 10, 0)
    assert summary.quarantine_reasons == {
        "unparseable: neither a JSON object nor a dict literal": 2,
        "transaction_id is not a positive integer": 1,
        "missing transaction_id": 1,
        "transaction_date is not a valid yyyy/mm/dd or ISO date": 2,
        "transaction_amount is not positive": 2,
        "transaction_amount is not a number": 1,
        "missing toll_booth": 1,
    }
    assert {row["source_file"] for row in toll_transform.quarantined_rows(marked).collect()} == {"poisoned.jsonl"}


@pytest.mark.spark
def test_duplicate_transaction_ids_keep_the_first_by_file_and_position(spark, tmp_path):
    marked = _transform_files(
        spark,
        tmp_path,
        {
            "a.jsonl": [_good(10, amount=1.0), _good(11), _good(10, amount=2.0)],
            "b.jsonl": [_good(10, amount=3.0), _good(12)],
        },
    )

    staged = {row["transaction_id"]: row["transaction_amount"] for row in toll_transform.staged_rows(marked).collect()}
    assert staged == {10: 1.0, 11: 4.5, 12: 4.5}
    summary = toll_transform.summarize(marked, "2026-03-14")
    assert (summary.read, summary.loaded, summary.duplicates) == (5, 3, 2)


@pytest.mark.spark
def test_iso_timestamps_and_slashed_dates_become_dates(spark, tmp_path):
    marked = _transform_files(
        spark,
        tmp_path,
        {
            "dates.jsonl": [
                _good(1, day="2026-03-14T23:59:59Z"),
                _good(2, day="2026/03/13"),
                _good(3, day="2026-03-12"),
            ]
        },
    )

    dates = {row["transaction_id"]: row["transaction_date"] for row in toll_transform.staged_rows(marked).collect()}
    assert dates == {1: date(2026, 3, 14), 2: date(2026, 3, 13), 3: date(2026, 3, 12)}
