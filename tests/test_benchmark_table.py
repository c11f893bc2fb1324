"""The README's benchmark table is generated from the scripts' headlines (benchmarks/support/run_all.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks.support import run_all

ROOT = Path(__file__).resolve().parents[1]


def record(script: str, result: str) -> dict:
    return {"script": script, "measures": "what is compared", "result": result, "measured_on": "2026-12-01"}


def test_rewrite_replaces_the_rows_run_and_keeps_the_others():
    text = run_all.README.read_text()
    kept = run_all.table_rows(text)
    script = sorted(kept)[0]
    rewritten = run_all.rewrite_table(text, {script: run_all.row(record(script, "3.0× the floor"))})
    rows = run_all.table_rows(rewritten)
    assert rows[script].endswith("| what is compared | 3.0× the floor | 2026-12-01 |")
    assert {name: line for name, line in rows.items() if name != script} == {
        name: line for name, line in kept.items() if name != script
    }
    assert rewritten.split(run_all.START)[0] == text.split(run_all.START)[0]
    assert rewritten.split(run_all.END)[1] == text.split(run_all.END)[1]


def test_a_pipe_in_a_figure_does_not_break_the_table():
    line = run_all.row(record("x.py", "a | b"))
    assert line.count(" | ") == 3 and "a \\| b" in line


def test_missing_markers_are_an_error():
    with pytest.raises(SystemExit, match="markers"):
        run_all.rewrite_table("# README without a table\n", {})


@pytest.mark.parametrize("script", [path.name for path in run_all.scripts()])
def test_every_benchmark_ends_with_a_headline_and_has_a_row(script):
    source = (ROOT / "benchmarks" / script).read_text()
    assert re.search(r"headline\(\s*__file__", source), f"{script} never calls headline()"
    assert script in run_all.table_rows(run_all.README.read_text()), f"README's table has no row for {script}"
