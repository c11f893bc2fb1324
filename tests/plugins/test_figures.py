"""Each pipeline's figure shows its rows: the values drawn are read back from the figure's artists."""

from __future__ import annotations

from datetime import date

import pytest
from pipeline_kit import figures
from pipeline_kit.charts import render_png


def _bar_heights(axes) -> list[float]:
    """The heights of the axes' bars (bar containers only: a shaded span is a patch too)."""
    return [bar.get_height() for container in axes.containers for bar in container]


def test_index_chart_draws_close_as_a_line_and_volume_as_bars_and_shades_the_loaded_days():
    rows = [(date(2024, 5, 2), 1200.5, 700), (date(2024, 5, 3), 1210.0, 650), (date(2024, 5, 6), 1195.25, 800)]
    figure = figures.index_close_volume(rows, loaded=(date(2024, 5, 3), date(2024, 5, 6)))

    close_axes, volume_axes = figure.axes
    assert list(close_axes.lines[0].get_ydata()) == [1200.5, 1210.0, 1195.25]
    assert _bar_heights(volume_axes) == [700, 650, 800]
    assert close_axes.get_legend().get_texts()[0].get_text() == "loaded by this run"
    assert render_png(figure).startswith(b"\x89PNG")


def test_booth_revenue_has_a_bar_per_booth_and_day_and_zero_where_a_booth_had_none():
    rows = [
        (date(2026, 3, 14), "golf_rd", 10.5),
        (date(2026, 3, 14), "main_st", 4.0),
        (date(2026, 3, 15), "golf_rd", 7.25),
    ]
    figure = figures.booth_revenue(rows)

    (axes,) = figure.axes
    assert [label.get_text() for label in axes.get_xticklabels()] == ["2026-03-14", "2026-03-15"]
    # Bars per booth (alphabetical), each across the days: golf_rd 10.5, 7.25; main_st 4.0, 0.
    assert _bar_heights(axes) == [10.5, 7.25, 4.0, 0.0]
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["golf_rd", "main_st"]


def test_late_and_undelivered_trend_draws_both_counts_per_run_date():
    rows = [(date(2021, 9, 1), 3, 1), (date(2021, 9, 2), 5, 0)]
    (axes,) = figures.late_undelivered_trend(rows).axes

    assert [list(line.get_ydata()) for line in axes.lines] == [[3, 5], [1, 0]]


def test_star_distribution_draws_five_labelled_percentages():
    figure = figures.star_distribution(42, [5.0, 10.0, 15.0, 30.0, 40.0])

    (axes,) = figure.axes
    assert _bar_heights(axes) == [5.0, 10.0, 15.0, 30.0, 40.0]
    assert axes.get_title() == "product 42"
    assert [text.get_text() for text in axes.texts] == ["5.0%", "10.0%", "15.0%", "30.0%", "40.0%"]
    with pytest.raises(ValueError, match="5 star percentages"):
        figures.star_distribution(42, [50.0, 50.0])


def test_partition_rows_stacks_quarantined_on_loaded_in_partition_order():
    figure = figures.partition_rows([("2023-05-02", 90, 10), ("2023-05-01", 200, 0)])

    (axes,) = figure.axes
    loaded, quarantined = axes.containers
    assert [patch.get_height() for patch in loaded] == [200, 90]
    assert [(patch.get_y(), patch.get_height()) for patch in quarantined] == [(200, 0), (90, 10)]


def test_no_rows_is_an_error_naming_the_chart():
    with pytest.raises(ValueError, match="toll revenue"):
        figures.booth_revenue([])
