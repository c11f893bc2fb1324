"""What the demo shows of its runs' results, from the runs' success alerts (as a user subscribed to the topic
gets them): each run's charts, downloaded from the local S3 under ``<state dir>/demo/`` with an index page linking
them all, and what each run, each pipeline's runs (a backfill) and the whole demo would have cost on AWS.

    results = collect_results(alerts)                    # the runs' charts and costs, from their alerts
    index = write_index(s3_client, results, out_dir)     # <out_dir>/index.html, charts under <out_dir>/charts/
    print("\\n".join(summary_lines(results, index)))
"""

from __future__ import annotations

import dataclasses
import html
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from local_platform.settings import PROJECT_ROOT

# The pipelines' own cost arithmetic, from plugins/ (which Airflow puts on the path of its processes).
if str(PROJECT_ROOT / "plugins") not in sys.path:
    sys.path.append(str(PROJECT_ROOT / "plugins"))
from pipeline_kit.cost import add_costs, format_usd  # noqa: E402


@dataclasses.dataclass
class RunResult:
    pipeline: str
    run_id: str
    logical_date: str | None
    charts: list[dict]  # {"title", "png", "html"}: S3 URIs
    cost: dict | None  # pipeline_kit.cost.price_usage's answer, or {"error": ...}


def collect_results(alerts: list[dict]) -> list[RunResult]:
    """One result per alert that carries charts or a cost (success, no-data and no-trading alerts)."""
    return [
        RunResult(
            alert["pipeline"], alert["run_id"], alert.get("logical_date"), alert.get("charts") or [], alert.get("cost")
        )
        for alert in alerts
        if alert.get("charts") or alert.get("cost")
    ]


def _local_name(uri: str) -> str:
    bucket, key = urlsplit(uri).netloc, urlsplit(uri).path.lstrip("/")
    return f"{bucket}/{key}"


def download_charts(s3_client, results: list[RunResult], out_dir: Path) -> dict[str, Path]:
    """Each chart's PNG and HTML copied from S3 to ``out_dir/charts/<bucket>/<key>``; S3 URI -> local path."""
    local = {}
    for result in results:
        for chart in result.charts:
            for uri in (chart["png"], chart["html"]):
                path = out_dir / "charts" / _local_name(uri)
                path.parent.mkdir(parents=True, exist_ok=True)
                bucket, key = urlsplit(uri).netloc, urlsplit(uri).path.lstrip("/")
                path.write_bytes(s3_client.get_object(Bucket=bucket, Key=key)["Body"].read())
                local[uri] = path
    return local


def pipeline_costs(results: list[RunResult]) -> dict[str, dict]:
    """Each pipeline's runs added up (``pipeline_kit.cost.add_costs``), runs without a priced cost left out."""
    priced: dict[str, list[dict]] = {}
    for result in results:
        if result.cost and "total_usd" in result.cost:
            priced.setdefault(result.pipeline, []).append(result.cost)
    return {pipeline: add_costs(costs) for pipeline, costs in priced.items()}


def index_page(results: list[RunResult], local: dict[str, Path], out_dir: Path, generated_at: datetime) -> str:
    """The demo's index: per pipeline, each run's charts (image linking its page) and cost, then the totals."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Demo results</title>',
        "<style>body{font-family:sans-serif;margin:2em;color:#222}img{max-width:45%;border:1px solid #ccc;"
        "margin:.5em}table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #ddd}"
        "</style></head><body>",
        "<h1>Demo results</h1>",
    ]
    totals = pipeline_costs(results)
    for pipeline in sorted({result.pipeline for result in results}):
        parts.append(f"<h2>{html.escape(pipeline)}</h2>")
        for result in (r for r in results if r.pipeline == pipeline):
            cost = _cost_text(result.cost)
            parts.append(f"<h3>{html.escape(result.run_id)}</h3><p>AWS cost of this run: {html.escape(cost)}</p>")
            for chart in result.charts:
                png = local[chart["png"]].relative_to(out_dir).as_posix()
                page = local[chart["html"]].relative_to(out_dir).as_posix()
                parts.append(
                    f'<a href="{html.escape(page)}"><img src="{html.escape(png)}" '
                    f'alt="{html.escape(chart["title"])}" title="{html.escape(chart["title"])}"></a>'
                )
        if pipeline in totals:
            parts.append(
                f"<p><b>{totals[pipeline]['runs']} run(s): {format_usd(totals[pipeline]['total_usd'])}</b></p>"
            )
    all_costs = add_costs([cost for total in totals.values() for cost in [_as_run_cost(total)]]) if totals else None
    if all_costs:
        parts.append(f"<h2>Whole demo: {format_usd(all_costs['total_usd'])} on AWS</h2>")
        parts.append(_per_service_table(all_costs["per_service"]))
        parts.append(f"<p>Prices: us-east-1, as of {', '.join(all_costs['prices_as_of'])}.</p>")
    parts.append(f"<footer>Generated at {generated_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC</footer></body></html>")
    return "\n".join(parts) + "\n"


def _as_run_cost(total: dict) -> dict:
    """A pipeline's total in the shape of one run's cost, so that pipelines add up like runs."""
    items = [
        {"service": service, "quantity": line["quantity"], "unit": line["unit"], "usd": line["usd"]}
        for service, line in total["per_service"].items()
    ]
    return {"total_usd": total["total_usd"], "items": items, "prices_as_of": total["prices_as_of"][0]}


def _per_service_table(per_service: dict) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(service)}</td><td>{line['quantity']:,} {html.escape(line['unit'])}</td>"
        f"<td>{format_usd(line['usd'])}</td></tr>"
        for service, line in sorted(per_service.items())
    )
    return f"<table><tr><th>service</th><th>usage</th><th>cost</th></tr>{rows}</table>"


def _cost_text(cost: dict | None) -> str:
    if not cost:
        return "not measured"
    if "error" in cost:
        return f"not measured ({cost['error']})"
    return format_usd(cost["total_usd"])


def write_index(s3_client, results: list[RunResult], out_dir: Path) -> Path:
    """Download the runs' charts under ``out_dir`` and write ``out_dir/index.html`` linking them all."""
    out_dir.mkdir(parents=True, exist_ok=True)
    local = download_charts(s3_client, results, out_dir)
    index = out_dir / "index.html"
    index.write_text(index_page(results, local, out_dir, datetime.now(UTC)))
    return index


def summary_lines(results: list[RunResult], index: Path | None = None) -> list[str]:
    """The demo summary's part about results: each run's cost and chart paths, each pipeline's total (a backfill's
    cost), the demo's total and where the index page is."""
    lines = []
    totals = pipeline_costs(results)
    for result in results:
        lines.append(f"{result.pipeline} {result.logical_date or result.run_id}: AWS cost {_cost_text(result.cost)}")
        lines += [f"  chart {chart['title']}: {chart['html']}" for chart in result.charts]
    for pipeline, total in sorted(totals.items()):
        lines.append(f"{pipeline}: {total['runs']} run(s) would cost {format_usd(total['total_usd'])} on AWS")
    if totals:
        grand = sum(total["total_usd"] for total in totals.values())
        dates = sorted({date for total in totals.values() for date in total["prices_as_of"]})
        lines.append(f"all pipelines: {format_usd(grand)} on AWS (us-east-1 prices as of {', '.join(dates)})")
    if index:
        lines.append(f"charts: {index}")
    return lines
