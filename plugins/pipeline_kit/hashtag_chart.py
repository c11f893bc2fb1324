"""The tweet_hashtags report as a figure: the day's top hashtags by posts, each bar coloured by its average
polarity (red negative, grey neutral, green positive), with distinct users beside it. Built without pyplot
(no global state, no display), for ``pipeline_kit.charts.save_chart``."""

from __future__ import annotations


def top_hashtags_figure(report, run_date: str):
    """``report``: a DataFrame with columns hashtag, posts, users, avg_polarity, in rank order."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    rows = report.iloc[::-1]  # the first rank at the top
    colours = colormaps["RdYlGn"](Normalize(vmin=-1, vmax=1)(rows["avg_polarity"].astype(float)))
    figure = Figure(figsize=(8, 1.2 + 0.45 * max(len(rows), 1)), layout="constrained")
    axes = figure.add_subplot()
    bars = axes.barh([f"#{tag}" for tag in rows["hashtag"]], rows["posts"], color=colours, edgecolor="#444444")
    for bar, users, polarity in zip(bars, rows["users"], rows["avg_polarity"], strict=True):
        axes.annotate(
            f"{users} users, polarity {float(polarity):+.2f}",
            (bar.get_width(), bar.get_y() + 0.4),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    axes.set_xlabel("posts")
    axes.set_title(f"Top hashtags on {run_date}: posts, coloured by average polarity")
    axes.set_xlim(0, max(rows["posts"].max() * 1.45, 1) if len(rows) else 1)
    axes.spines[["top", "right"]].set_visible(False)
    figure.colorbar(
        ScalarMappable(norm=Normalize(vmin=-1, vmax=1), cmap="RdYlGn"), ax=axes, label="average polarity", shrink=0.8
    )
    return figure
