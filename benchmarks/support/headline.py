"""A benchmark's headline: printed last, and kept for the README's table when ``make benchmarks`` runs it.

Each script in ``benchmarks/`` ends with ``headline(__file__, measures=..., result=...)``: ``measures`` says what
is compared with what, ``result`` the ratio(s) measured in this run; the date comes with the machine's load
average over the last five minutes, since other work on the machine slows one side of a ratio more than the other. ``run_all`` points
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
        "measured_on": f"{datetime.date.today().isoformat()} (load {os.getloadavg()[1]:.1f} on {os.cpu_count()} cores)",
    }
    (Path(folder) / f"{Path(script).stem}.json").write_text(json.dumps(record, indent=1))
