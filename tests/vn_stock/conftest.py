"""Fixtures of the vn_stock tests: the local copy of the cafef.vn page, the seed rows, the scraper module."""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from pathlib import Path

import pytest

from local_platform.seed import SEED_DATA_DIR

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCRAPER_DIR = PROJECT_ROOT / "include" / "lambda" / "vn_stock_scraper"
SAVED_PAGES = Path(__file__).resolve().parent / "saved_pages"
SEED_DIR = SEED_DATA_DIR / "vn_stock"  # the repository's copy (local_platform/seed_data/), or SEED_DATA_DIR's

# The Lambda's modules import each other by bare name, as they do inside the deployed zip.
if str(SCRAPER_DIR) not in sys.path:
    sys.path.insert(0, str(SCRAPER_DIR))


@pytest.fixture(scope="session")
def fake_cafef():
    """The local copy of the history page, served on 127.0.0.1 for the whole session."""
    from local_platform.fake_sites.cafef_history import FakeCafef

    with FakeCafef() as site:
        yield site


def read_seed(name: str) -> list[dict[str, str]]:
    with (SEED_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def seed_rows() -> list[dict[str, str]]:
    """The six trading days of the seed, 13 to 20 November 2023, oldest first."""
    names = ["20231113.csv", "20231114.csv", "20231115.csv", "20231116.csv", "20231117.csv", "20231120.csv"]
    return [row for name in names for row in read_seed(name)]


def expected_clean(row: dict[str, str]) -> dict:
    """What a seed row must become, computed with plain Python from its text."""
    value, _, percent = row["INDEX_CHANGE"].partition("(")
    return {
        "trading_date": datetime.strptime(row["RECORDED_DATE"], "%d/%m/%Y").date(),
        "close_price": float(row["CLOSE_PRICE"]),
        "change_value": float(value),
        "change_percent": float(percent.rstrip(")").rstrip("%").strip()),
        "matched_volume": int(row["MACHED_VOLUME"]),
        "matched_amount": float(row["MACHED_AMOUNT"]),
        "deal_volume": int(row["SELF_DEALED_VOLUME"]),
        "deal_amount": float(row["SELF_DEALED_AMOUNT"]),
        "open_price": float(row["OPEN_PRICE"]),
        "high_price": float(row["HIGHEST_PRICE"]),
        "low_price": float(row["LOWEST_PRICE"]),
        "dt": datetime.strptime(row["RECORDED_DATE"], "%d/%m/%Y").date().isoformat(),
    }
