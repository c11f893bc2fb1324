"""A faithful local copy of cafef.vn's VN-Index history page, for tests and the demo.

The page (``static/index.html``) has the real page's form (``#date-inp-disclosure``, ``#owner-find``) and
table (``#owner-contents-table``), filled by JavaScript from ``/api/vnindex-history`` with the rows of
``history.csv`` (built from the seed files), shown the way the site shows them: newest first, thousands
separators, an adjusted-close column and two link columns. Page query parameters select behaviours:

- ``delay_ms=N``: the search results arrive N milliseconds after the click (a slow page);
- ``layout=changed``: the table has another id, as after a site redesign;
- ``garble=dd/mm/yyyy``: that day's closing price reads ``n/a`` (a row the cleaning must reject).

A date with no row shows the site's "Không có kết quả phù hợp" (no matching results) state.
"""

from __future__ import annotations

import csv
import json
import threading
import time
from datetime import date, datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent
PAGE_PATH = "/lich-su-giao-dich-vnindex-1.chn"
API_PATH = "/api/vnindex-history"
HOST = "127.0.0.1"
CHANGED_TABLE_ID = "price-history-table"
DEFAULT_PAGE_ROWS = 20  # what the site shows before any search


def _with_separators(number: str) -> str:
    whole, dot, fraction = number.partition(".")
    return f"{int(whole):,}{dot}{fraction}"


@cache
def history() -> list[tuple[date, list[str]]]:
    """(trading date, the 13 cells the page shows), newest first."""
    rows = []
    with (HERE / "history.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            close = _with_separators(row["CLOSE_PRICE"])
            cells = [
                row["RECORDED_DATE"],
                close,
                close,
                row["INDEX_CHANGE"],
                _with_separators(row["MACHED_VOLUME"]),
                _with_separators(row["MACHED_AMOUNT"]),
                _with_separators(row["SELF_DEALED_VOLUME"]),
                _with_separators(row["SELF_DEALED_AMOUNT"]),
                _with_separators(row["OPEN_PRICE"]),
                _with_separators(row["HIGHEST_PRICE"]),
                _with_separators(row["LOWEST_PRICE"]),
                "",
                "",
            ]
            rows.append((datetime.strptime(row["RECORDED_DATE"], "%d/%m/%Y").date(), cells))
    return sorted(rows, key=lambda item: item[0], reverse=True)


def rows_between(first: str, last: str) -> list[list[str]]:
    """Cells of the rows from ``first`` to ``last`` (dd/mm/yyyy, inclusive); the latest rows when both are empty."""
    if not first and not last:
        return [cells for _, cells in history()[:DEFAULT_PAGE_ROWS]]
    try:
        start = datetime.strptime(first, "%d/%m/%Y").date()
        end = datetime.strptime(last or first, "%d/%m/%Y").date()
    except ValueError:
        return []
    return [cells for day, cells in history() if start <= day <= end]


class Handler(BaseHTTPRequestHandler):
    server_version = "cafef-local/1"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        params = {key: values[-1] for key, values in parse_qs(url.query).items()}
        if url.path in ("/", PAGE_PATH):
            page = (HERE / "static" / "index.html").read_text(encoding="utf-8")
            if params.get("layout") == "changed":
                page = page.replace("owner-contents-table", CHANGED_TABLE_ID)
            self._send(200, "text/html; charset=utf-8", page.encode())
        elif url.path == API_PATH:
            time.sleep(int(params.get("delay_ms", "0")) / 1000)
            rows = rows_between(params.get("from", ""), params.get("to", ""))
            rows = [[cells[0], "n/a", *cells[2:]] if cells[0] == params.get("garble") else cells for cells in rows]
            self._send(200, "application/json", json.dumps({"rows": rows}, ensure_ascii=False).encode())
        else:
            self._send(404, "text/plain", b"not found")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 (http.server's signature)
        pass  # keep test output quiet


class FakeCafef:
    """The site served from a background thread; ``url`` is the history page."""

    def __init__(self, port: int = 0):
        self.httpd = ThreadingHTTPServer((HOST, port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://{HOST}:{self.port}{PAGE_PATH}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="fake-cafef", daemon=True)

    def __enter__(self) -> FakeCafef:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
