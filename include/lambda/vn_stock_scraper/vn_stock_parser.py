"""Parse the cafef.vn VN-Index history table (``#owner-contents-table``) into the raw CSV rows.

Pure: HTML text in, rows out, so it is tested on saved pages without a browser. The raw CSV keeps the
page's own text (thousands separators, ``-1.61(-0.15 %)``) under the source's column names; cleaning
is the Glue job's work.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

TABLE_ID = "owner-contents-table"
NO_RESULTS_TEXT = "KHÔNG CÓ KẾT QUẢ PHÙ HỢP"
RAW_COLUMNS = [
    "RECORDED_DATE", "CLOSE_PRICE", "INDEX_CHANGE", "MACHED_VOLUME", "MACHED_AMOUNT",
    "SELF_DEALED_VOLUME", "SELF_DEALED_AMOUNT", "OPEN_PRICE", "HIGHEST_PRICE", "LOWEST_PRICE",
]
# Position of each raw column among the page's cells. The page also shows an adjusted close (cell 2)
# and two trailing link cells, which the original pipeline dropped as well.
CELL_INDEX = dict(zip(RAW_COLUMNS, [0, 1, 3, 4, 5, 6, 7, 8, 9, 10], strict=True))
MIN_CELLS = max(CELL_INDEX.values()) + 1
DATE_PATTERN = re.compile(r"^\d{2}/\d{2}/\d{4}$")


class LayoutChanged(Exception):
    """The page no longer looks like the one this scraper was written for; the message names what is missing."""


class _TableReader(HTMLParser):
    """Collects the text of each body row's cells of the table with id ``TABLE_ID``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found_table = False
        self.found_body = False
        self.rows: list[list[str]] = []
        self._depth = 0  # nesting of <table> inside ours
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            if self._depth:
                self._depth += 1
            elif dict(attrs).get("id") == TABLE_ID:
                self.found_table = True
                self._depth = 1
            return
        if not self._depth:
            return
        if tag == "tbody":
            self.found_body = self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag in ("td", "th") and self._in_body and self.rows:
            self._cell = []

    def handle_endtag(self, tag):
        if not self._depth:
            return
        if tag == "table":
            self._depth -= 1
        elif tag == "tbody":
            self._in_body = False
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def is_no_results(cells: list[str]) -> bool:
    return len(cells) == 1 and cells[0].upper() == NO_RESULTS_TEXT


def parse_history_table(html: str) -> list[dict[str, str]]:
    """Rows of the history table as dicts keyed by ``RAW_COLUMNS``; [] on the "no results" state.

    Raises LayoutChanged, naming the missing piece, when the table, its body or the expected cells are absent.
    """
    reader = _TableReader()
    reader.feed(html)
    reader.close()
    if not reader.found_table:
        raise LayoutChanged(f"table #{TABLE_ID} not found on the page")
    if not reader.found_body:
        raise LayoutChanged(f"table #{TABLE_ID} has no <tbody>")
    body_rows = [cells for cells in reader.rows if cells]
    if len(body_rows) == 1 and is_no_results(body_rows[0]):
        return []
    parsed = []
    for number, cells in enumerate(body_rows, start=1):
        if len(cells) < MIN_CELLS:
            raise LayoutChanged(f"row {number} of #{TABLE_ID} has {len(cells)} cells, expected at least {MIN_CELLS}")
        row = {column: cells[index] for column, index in CELL_INDEX.items()}
        if not DATE_PATTERN.match(row["RECORDED_DATE"]):
            raise LayoutChanged(
                f"row {number} of #{TABLE_ID}: first cell {row['RECORDED_DATE']!r} is not a dd/mm/yyyy date")
        parsed.append(row)
    return parsed
