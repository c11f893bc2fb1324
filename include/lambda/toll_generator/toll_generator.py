"""Generate one batch of toll transactions for a day and land it in S3 as strict JSON lines.

Event (every field optional; environment variables give the defaults):
    {"date": "2026-11-23", "run_id": "...", "records": 100, "booths": ["golf_rd", ...], "seed": 7,
     "duplicates": 0, "bucket": "...", "prefix": "landing/toll"}
Environment: LANDING_BUCKET, LANDING_PREFIX, RECORD_COUNT, TOLL_BOOTHS (comma separated), GENERATOR_SEED.

The batch is a pure function of (date, seed, records, booths, duplicates): a rerun writes the same
transaction ids to the same key, so a retried or repeated invocation overwrites instead of adding rows.
Everything is built in memory per invocation; nothing survives into the next warm invocation (the
original appended to a file in /tmp and so re-sent every earlier record).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import random

import boto3

DEFAULT_BOOTHS = ("golf_rd", "royal_ave", "buckley_rd", "82nd_st", "central_ave", "harbor_bridge")
# Tariff per vehicle category: a base amount and the spread around it (peak pricing, axles).
TARIFFS = {
    "Sedan": (4.50, 1.50),
    "Coupe": (4.50, 1.50),
    "Convertible": (5.00, 1.50),
    "Hatchback": (4.00, 1.00),
    "SUV": (6.00, 2.00),
    "Minivan": (6.00, 2.00),
    "Pickup": (7.00, 2.50),
    "Van/Minivan": (6.50, 2.00),
    "Motorcycle": (2.50, 0.75),
    "Truck": (14.00, 5.00),
}
MAKES = (
    "Audi",
    "BMW",
    "Chevrolet",
    "Dodge",
    "Ford",
    "Honda",
    "Hyundai",
    "Kia",
    "Lexus",
    "Mazda",
    "Mercedes-Benz",
    "Mitsubishi",
    "Nissan",
    "Plymouth",
    "Subaru",
    "Tesla",
    "Toyota",
    "Volkswagen",
)
# Ids are <yyyymmdd> followed by nine digits, so days never collide and ids fit a BIGINT.
ID_SPACE = 10**9


def batch_config(event: dict, environ: dict) -> dict:
    """Merge the event over the environment's defaults into one validated batch description."""
    date_text = event.get("date") or dt.datetime.now(dt.UTC).date().isoformat()
    date = dt.date.fromisoformat(str(date_text)[:10])
    booths = event.get("booths") or [b.strip() for b in environ.get("TOLL_BOOTHS", "").split(",") if b.strip()]
    config = {
        "date": date.isoformat(),
        "run_id": event.get("run_id"),
        "records": int(event.get("records") or environ.get("RECORD_COUNT", 100)),
        "booths": list(booths or DEFAULT_BOOTHS),
        "seed": int(event.get("seed") if event.get("seed") is not None else environ.get("GENERATOR_SEED", 0)),
        "duplicates": int(event.get("duplicates") or 0),
        "bucket": event.get("bucket") or environ.get("LANDING_BUCKET"),
        "prefix": (event.get("prefix") or environ.get("LANDING_PREFIX", "landing/toll")).strip("/"),
    }
    if not config["bucket"]:
        raise ValueError("no landing bucket: set LANDING_BUCKET or pass 'bucket' in the event")
    if not 0 < config["records"] < ID_SPACE:
        raise ValueError(f"records must be between 1 and {ID_SPACE - 1}, got {config['records']}")
    if not 0 <= config["duplicates"] <= config["records"]:
        raise ValueError("duplicates must be between 0 and records")
    return config


def landing_key(prefix: str, date: str, seed: int) -> str:
    """One key per (date, seed): the Hive-style dt= folder is what the crawler and the Glue job read."""
    return f"{prefix}/dt={date}/toll-{date.replace('-', '')}-s{seed}.jsonl"


def generate_records(date: str, seed: int, records: int, booths: list[str], duplicates: int = 0):
    """Yield the day's transactions; ``duplicates`` of them come again at the end, as a booth re-sending would."""
    # A string seed is hashed with SHA-512 by random, so the sequence is the same in every process.
    rng = random.Random(f"toll:{date}:{seed}")
    day_prefix = int(date.replace("-", "")) * ID_SPACE
    ids = sorted(rng.sample(range(ID_SPACE), records))
    resent_positions = set(rng.sample(range(records), duplicates))
    categories = sorted(TARIFFS)
    resent = []
    for position, offset in enumerate(ids):
        category = rng.choice(categories)
        base, spread = TARIFFS[category]
        record = {
            "transaction_id": day_prefix + offset,
            "transaction_date": date,
            "toll_booth": rng.choice(booths),
            "vehicle_make": rng.choice(MAKES),
            "vehicle_category": category,
            "transaction_amount": round(max(0.5, rng.uniform(base - spread, base + spread)), 2),
        }
        if position in resent_positions:
            resent.append(record)
        yield record
    yield from resent


def to_json_lines(records) -> bytes:
    """Strict JSON, one object a line (the original wrote Python reprs with single quotes)."""
    buffer = io.StringIO()
    for record in records:
        buffer.write(json.dumps(record, separators=(",", ":")))
        buffer.write("\n")
    return buffer.getvalue().encode()


def handler(event, context=None):
    config = batch_config(event or {}, dict(os.environ))
    body = to_json_lines(
        generate_records(config["date"], config["seed"], config["records"], config["booths"], config["duplicates"])
    )
    key = landing_key(config["prefix"], config["date"], config["seed"])
    boto3.client("s3").put_object(Bucket=config["bucket"], Key=key, Body=body, ContentType="application/x-ndjson")
    return {
        "bucket": config["bucket"],
        "key": key,
        "count": config["records"] + config["duplicates"],
        "unique_transactions": config["records"],
        "duplicates": config["duplicates"],
        "date": config["date"],
        "seed": config["seed"],
        "run_id": config["run_id"],
    }
