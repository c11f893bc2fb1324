"""The history-table parser on saved pages, without a browser."""

from __future__ import annotations

import pytest
from vn_stock_parser import RAW_COLUMNS, LayoutChanged, parse_history_table

from tests.vn_stock.conftest import SAVED_PAGES


def without_separators(value: str) -> str:
    return value.replace(",", "")


def test_saved_history_page_parses_into_the_seed_rows_newest_first(seed_rows):
    rows = parse_history_table((SAVED_PAGES / "history_13_to_15_nov_2023.html").read_text(encoding="utf-8"))

    assert [row["RECORDED_DATE"] for row in rows] == ["15/11/2023", "14/11/2023", "13/11/2023"]
    assert list(rows[0]) == RAW_COLUMNS
    # The page shows thousands separators; apart from them every cell is the seed's value.
    by_date = {row["RECORDED_DATE"]: row for row in seed_rows}
    for row in rows:
        assert {k: without_separators(v) for k, v in row.items()} == by_date[row["RECORDED_DATE"]]
    assert rows[2]["MACHED_VOLUME"] == "740,255,909"
    assert rows[2]["INDEX_CHANGE"] == "-1.61(-0.15 %)"


def test_saved_no_results_page_parses_into_no_rows():
    page = (SAVED_PAGES / "no_results_7_oct_2023.html").read_text(encoding="utf-8")
    assert "Không có kết quả phù hợp" in page
    assert parse_history_table(page) == []


def test_page_without_the_table_names_the_missing_table():
    page = (SAVED_PAGES / "history_13_to_15_nov_2023.html").read_text(encoding="utf-8")
    with pytest.raises(LayoutChanged, match="table #owner-contents-table not found"):
        parse_history_table(page.replace('id="owner-contents-table"', 'id="price-history-table"'))


def test_row_with_fewer_cells_names_the_row_and_the_count():
    page = """<table id="owner-contents-table"><tbody>
        <tr><td>13/11/2023</td><td>1,100.07</td><td>-1.61(-0.15 %)</td></tr></tbody></table>"""
    with pytest.raises(LayoutChanged, match=r"row 1 of #owner-contents-table has 3 cells, expected at least 11"):
        parse_history_table(page)


def test_columns_moved_so_that_the_first_cell_is_no_date_is_a_layout_change():
    cells = "".join(f"<td>{value}</td>" for value in ["1,100.07", "13/11/2023"] + ["1"] * 11)
    page = f'<table id="owner-contents-table"><tbody><tr>{cells}</tr></tbody></table>'
    with pytest.raises(LayoutChanged, match="first cell '1,100.07' is not a dd/mm/yyyy date"):
        parse_history_table(page)
