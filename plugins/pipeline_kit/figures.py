"""The pipelines' results as figures: pure functions from rows to a ``matplotlib.figure.Figure`` (no pyplot, no
I/O), saved beside the data by ``pipeline_kit.charts.save_chart``. matplotlib is imported when a figure is drawn,
never when a DAG file is parsed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

STARS = ("one", "two", "three", "four", "five")


def _figure(rows: int = 1, height: float = 4.0, **subplot_kw):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, height), layout="constrained")
    return figure, figure.subplots(rows, 1, squeeze=False, **subplot_kw)[:, 0]


def _require(rows: Sequence, what: str) -> None:
    if not rows:
        raise ValueError(f"no rows to chart: {what}")


def index_close_volume(rows: Sequence[tuple[date, float, int]], loaded: tuple[date, date] | None = None):
    """VN-Index close (line) above its matched volume (bars), one point per trading day; ``loaded`` shades the
    days the run loaded."""
    _require(rows, "VN-Index close and volume")
    days = [row[0] for row in rows]
    close_axes, volume_axes = _figure(rows=2, height=5.5, sharex=True)[1]
    close_axes.plot(days, [row[1] for row in rows], color="tab:blue", marker="." if len(rows) < 60 else None)
    close_axes.set_ylabel("close (points)")
    volume_axes.bar(days, [row[2] for row in rows], color="tab:gray")
    volume_axes.set_ylabel("matched volume (shares)")
    if loaded:
        for axes in (close_axes, volume_axes):
            axes.axvspan(loaded[0], loaded[1], color="tab:orange", alpha=0.15, label="loaded by this run")
        close_axes.legend(loc="upper left")
    close_axes.grid(alpha=0.3)
    volume_axes.figure.autofmt_xdate()
    return close_axes.figure


def booth_revenue(rows: Sequence[tuple[date, str, float]]):
    """Revenue per booth per day: one group of bars per day, one bar per booth."""
    _require(rows, "toll revenue per booth per day")
    days = sorted({row[0] for row in rows})
    booths = sorted({row[1] for row in rows})
    revenue = {(row[0], row[1]): float(row[2]) for row in rows}
    figure, (axes,) = _figure()
    width = 0.8 / len(booths)
    for index, booth in enumerate(booths):
        positions = [day_index + index * width for day_index in range(len(days))]
        axes.bar(positions, [revenue.get((day, booth), 0.0) for day in days], width=width, label=booth)
    axes.set_xticks([day_index + 0.4 - width / 2 for day_index in range(len(days))], [day.isoformat() for day in days])
    axes.set_ylabel("revenue")
    axes.legend(title="booth", fontsize="small")
    axes.grid(axis="y", alpha=0.3)
    return figure


def late_undelivered_trend(rows: Sequence[tuple[date, int, int]]):
    """Late shipments and undelivered items per run date."""
    _require(rows, "late and undelivered shipments")
    days = [row[0] for row in rows]
    figure, (axes,) = _figure()
    axes.plot(days, [row[1] for row in rows], marker="o", label="late shipments")
    axes.plot(days, [row[2] for row in rows], marker="s", label="undelivered items")
    axes.set_ylabel("count")
    axes.legend()
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    return figure


def star_distribution(product_id: int, percentages: Sequence[float]):
    """The share of the product's reviews at each star rating (one to five)."""
    if len(percentages) != len(STARS):
        raise ValueError(f"expected {len(STARS)} star percentages, got {len(percentages)}")
    figure, (axes,) = _figure(height=3.5)
    bars = axes.bar(
        [f"{index} star" for index in range(1, 6)], [float(value) for value in percentages], color="tab:olive"
    )
    axes.bar_label(bars, fmt="%.1f%%")
    axes.set_ylabel("% of reviews")
    axes.set_title(f"product {product_id}")
    return figure


def partition_rows(rows: Sequence[tuple[str, int, int]]):
    """Rows loaded and rows quarantined per partition (stacked bars), partitions in order."""
    _require(rows, "rows per partition")
    rows = sorted(rows)
    names = [row[0] for row in rows]
    loaded = [row[1] for row in rows]
    figure, (axes,) = _figure()
    axes.bar(names, loaded, label="loaded", color="tab:green")
    axes.bar(names, [row[2] for row in rows], bottom=loaded, label="quarantined", color="tab:red")
    axes.set_ylabel("rows")
    axes.legend()
    axes.grid(axis="y", alpha=0.3)
    figure.autofmt_xdate()
    return figure
