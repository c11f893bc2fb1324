"""A pipeline's result as a picture, written beside its data: ``<key_prefix>.png`` and a self-contained
``<key_prefix>.html`` (the PNG embedded, a title, when it was generated) that opens from S3 or a disk with no
network and no JavaScript.

Figures are ``matplotlib.figure.Figure`` objects built without pyplot (no global state, no display: the Agg
renderer draws them headless on a worker). matplotlib is imported by the functions that draw, never at module
level, so a DAG file that imports this module still parses fast.

    from matplotlib.figure import Figure
    figure = Figure(figsize=(8, 4))
    figure.subplots().plot(days, values)
    save_chart(figure, bucket="my-bucket", key_prefix="charts/vn_stock/2024-05-02", title="VN-Index")
    -> {"png": "s3://my-bucket/charts/vn_stock/2024-05-02.png", "html": "s3://my-bucket/charts/vn_stock/2024-05-02.html"}
"""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime

PNG_DPI = 110


def render_png(figure) -> bytes:
    """The figure drawn as PNG bytes by the Agg renderer (``Figure.savefig`` needs no pyplot and no display)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI, bbox_inches="tight")
    return buffer.getvalue()


def chart_page(png: bytes, *, title: str, generated_at: datetime) -> str:
    """A self-contained HTML page showing the PNG (embedded as base64), its title and when it was generated."""
    escaped_title = html.escape(title)
    stamp = generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    image = base64.b64encode(png).decode("ascii")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escaped_title}</title>"
        "<style>body{font-family:sans-serif;margin:2em;color:#222}img{max-width:100%}"
        "footer{color:#666;font-size:.9em}</style></head>\n"
        f"<body><h1>{escaped_title}</h1>\n"
        f'<img alt="{escaped_title}" src="data:image/png;base64,{image}">\n'
        f"<footer>Generated at {stamp}</footer></body></html>\n"
    )


def save_chart(figure, *, bucket: str, key_prefix: str, title: str, aws_conn_id: str = "aws_default") -> dict:
    """Upload the figure as ``<key_prefix>.png`` and ``<key_prefix>.html`` to ``bucket`` (replacing any earlier
    version: a rerun of the same date rewrites the same chart) and return both S3 URIs."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    key_prefix = key_prefix.strip("/")
    png = render_png(figure)
    page = chart_page(png, title=title, generated_at=datetime.now(UTC))
    # The content type lets a browser show the object from S3 (a presigned URL) instead of downloading it.
    S3Hook(aws_conn_id=aws_conn_id, extra_args={"ContentType": "image/png"}).load_bytes(
        png, key=f"{key_prefix}.png", bucket_name=bucket, replace=True
    )
    S3Hook(aws_conn_id=aws_conn_id, extra_args={"ContentType": "text/html; charset=utf-8"}).load_string(
        page, key=f"{key_prefix}.html", bucket_name=bucket, replace=True
    )
    return {"png": f"s3://{bucket}/{key_prefix}.png", "html": f"s3://{bucket}/{key_prefix}.html"}
