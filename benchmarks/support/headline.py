"""A benchmark's headline: printed last, and kept for the README's table when ``make benchmarks`` runs it.

Each script in ``benchmarks/`` ends with ``headline(__file__, measures=..., result=...)``: ``measures`` says what
is compared with what, ``result`` the ratio(s) measured in this run. ``run_all`` points
``BENCHMARK_RESULTS`` at a folder and turns what the scripts left there into the README's table.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

RESULTS_ENV = "BENCHMARK_RESULTS"


def headline(script_file: str, *, measures: str, result: str) -> None:
    print(f"\nheadline: {result}")
    folder = os.environ.get(RESULTS_ENV)
    if not folder:
        return
    script = Path(script_file).name
    record = {
        "script": script,
        "measures": measures,
        "result": result,
        "measured_on": datetime.date.today().isoformat(),
    }
    (Path(folder) / f"{Path(script).stem}.json").write_text(json.dumps(record, indent=1))
