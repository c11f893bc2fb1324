"""A run's AWS cost from its usage, priced from the price list file: each service's billing rules (minimums,
rounding, sizes) against hand-computed figures."""

from __future__ import annotations

import pytest
from pipeline_kit.cost import add_costs, busy_seconds, format_usd, load_prices, price_usage

PRICES = load_prices()


def _only_item(usage: dict) -> dict:
    return price_usage([usage], PRICES)["items"][0]


def test_price_list_states_its_region_and_date():
    assert PRICES["region"] == "us-east-1"
    assert PRICES["prices_as_of"] == "2026-12-01"
    assert price_usage([], PRICES) == {"total_usd": 0, "items": [], "region": "us-east-1", "prices_as_of": "2026-12-01"}


def test_glue_job_bills_dpu_seconds_of_its_workers():
    item = _only_item(
        {
            "service": "glue_job",
            "resource": "convert",
            "execution_time_s": 120,
            "worker_type": "G.2X",
            "number_of_workers": 3,
        }
    )
    assert item["quantity"] == 2 * 3 * 120
    assert item["usd"] == pytest.approx(720 / 3600 * 0.44)


def test_glue_job_shorter_than_a_minute_bills_a_minute():
    item = _only_item(
        {
            "service": "glue_job",
            "resource": "clean",
            "execution_time_s": 7,
            "worker_type": "G.1X",
            "number_of_workers": 2,
        }
    )
    assert item["quantity"] == 2 * 60
    assert item["usd"] == pytest.approx(120 / 3600 * 0.44)


def test_glue_job_takes_glues_own_dpu_seconds_when_reported_and_flex_rate():
    item = _only_item(
        {
            "service": "glue_job",
            "resource": "auto",
            "execution_time_s": 300,
            "dpu_seconds": 900.5,
            "execution_class": "FLEX",
        }
    )
    assert item["quantity"] == 900.5
    assert item["usd"] == pytest.approx(900.5 / 3600 * 0.29)


def test_unknown_worker_type_is_an_error_not_a_guess():
    with pytest.raises(ValueError, match="G.3X"):
        _only_item(
            {
                "service": "glue_job",
                "resource": "x",
                "execution_time_s": 60,
                "worker_type": "G.3X",
                "number_of_workers": 1,
            }
        )


def test_lambda_bills_gb_seconds_of_billed_duration_and_a_request():
    item = _only_item({"service": "lambda", "resource": "scraper", "billed_duration_ms": 1500, "memory_mb": 2048})
    assert item["quantity"] == 3.0  # 1.5 s x 2 GB
    assert item["usd"] == pytest.approx(3.0 * 0.0000166667 + 0.20 / 1_000_000)


def test_lambda_on_arm_uses_the_arm_rate():
    item = _only_item(
        {
            "service": "lambda",
            "resource": "gen",
            "billed_duration_ms": 1000,
            "memory_mb": 1024,
            "architecture": "arm64",
            "requests": 2,
        }
    )
    assert item["usd"] == pytest.approx(0.0000133334 + 2 * 0.20 / 1_000_000)


def test_athena_bills_at_least_ten_megabytes_rounded_up_to_the_megabyte():
    small = _only_item({"service": "athena", "resource": "q1", "bytes_scanned": 1234})
    large = _only_item({"service": "athena", "resource": "q2", "bytes_scanned": 25_000_001})
    assert small["quantity"] == 10_000_000
    assert small["usd"] == pytest.approx(10_000_000 / 1e12 * 5.0)
    assert large["quantity"] == 26_000_000


def test_redshift_serverless_counts_overlapping_statements_once_with_a_minute_minimum():
    assert busy_seconds([[0, 10], [5, 20], [30, 40], [31, 35]]) == 30
    short = _only_item(
        {"service": "redshift_serverless", "resource": "wg", "intervals": [[0, 2], [1, 3]], "base_rpu": 8}
    )
    long = _only_item(
        {"service": "redshift_serverless", "resource": "wg", "intervals": [[0, 50], [60, 100]], "base_rpu": 8}
    )
    assert short["quantity"] == 60 * 8
    assert long["quantity"] == 90 * 8
    assert long["usd"] == pytest.approx(90 * 8 / 3600 * 0.375)


def test_no_redshift_statement_bills_nothing():
    assert _only_item({"service": "redshift_serverless", "resource": "wg", "intervals": [], "base_rpu": 8})["usd"] == 0


def test_aurora_serverless_bills_acu_seconds_and_provisioned_ten_minutes_at_least():
    serverless = _only_item(
        {"service": "aurora", "resource": "c", "seconds": 1800, "instance_class": "db.serverless", "acu": 0.5}
    )
    provisioned = _only_item({"service": "aurora", "resource": "c", "seconds": 60, "instance_class": "db.r6g.large"})
    assert serverless["usd"] == pytest.approx(0.25 * 0.12)
    assert provisioned["quantity"] == pytest.approx(600 / 3600, abs=1e-3)
    assert provisioned["usd"] == pytest.approx(600 / 3600 * 0.26)


def test_run_total_is_the_sum_of_its_lines_and_runs_add_up_per_service():
    run = price_usage(
        [
            {
                "service": "glue_job",
                "resource": "j",
                "execution_time_s": 60,
                "worker_type": "G.1X",
                "number_of_workers": 2,
            },
            {"service": "lambda", "resource": "f", "billed_duration_ms": 1000, "memory_mb": 1024},
        ],
        PRICES,
    )
    assert run["total_usd"] == pytest.approx(sum(item["usd"] for item in run["items"]))

    backfill = add_costs([run, run, run])
    assert backfill["runs"] == 3
    assert backfill["total_usd"] == pytest.approx(3 * run["total_usd"])
    assert backfill["per_service"]["glue_job"]["quantity"] == 3 * 120
    assert backfill["prices_as_of"] == ["2026-12-01"]


def test_unknown_service_is_refused():
    with pytest.raises(ValueError, match="sagemaker"):
        price_usage([{"service": "sagemaker", "resource": "x"}], PRICES)


def test_amounts_below_a_cent_keep_their_digits():
    assert format_usd(12.345) == "$12.35"
    assert format_usd(0.0014667) == "$0.001467"
    assert format_usd(0) == "$0"
