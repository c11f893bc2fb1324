"""Charts are drawn headless (no pyplot, no display) and land beside the data as a PNG and a self-contained HTML
page, read back here from the local S3 over HTTP."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

import pytest
from pipeline_kit.charts import chart_page, render_png, save_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _line_figure():
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 2))
    figure.subplots().plot([1, 2, 3], [3, 1, 2])
    return figure


def test_figure_renders_as_png_without_pyplot():
    import sys

    png = render_png(_line_figure())

    assert png.startswith(PNG_SIGNATURE)
    assert "matplotlib.pyplot" not in sys.modules  # nothing switched a GUI backend on


def test_page_embeds_the_png_and_states_title_and_generation_time():
    png = render_png(_line_figure())
    page = chart_page(png, title="Revenue <per booth>", generated_at=datetime(2024, 5, 2, 1, 2, 3, tzinfo=UTC))

    embedded = re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(embedded) == png
    assert "<h1>Revenue &lt;per booth&gt;</h1>" in page
    assert "Generated at 2024-05-02 01:02:03 UTC" in page
    assert "http" not in page  # self-contained: nothing fetched when opened


@pytest.fixture
def chart_bucket(local_aws, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps({"conn_type": "aws", "extra": {"endpoint_url": local_aws.endpoint, "region_name": "us-east-1"}}),
    )
    s3 = local_aws.client("s3")
    s3.create_bucket(Bucket="chart-tests")
    return s3


def test_save_chart_writes_png_and_html_beside_the_data_and_returns_their_uris(chart_bucket):
    uris = save_chart(_line_figure(), bucket="chart-tests", key_prefix="charts/vn_stock/2024-05-02", title="VN-Index")

    assert uris == {
        "png": "s3://chart-tests/charts/vn_stock/2024-05-02.png",
        "html": "s3://chart-tests/charts/vn_stock/2024-05-02.html",
    }
    png = chart_bucket.get_object(Bucket="chart-tests", Key="charts/vn_stock/2024-05-02.png")
    page = chart_bucket.get_object(Bucket="chart-tests", Key="charts/vn_stock/2024-05-02.html")
    png_bytes = png["Body"].read()
    assert png_bytes.startswith(PNG_SIGNATURE) and png["ContentType"] == "image/png"
    assert page["ContentType"].startswith("text/html")
    assert base64.b64encode(png_bytes).decode() in page["Body"].read().decode()


def test_saving_again_replaces_the_chart(chart_bucket):
    save_chart(_line_figure(), bucket="chart-tests", key_prefix="charts/rerun", title="first")
    save_chart(_line_figure(), bucket="chart-tests", key_prefix="charts/rerun", title="second")

    page = chart_bucket.get_object(Bucket="chart-tests", Key="charts/rerun.html")["Body"].read().decode()
    assert "<h1>second</h1>" in page
