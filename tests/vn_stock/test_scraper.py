"""The scraper Lambda's handler driving real headless Chromium against the local copy of the cafef.vn page."""

from __future__ import annotations

import csv
import io
import re
import socket
import time

import pytest

pytestmark = pytest.mark.browser

BUCKET = "vn-stock-scraper-test"


@pytest.fixture
def raw_bucket(local_aws, monkeypatch):
    """The handler's S3 (the local platform) and a bucket for its raw files."""
    s3 = local_aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("AWS_ENDPOINT_URL", local_aws.endpoint)
    monkeypatch.setenv("RAW_BUCKET", BUCKET)
    monkeypatch.setenv("PAGE_TIMEOUT_S", "15")
    yield s3
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=BUCKET)


def read_csv(s3, key: str) -> list[dict[str, str]]:
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode("utf-8")
    return list(csv.DictReader(io.StringIO(body)))


def test_normal_day_writes_one_raw_csv_under_its_date_partition(fake_cafef, raw_bucket, seed_rows):
    from vn_stock_scraper import handler

    result = handler({"date": "2023-11-13", "source_url": fake_cafef.url}, None)

    assert result["status"] == "ok"
    assert result["rows"] == 1
    assert result["keys"] == ["raw/vn_stock/dt=2023-11-13/20231113.csv"]
    [row] = read_csv(raw_bucket, result["keys"][0])
    assert row["RECORDED_DATE"] == "13/11/2023"
    assert {k: v.replace(",", "") for k, v in row.items()} == seed_rows[0]


def test_range_writes_one_file_per_trading_day_and_skips_the_weekend(fake_cafef, raw_bucket):
    from vn_stock_scraper import handler

    result = handler({"date_from": "2023-11-16", "date_to": "2023-11-20", "source_url": fake_cafef.url}, None)

    assert result["trading_dates"] == ["2023-11-16", "2023-11-17", "2023-11-20"]
    assert [read_csv(raw_bucket, key)[0]["CLOSE_PRICE"] for key in result["keys"]] == [
        "1,125.53",
        "1,101.19",
        "1,103.66",
    ]


def test_no_results_day_is_a_clean_no_trading_result_and_writes_nothing(fake_cafef, raw_bucket):
    from vn_stock_scraper import handler

    result = handler({"date": "2023-10-07", "source_url": fake_cafef.url}, None)

    assert result == {
        "date_from": "2023-10-07",
        "date_to": "2023-10-07",
        "status": "no_trading",
        "rows": 0,
        "keys": [],
        "trading_dates": [],
    }
    assert raw_bucket.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


def test_slow_page_is_waited_for_rather_than_read_early(fake_cafef, raw_bucket):
    from vn_stock_scraper import handler

    started = time.monotonic()
    result = handler({"date": "2023-11-17", "source_url": f"{fake_cafef.url}?delay_ms=3000"}, None)

    assert time.monotonic() - started >= 3  # the results really came late
    assert result["status"] == "ok"
    assert read_csv(raw_bucket, result["keys"][0])[0]["INDEX_CHANGE"] == "-24.34(-2.16 %)"


def test_page_slower_than_the_timeout_fails_naming_the_table_and_the_wait(fake_cafef, raw_bucket):
    from vn_stock_scraper import handler

    # The page and its first rows come at once (loaded well within the wait even on a busy machine); only the
    # search's results come too late.
    with pytest.raises(TimeoutError, match=r"#owner-contents-table showed no results within 8s"):
        handler({"date": "2023-11-17", "source_url": f"{fake_cafef.url}?delay_ms=30000", "timeout_s": 8}, None)


def test_page_that_never_loads_fails_naming_the_page_and_the_wait(raw_bucket):
    from vn_stock_scraper import handler

    # A server that takes connections and never answers them.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/history"
        with pytest.raises(TimeoutError, match=rf"^{re.escape(url)} did not finish loading within 1s$"):
            handler({"date": "2023-11-17", "source_url": url, "timeout_s": 1}, None)


def test_changed_layout_fails_naming_what_is_missing(fake_cafef, raw_bucket):
    from vn_stock_parser import LayoutChanged
    from vn_stock_scraper import handler

    with pytest.raises(LayoutChanged, match=r"history table #owner-contents-table not found"):
        handler({"date": "2023-11-13", "source_url": f"{fake_cafef.url}?layout=changed"}, None)
    assert raw_bucket.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
