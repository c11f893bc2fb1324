"""The top-hashtags chart: one bar per hashtag in rank order (first at the top), its length the posts, its colour
its average polarity; rendered to PNG without pyplot."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from pipeline_kit.charts import chart_page, render_png
from pipeline_kit.hashtag_chart import top_hashtags_figure


def test_each_hashtag_is_a_bar_as_long_as_its_posts_coloured_by_its_polarity():
    report = pd.DataFrame(
        {
            "hashtag": ["python", "worldcup", "coffee"],
            "posts": [30, 20, 5],
            "users": [9, 7, 2],
            "avg_polarity": [0.8, -0.7, 0.0],
        }
    )
    figure = top_hashtags_figure(report, "2026-11-30")
    axes = figure.axes[0]
    bars = {label.get_text(): patch for label, patch in zip(axes.get_yticklabels(), axes.patches, strict=True)}

    assert [label.get_text() for label in axes.get_yticklabels()] == ["#coffee", "#worldcup", "#python"]
    assert {tag: bar.get_width() for tag, bar in bars.items()} == {"#python": 30, "#worldcup": 20, "#coffee": 5}
    red, green = bars["#worldcup"].get_facecolor()[:2]
    assert red > green  # negative: red end of the scale
    red, green = bars["#python"].get_facecolor()[:2]
    assert green > red
    assert "9 users, polarity +0.80" in [text.get_text() for text in axes.texts]

    png = render_png(figure)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    page = chart_page(png, title="Top <hashtags>", generated_at=datetime(2026, 11, 30, tzinfo=UTC))
    assert "<title>Top &lt;hashtags&gt;</title>" in page and "data:image/png;base64," in page
