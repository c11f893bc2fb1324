"""Put seed inputs where the pipelines' sensors look for them (used by the demo and the DAG tests).

The seed samples (retail: orders, reviews, shipment_deliveries; toll_plaza: the original generator's output;
vn_stock: the scraped days) are kept in ``local_platform/seed_data/<pipeline>/`` so that a fresh clone runs the
demo and the seed-row tests; ``SEED_DATA_DIR`` points elsewhere (a folder holding the same sub-folders).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

SEED_DATA_DIR = Path(os.environ.get("SEED_DATA_DIR", Path(__file__).resolve().parent / "seed_data"))
RETAIL_FILES = ("orders.csv", "reviews.csv", "shipment_deliveries.csv")


def retail_prefix(run_date: date | str) -> str:
    """The raw prefix of one day's drop, as the retail_analytics DAG templates it."""
    return f"retail/dt={date.fromisoformat(str(run_date)).isoformat()}/"


def upload_retail_seed(s3_client, bucket: str, run_date: date | str, seed_dir: Path | None = None) -> list[str]:
    """Upload the three retail CSVs, then the ``_SUCCESS`` marker (last, as a real producer would), under the
    date's prefix. Returns the keys written."""
    folder = seed_dir or SEED_DATA_DIR / "retail"
    prefix = retail_prefix(run_date)
    keys = []
    for name in RETAIL_FILES:
        s3_client.upload_file(str(folder / name), bucket, prefix + name)
        keys.append(prefix + name)
    s3_client.put_object(Bucket=bucket, Key=prefix + "_SUCCESS", Body=b"")
    return [*keys, prefix + "_SUCCESS"]
