"""CSV -> Parquet throughput of the csv_lake Glue job's transform on local Spark, beside pyarrow.

    python benchmarks/csv_lake_throughput.py [--rows 1000000] [--bad-rows 0] [--duplicates 0] [--seed 0]

One generated billing file is converted by each engine in the same run, from and to local disk (no S3):
- Spark: the job's own session, read and functions (the file read as RFC 4180 text with its header: a text
  pass finds no record across lines, so Spark reads it split by lines, in parallel; normalise headers,
  exact-duplicate removal, declared-schema casts with per-row errors, metadata, good/quarantine split, the counts of the report
  observed while the good rows are staged as Snappy Parquet for the ``dt`` partition), as
  ``csv_lake_to_parquet.main`` does;
- pyarrow: read the CSV with the declared types and write Snappy Parquet; no cleaning, so the floor
  for this conversion on this machine. pyarrow cannot set bad values aside, so with ``--bad-rows`` it
  reads every column as text instead.
Spark's fixed start-up (session, JVM warm-up on a 1,000-row file) is timed separately and excluded
from its throughput. Each engine converts the file ``ROUNDS`` times, alternated with the other; the median of its
runs is its figure (Spark's first run also compiles its hot code: every run is printed). Prints rows/s for both
and the ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "include" / "glue")]

DAY = date(2024, 3, 1)
ROUNDS = 3  # each engine converts the file this many times; the median is its figure


def spark_convert(spark, csv_path: Path, out_dir: Path) -> dict:
    """The job's read, transform and writes as ``csv_lake_to_parquet.main`` does them, on local paths: the good
    rows staged while the report's counts are observed, the quarantine written only when it has rows."""
    import glue_io
    from csv_lake_to_parquet import (
        FIRST_REASON,
        counted,
        prepare_file,
        quarantined_rows,
        reasons,
        stage_good_rows,
        transform,
    )

    with csv_path.open("rb") as stream:
        header = glue_io.csv_header(stream)
    raw = glue_io.read_csv_records(spark, str(csv_path), header)
    cast = transform({csv_path.name: prepare_file(raw, csv_path.name)}, datetime.now(UTC).replace(tzinfo=None))
    _, counts = stage_good_rows(cast, str(out_dir / "billing"), DAY.isoformat())
    read, distinct, quarantined = counted(counts.get)
    if quarantined:  # the job's quarantine pass; without rows, the job only removes an earlier run's from S3
        quarantine_uri = str(out_dir / "quarantine")
        glue_io.write_quarantine(quarantined_rows(cast), quarantine_uri, quarantined, reasons(), FIRST_REASON, "csv")
    return {"read": read, "loaded": distinct - quarantined, "quarantined": quarantined, "duplicates": read - distinct}


def pyarrow_convert(csv_path: Path, out_path: Path, typed: bool) -> int:
    import pyarrow as pa
    import pyarrow.csv as pv
    import pyarrow.parquet as pq
    from csv_lake_to_parquet import BILLING_SCHEMA

    arrow_types = {"string": pa.string(), "date": pa.date32()}
    column_types = {}
    for name, sql_type, _ in BILLING_SCHEMA:
        if not typed:
            column_types[name] = pa.string()
        elif sql_type.startswith("decimal"):
            precision, scale = (int(part) for part in sql_type[8:-1].split(","))
            column_types[name] = pa.decimal128(precision, scale)
        else:
            column_types[name] = arrow_types[sql_type]
    table = pv.read_csv(csv_path, convert_options=pv.ConvertOptions(column_types=column_types))
    pq.write_table(table, out_path, compression="snappy")
    return table.num_rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--bad-rows", type=int, default=0, help="rows the job must quarantine; pyarrow then reads every column as text"
    )
    parser.add_argument("--duplicates", type=int, default=0, help="exact duplicate lines the job drops")
    args = parser.parse_args()

    from csv_lake_to_parquet import spark_session

    from local_platform.generators.billing_csv import generate

    work = Path(tempfile.mkdtemp(prefix="csv-lake-bench-"))
    try:
        started = time.perf_counter()
        csv_path = work / "billing.csv"
        csv_path.write_text(generate(args.rows, args.seed, DAY, args.bad_rows, args.duplicates).text, encoding="utf-8")
        warmup_path = work / "warmup.csv"
        warmup_path.write_text(generate(1_000, args.seed, DAY).text, encoding="utf-8")
        size_mb = csv_path.stat().st_size / 1e6
        print(f"generated {args.rows:,} rows ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f} s")

        # glue_io builds the session; this is the one way to add a setting to it from outside.
        os.environ.setdefault("PYSPARK_SUBMIT_ARGS", "--conf spark.ui.showConsoleProgress=false pyspark-shell")
        started = time.perf_counter()
        spark = spark_session()
        spark.sparkContext.setLogLevel("ERROR")
        spark_convert(spark, warmup_path, work / "warmup-out")
        startup = time.perf_counter() - started

        spark_runs, arrow_runs = [], []
        for run in range(ROUNDS):  # alternated, so that a slow spell of the machine falls on both engines
            started = time.perf_counter()
            counts = spark_convert(spark, csv_path, work / f"spark-out-{run}")
            spark_runs.append(time.perf_counter() - started)
            started = time.perf_counter()
            arrow_rows = pyarrow_convert(csv_path, work / f"pyarrow-{run}.parquet", typed=not args.bad_rows)
            arrow_runs.append(time.perf_counter() - started)
        spark.stop()
        spark_seconds, arrow_seconds = statistics.median(spark_runs), statistics.median(arrow_runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if counts["read"] != args.rows or arrow_rows != args.rows:
        raise SystemExit(f"row counts disagree: spark {counts}, pyarrow {arrow_rows}, expected {args.rows}")
    print(f"Spark fixed start-up (session + 1,000-row warm-up): {startup:.1f} s (not in the figures below)")
    for name, runs in (("Spark", spark_runs), ("pyarrow", arrow_runs)):
        print(f"{name} runs: {', '.join(f'{seconds:.1f}' for seconds in runs)} s (median below)")
    print(f"{'engine':<28} {'seconds':>8} {'rows/s':>12} {'MB/s':>8}")
    arrow_name = "pyarrow, typed convert" if not args.bad_rows else "pyarrow, text convert"
    print(
        f"Spark: read {counts['read']:,}, loaded {counts['loaded']:,}, quarantined {counts['quarantined']:,}, "
        f"duplicates {counts['duplicates']:,}"
    )
    for name, seconds in (("Spark, the job's transform", spark_seconds), (arrow_name, arrow_seconds)):
        print(f"{name:<28} {seconds:>8.1f} {args.rows / seconds:>12,.0f} {size_mb / seconds:>8.1f}")
    print(
        f"Spark / pyarrow time: {spark_seconds / arrow_seconds:.1f}x (target <= 8x) "
        f"(Spark incl. start-up: {(spark_seconds + startup) / arrow_seconds:.1f}x)"
    )
    from benchmarks.support.headline import headline

    measures = (
        f"CSV → Parquet of {args.rows:,} billing rows: the Glue job's read and transform on local Spark (its "
        f"passes, counts observed while writing) beside pyarrow's typed convert, both Snappy, median of {ROUNDS} "
        "alternated runs each; Spark start-up separately"
    )
    result = (
        f"Spark {spark_seconds / arrow_seconds:.1f}× pyarrow (target ≤ 8×; Spark's first run "
        f"{spark_runs[0] / arrow_seconds:.1f}×; "
        f"{(spark_seconds + startup) / arrow_seconds:.1f}× with its {startup:.0f} s start-up)"
    )
    headline(__file__, measures=measures, result=result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
