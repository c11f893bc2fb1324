"""What a run would cost on AWS: usage as AWS's own APIs report it, priced from one region's public price list
(``aws_prices.json``, which states the date of its prices). Pure functions: no AWS call here
(``pipeline_kit.usage`` reads the usage).

A usage record is a plain dict (it travels in XComs and alerts) with a ``service`` and what that service bills:

- ``glue_job``: ``execution_time_s`` (GetJobRun ExecutionTime), ``worker_type``, ``number_of_workers``
  (or ``max_capacity``), ``execution_class``; or ``dpu_seconds`` when Glue reports it (auto scaling, Flex).
  Billed per second with a 1-minute minimum per run.
- ``lambda``: ``billed_duration_ms``, ``memory_mb``, ``architecture``: GB-seconds, plus one request each.
- ``athena``: ``bytes_scanned`` (GetQueryExecution DataScannedInBytes), 10 MB minimum per query.
- ``redshift_serverless``: ``intervals`` ([start, end] epoch seconds of the statements) and ``base_rpu``: the
  workgroup bills RPU-seconds while statements run (overlaps counted once), 60 s minimum.
- ``aurora``: ``seconds`` running, ``instances`` (default 1) and their ``instance_class``; ``db.serverless`` bills ``acu`` x hours (the cluster's
  minimum capacity: a lower bound), a provisioned class its hourly price, per second with a 10-minute minimum.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources

GB = 1024  # Lambda's memory is in MB; its GB-second is 1024 MB for a second
MB = 1_000_000
TB = 1_000_000_000_000
HOUR = 3600


@cache
def load_prices() -> dict:
    return json.loads(resources.files("pipeline_kit").joinpath("aws_prices.json").read_text())


def _item(service: str, resource: str, quantity: float, unit: str, usd: float) -> dict:
    return {
        "service": service,
        "resource": resource,
        "quantity": round(quantity, 3),
        "unit": unit,
        "usd": round(usd, 10),
    }


def glue_job_cost(usage: dict, prices: dict) -> dict:
    glue = prices["glue"]
    if usage.get("dpu_seconds"):  # Glue's own figure (auto scaling, Flex): the DPUs varied during the run
        dpu_seconds = float(usage["dpu_seconds"])
    else:
        worker_type = usage.get("worker_type")
        if worker_type and worker_type not in glue["dpu_per_worker"]:
            raise ValueError(f"no DPU size for Glue worker type {worker_type!r}")
        dpus = (
            glue["dpu_per_worker"][worker_type] * int(usage["number_of_workers"])
            if worker_type
            else float(usage["max_capacity"])
        )
        dpu_seconds = dpus * max(float(usage["execution_time_s"]), glue["minimum_billed_seconds"])
    rate = glue["usd_per_dpu_hour_flex"] if usage.get("execution_class") == "FLEX" else glue["usd_per_dpu_hour"]
    return _item("glue_job", usage["resource"], dpu_seconds, "DPU-second", dpu_seconds / HOUR * rate)


def lambda_cost(usage: dict, prices: dict) -> dict:
    rates = prices["lambda"]
    requests = int(usage.get("requests", 1))
    gb_seconds = math.ceil(float(usage["billed_duration_ms"])) / 1000 * int(usage["memory_mb"]) / GB
    per_gb_second = rates["usd_per_gb_second"][usage.get("architecture") or "x86_64"]
    usd = gb_seconds * per_gb_second + requests * rates["usd_per_million_requests"] / 1_000_000
    return _item("lambda", usage["resource"], gb_seconds, "GB-second", usd)


def athena_cost(usage: dict, prices: dict) -> dict:
    rates = prices["athena"]
    scanned = max(int(usage["bytes_scanned"]), rates["minimum_bytes_per_query"])
    scanned = math.ceil(scanned / MB) * MB  # Athena rounds up to the next megabyte
    return _item("athena", usage["resource"], scanned, "byte scanned", scanned / TB * rates["usd_per_tb_scanned"])


def busy_seconds(intervals: list[list[float]]) -> float:
    """How long at least one of the intervals ([start, end]) was running: overlaps counted once."""
    total, current_end = 0.0, None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            total += end - start
            current_end = end
        elif end > current_end:
            total += end - current_end
            current_end = end
    return total


def redshift_serverless_cost(usage: dict, prices: dict) -> dict:
    rates = prices["redshift_serverless"]
    seconds = busy_seconds(usage["intervals"])
    billed = max(seconds, rates["minimum_billed_seconds"]) if usage["intervals"] else 0.0
    rpu_seconds = billed * float(usage["base_rpu"])
    return _item(
        "redshift_serverless",
        usage["resource"],
        rpu_seconds,
        "RPU-second",
        rpu_seconds / HOUR * rates["usd_per_rpu_hour"],
    )


def aurora_cost(usage: dict, prices: dict) -> dict:
    rates = prices["aurora"]
    seconds = float(usage["seconds"]) * int(usage.get("instances", 1))
    instance_class = usage["instance_class"]
    if instance_class == "db.serverless":
        acu_seconds = seconds * float(usage["acu"])
        return _item(
            "aurora", usage["resource"], acu_seconds, "ACU-second", acu_seconds / HOUR * rates["usd_per_acu_hour"]
        )
    if instance_class not in rates["usd_per_instance_hour"]:
        raise ValueError(f"no hourly price for Aurora instance class {instance_class!r}")
    billed = max(seconds, rates["minimum_billed_seconds_provisioned"])
    return _item(
        "aurora",
        usage["resource"],
        billed / HOUR,
        "instance-hour",
        billed / HOUR * rates["usd_per_instance_hour"][instance_class],
    )


PRICERS = {
    "glue_job": glue_job_cost,
    "lambda": lambda_cost,
    "athena": athena_cost,
    "redshift_serverless": redshift_serverless_cost,
    "aurora": aurora_cost,
}


def price_usage(usage: list[dict], prices: dict | None = None) -> dict:
    """The run's cost: one line per usage record and the total, with the region and date of the prices."""
    prices = prices or load_prices()
    unknown = sorted({record["service"] for record in usage} - set(PRICERS))
    if unknown:
        raise ValueError(f"no pricing for service(s) {unknown}")
    items = [PRICERS[record["service"]](record, prices) for record in usage]
    return {
        "total_usd": round(sum(item["usd"] for item in items), 10),
        "items": items,
        "region": prices["region"],
        "prices_as_of": prices["prices_as_of"],
    }


def add_costs(costs: list[dict]) -> dict:
    """Several runs' costs (a backfill, a demo) as one: the total and the usage per service."""
    per_service: dict[str, dict] = {}
    for cost in costs:
        for item in cost["items"]:
            line = per_service.setdefault(item["service"], {"quantity": 0.0, "unit": item["unit"], "usd": 0.0})
            line["quantity"] = round(line["quantity"] + item["quantity"], 3)
            line["usd"] = round(line["usd"] + item["usd"], 10)
    return {
        "runs": len(costs),
        "total_usd": round(sum(cost["total_usd"] for cost in costs), 10),
        "per_service": per_service,
        "prices_as_of": sorted({cost["prices_as_of"] for cost in costs}),
    }


def format_usd(amount: float) -> str:
    """Dollars to the cent, and below a cent to four significant figures (a run often costs fractions of one)."""
    if amount >= 0.01:
        return f"${amount:,.2f}"
    return f"${amount:.4g}" if amount else "$0"
