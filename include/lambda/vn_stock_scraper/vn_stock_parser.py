"""Parse the cafef.vn VN-Index history table (``#owner-contents-table``) into the raw CSV rows.

Pure: HTML text in, rows out, so it is tested on saved pages without a browser. The raw CSV keeps the
page's own text (thousands separators, ``-1.61(-0.15 %)``) under the source's column names; cleaning
is the Glue job's work.
"""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser

TABLE_ID = "owner-contents-table"
NO_RESULTS_TEXT = "KHÔNG CÓ KẾT QUẢ PHÙ HỢP"
RAW_COLUMNS = [
    "RECORDED_DATE",
    "CLOSE_PRICE",
    "INDEX_CHANGE",
    "MACHED_VOLUME",
    "MACHED_AMOUNT",
    "SELF_DEALED_VOLUME",
    "SELF_DEALED_AMOUNT",
    "OPEN_PRICE",
    "HIGHEST_PRICE",
    "LOWEST_PRICE",
]
# Position of each raw column among the page's cells. The page also shows an adjusted close (cell 2)
# and two trailing link cells, which the original pipeline dropped as well.
CELL_INDEX = dict(zip(RAW_COLUMNS, [0, 1, 3, 4, 5, 6, 7, 8, 9, 10], strict=True))
MIN_CELLS = max(CELL_INDEX.values()) + 1
# The heading above each raw column's cell in the table's first header row (a heading may span two cells):
# cells are read by position, so columns moved under other headings would load as the wrong values.
HEADINGS = {
    "RECORDED_DATE": "Ngày",
    "CLOSE_PRICE": "Giá (nghìn VNĐ)",
    "INDEX_CHANGE": "Thay đổi (+/-%)",
    "MACHED_VOLUME": "GD khớp lệnh",
    "MACHED_AMOUNT": "GD khớp lệnh",
    "SELF_DEALED_VOLUME": "GD thỏa thuận",
    "SELF_DEALED_AMOUNT": "GD thỏa thuận",
    "OPEN_PRICE": "Giá mở cửa",
    "HIGHEST_PRICE": "Giá cao nhất",
    "LOWEST_PRICE": "Giá thấp nhất",
}
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
        self.headings: list[str] | None = None  # the first header row, one entry per cell it spans
        self._in_head = False
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
        if tag == "thead":
            self._in_head = True
        elif tag == "tbody":
            self.found_body = self._in_body = True
        elif tag == "tr" and self._in_head:
            self._in_head = self.headings is None
            self.headings = [] if self._in_head else self.headings
        elif tag == "th" and self._in_head:
            self._cell = []
            self._span = int(dict(attrs).get("colspan") or 1)
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
        elif tag == "thead":
            self._in_head = False
        elif tag == "th" and self._in_head and self._cell is not None:
            self.headings.extend([" ".join("".join(self._cell).split())] * self._span)
            self._cell = None
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def is_date(text: str) -> bool:
    """dd/mm/yyyy, and a day the calendar has (31/02 would fail the scrape later, with no word of which row)."""
    if not DATE_PATTERN.match(text):
        return False
    try:
        datetime.strptime(text, "%d/%m/%Y")
    except ValueError:
        return False
    return True


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
    for column, heading in HEADINGS.items():
        index = CELL_INDEX[column]
        found = reader.headings[index] if reader.headings and index < len(reader.headings) else None
        if reader.headings is not None and found != heading:
            raise LayoutChanged(f"heading {index + 1} of #{TABLE_ID} is {found!r}, expected {heading!r}")
    body_rows = [cells for cells in reader.rows if cells]
    if len(body_rows) == 1 and is_no_results(body_rows[0]):
        return []
    parsed = []
    for number, cells in enumerate(body_rows, start=1):
        if len(cells) < MIN_CELLS:
            raise LayoutChanged(f"row {number} of #{TABLE_ID} has {len(cells)} cells, expected at least {MIN_CELLS}")
        row = {column: cells[index] for column, index in CELL_INDEX.items()}
        if not is_date(row["RECORDED_DATE"]):
            raise LayoutChanged(
                f"row {number} of #{TABLE_ID}: first cell {row['RECORDED_DATE']!r} is not a dd/mm/yyyy date"
            )
        parsed.append(row)
    return parsed
