"""DAG parse time per file, in a warm interpreter, beside an empty DAG file as the baseline.

    python benchmarks/dag_parse_time.py [--repeat 20]

Each file is parsed by a DagBag of its own, ``--repeat`` times after a warm-up, the way the
DAG processor re-parses files; printed as median milliseconds and as a ratio to the empty DAG.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EMPTY_DAG = """
import pendulum
from airflow.sdk import DAG
with DAG("empty_baseline", schedule=None, start_date=pendulum.datetime(2024, 1, 1), tags=["baseline"]):
    pass
"""


def parse_ms(path: Path, repeat: int) -> float:
    from airflow.dag_processing.dagbag import DagBag

    DagBag(dag_folder=str(path))  # warm-up: imports shared modules once
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        bag = DagBag(dag_folder=str(path))
        samples.append((time.perf_counter() - started) * 1000)
        if bag.import_errors:
            raise SystemExit(f"{path.name}: {bag.import_errors}")
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="parse-bench-"))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(ROOT / "plugins")
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")  # include/ is found from it
    sys.path[:0] = [str(ROOT / "plugins"), str(ROOT)]
    from benchmarks.support.headline import headline

    with tempfile.TemporaryDirectory() as folder:
        baseline_file = Path(folder) / "empty_baseline.py"
        baseline_file.write_text(EMPTY_DAG)
        baseline = parse_ms(baseline_file, args.repeat)
    print(f"{'file':<28} {'median ms':>10} {'x empty DAG':>12}")
    print(f"{'(empty DAG baseline)':<28} {baseline:>10.1f} {1.0:>12.2f}")
    elapsed = {path.name: parse_ms(path, args.repeat) for path in sorted((ROOT / "dags").glob("*.py"))}
    for name, milliseconds in elapsed.items():
        print(f"{name:<28} {milliseconds:>10.1f} {milliseconds / baseline:>12.2f}")
    fastest, slowest = min(elapsed.values()), max(elapsed.values())
    headline(
        __file__,
        measures="parse time per DAG file (DagBag, warm interpreter) beside an empty DAG",
        result=f"{fastest / baseline:.0f}–{slowest / baseline:.0f}× the empty DAG ({baseline:.1f} ms): "
        f"{fastest:.0f}–{slowest:.0f} ms per file",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
