"""Run the benchmark scripts and regenerate the README's table from their headlines (``make benchmarks``).

    python -m benchmarks.support.run_all [--only NAME ...] [--no-readme]

Each script runs in its own process with ``BENCHMARK_RESULTS`` set (see ``headline``); a script that fails
(or ends without a headline) keeps its old row and makes the run exit non-zero, the others' rows are rewritten. The table lies between two markers in the README; rows of
scripts not run this time keep their figures and their date.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.support.headline import RESULTS_ENV

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
START, END = "<!-- benchmark-table:start -->", "<!-- benchmark-table:end -->"
HEADER = ["| script | measures | one run (ratios measured together) | measured on |", "|---|---|---|---|"]


def scripts() -> list[Path]:
    return sorted((ROOT / "benchmarks").glob("*.py"))


def table_rows(text: str) -> dict[str, str]:
    """The rows of the README's current table, by script name."""
    block = text.split(START, 1)[1].split(END, 1)[0]
    rows = {}
    for line in block.splitlines():
        if match := re.match(r"\| `([^`]+)` \|", line):
            rows[match.group(1)] = line
    return rows


def row(record: dict) -> str:
    cells = [f"`{record['script']}`", record["measures"], record["result"], record["measured_on"]]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def rewrite_table(text: str, new_rows: dict[str, str]) -> str:
    if START not in text or END not in text:
        raise SystemExit(f"README.md lacks the markers {START} ... {END}")
    rows = {**table_rows(text), **new_rows}
    known = {path.name for path in scripts()}
    lines = HEADER + [rows[name] for name in sorted(rows) if name in known]
    before, rest = text.split(START, 1)
    return before + START + "\n" + "\n".join(lines) + "\n" + END + rest.split(END, 1)[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=None, help="script names (without .py) to run")
    parser.add_argument("--no-readme", action="store_true", help="print only; leave the README as it is")
    args = parser.parse_args(argv)
    chosen = [path for path in scripts() if args.only is None or path.stem in args.only]
    if args.only is not None and len(chosen) != len(args.only):
        raise SystemExit(f"unknown benchmark(s): {sorted(set(args.only) - {path.stem for path in chosen})}")
    failed = []
    with tempfile.TemporaryDirectory(prefix="benchmarks-") as folder:
        for path in chosen:
            print(f"== {path.relative_to(ROOT)}", flush=True)
            run = subprocess.run([sys.executable, str(path)], cwd=ROOT, env={**os.environ, RESULTS_ENV: folder})
            if run.returncode:
                failed.append(f"{path.name} (exit {run.returncode})")
        records = [json.loads(path.read_text()) for path in sorted(Path(folder).glob("*.json"))]
    failed += sorted(
        {path.name for path in chosen}
        - {record["script"] for record in records}
        - {name.split(" ")[0] for name in failed}
    )
    if records and not args.no_readme:
        README.write_text(rewrite_table(README.read_text(), {record["script"]: row(record) for record in records}))
        print(f"README.md: table rows rewritten for {', '.join(sorted(r['script'] for r in records))}")
    if failed:
        print(f"failed or left no headline (their rows unchanged): {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
