"""S3 -> PostgreSQL load of retail-like orders, three ways, measured in one run on one server:

1. the pipeline's way: ``S3ToPostgresMergeOperator`` (stream from S3, check the CSV's structure and each
   field's format, COPY typed as the target: straight into it when it is empty, else into a temporary table
   whose rows that differ from the target's one MERGE applies; one transaction), into an empty target and then
   a rerun of the same file;
2. a raw ``COPY ... FROM STDIN (FORMAT csv)`` of the same S3 object into an identical empty table: the floor;
3. row-by-row ``INSERT``s (what the original pipeline did) on a sample, extrapolated to the full size.

Starts its own local AWS server and PostgreSQL (or uses LOCAL_POSTGRES_DSN/PGHOST) in a temporary folder.

    python benchmarks/s3_to_postgres_load.py [--rows 1000000] [--insert-sample 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT_ROOT), str(PROJECT_ROOT / "plugins")]

BUCKET = "bench-retail-raw"
KEY = "retail/dt=2022-09-06/orders.csv"
TABLE_DDL = """
CREATE SCHEMA IF NOT EXISTS staging;
CREATE TABLE {table} (order_id integer PRIMARY KEY, customer_id integer NOT NULL, order_date date NOT NULL,
    product_id integer NOT NULL, unit_price numeric(12, 2) NOT NULL, quantity integer NOT NULL,
    total_price numeric(14, 2) NOT NULL);
"""
COLUMNS = ["order_id", "customer_id", "order_date", "product_id", "unit_price", "quantity", "total_price"]


def generate_orders(path: Path, rows: int, seed: int = 7) -> None:
    """Orders shaped like the seed's: ids, 25 customers and products, two years of dates, prices 50-1000."""
    rng = random.Random(seed)
    first = date(2021, 1, 1)
    with path.open("w") as out:
        out.write(",".join(COLUMNS) + "\n")
        for order_id in range(1, rows + 1):
            price, quantity = rng.randint(50, 1000), rng.randint(1, 10)
            out.write(
                f"{order_id},{rng.randint(1, 25)},{first + timedelta(days=rng.randrange(730))},"
                f"{rng.randint(1, 25)},{price},{quantity},{price * quantity}\n"
            )


def timed(action):
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--insert-sample", type=int, default=20_000, help="rows inserted one by one; the time is extrapolated to --rows"
    )
    args = parser.parse_args(argv)

    state = Path(tempfile.mkdtemp(prefix="bench-load-"))
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AIRFLOW_HOME": str(state / "airflow"),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        }
    )
    import psycopg2

    from local_platform.postgres import create_database, drop_database
    from tests.helpers.platform import start_local_aws, start_postgres

    server_dsn, stop_postgres = start_postgres(state / "postgres")
    aws = start_local_aws(state / "aws", server_dsn, f"b{uuid.uuid4().hex[:6]}")
    database = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        dsn = create_database(server_dsn, database)
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"region_name": "us-east-1", "endpoint_url": aws.endpoint},
            }
        )
        os.environ["AIRFLOW_CONN_BENCH_TARGET"] = dsn

        csv_path = state / "orders.csv"
        seconds, _ = timed(lambda: generate_orders(csv_path, args.rows))
        size_mb = csv_path.stat().st_size / 1e6
        print(f"generated {args.rows:,} orders ({size_mb:.0f} MB) in {seconds:.1f}s")
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.upload_file(str(csv_path), BUCKET, KEY)

        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            for table in ("staging.orders", "staging.orders_raw_copy", "staging.orders_row_by_row"):
                cur.execute(TABLE_DDL.format(table=table))

        from pipeline_kit.s3_to_postgres import S3ToPostgresMergeOperator

        operator = S3ToPostgresMergeOperator(
            task_id="load_orders",
            s3_bucket=BUCKET,
            s3_key=KEY,
            postgres_conn_id="bench_target",
            table="staging.orders",
            key_columns=["order_id"],
            logical_date="2022-09-06",
            columns=[
                (name, "date" if name == "order_date" else "numeric" if "price" in name else "integer", False)
                for name in COLUMNS
            ],
        )
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        def warm_up() -> None:
            S3Hook().check_for_key(KEY, BUCKET)
            PostgresHook(postgres_conn_id="bench_target").get_conn().close()

        # What a task process pays once, whatever it then loads (imports, botocore's first S3 client, the first
        # connection): timed on its own, outside both sides of the comparison.
        warm_up_s, _ = timed(warm_up)
        pipeline_s, counts = timed(lambda: operator.execute({}))
        assert counts["inserted"] == args.rows, counts
        rerun_s, counts = timed(lambda: operator.execute({}))
        assert (counts["inserted"], counts["updated"], counts["unchanged"]) == (0, 0, args.rows), counts

        def raw_copy() -> None:
            body = s3.get_object(Bucket=BUCKET, Key=KEY)["Body"]
            copy_conn = PostgresHook(postgres_conn_id="bench_target").get_conn()
            with (
                copy_conn.cursor() as cur,
                cur.copy("COPY staging.orders_raw_copy FROM STDIN (FORMAT csv, HEADER true)") as copy,
            ):
                for chunk in body.iter_chunks(1 << 20):
                    copy.write(chunk)
            copy_conn.commit()
            copy_conn.close()

        copy_s, _ = timed(raw_copy)

        sample = min(args.insert_sample, args.rows)

        def row_by_row() -> None:
            with csv_path.open() as source, conn.cursor() as cur:
                conn.autocommit = False
                next(source)
                for _, line in zip(range(sample), source, strict=False):
                    cur.execute(
                        "INSERT INTO staging.orders_row_by_row VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        line.rstrip("\n").split(","),
                    )
                conn.commit()

        sample_s, _ = timed(row_by_row)
        inserts_s = sample_s * args.rows / sample
        with conn.cursor() as cur:
            cur.execute("SELECT (SELECT count(*) FROM staging.orders), (SELECT count(*) FROM staging.orders_raw_copy)")
            loaded, copied = cur.fetchone()
        conn.close()
        assert loaded == copied == args.rows, (loaded, copied)

        def line(name: str, seconds: float, note: str = "") -> None:
            print(f"  {name:<44} {seconds:8.1f}s  {args.rows / seconds:>10,.0f} rows/s  {note}")

        print(f"\nS3 -> PostgreSQL, {args.rows:,} rows, one server, one run:")
        line("raw COPY FROM STDIN (no validation, no merge)", copy_s)
        line("pipeline: check + typed COPY into the target", pipeline_s, "(empty target: all inserts)")
        line("pipeline rerun: check + typed COPY + compare", rerun_s, "(all rows unchanged: no write)")
        line("row-by-row INSERT", inserts_s, f"(extrapolated from {sample:,} rows in {sample_s:.1f}s)")
        print(
            f"  {'first AWS and PostgreSQL hooks in the process':<44} {warm_up_s:8.1f}s  (once per process, in neither)"
        )
        print("\nratios:")
        print(f"  pipeline / raw COPY          {pipeline_s / copy_s:6.2f}x the time (target <= 2x)")
        print(f"  rerun / raw COPY             {rerun_s / copy_s:6.2f}x the time (target <= 1.5x)")
        print(f"  row-by-row / pipeline        {inserts_s / pipeline_s:6.1f}x the time (row-by-row extrapolated)")
        print(f"  row-by-row / raw COPY        {inserts_s / copy_s:6.1f}x the time (row-by-row extrapolated)")
        from benchmarks.support.headline import headline

        headline(
            __file__,
            measures=f"{args.rows:,} retail-like rows S3 → check → typed COPY (into the empty target; a rerun "
            "through a temporary table and MERGE), the pipeline's load, beside raw `COPY FROM STDIN` of the same "
            "object, and row-by-row inserts",
            result=f"pipeline {pipeline_s / copy_s:.2f}× raw COPY (target ≤ 2×), rerun {rerun_s / copy_s:.2f}× "
            f"(target ≤ 1.5×); row-by-row {inserts_s / pipeline_s:.1f}× the pipeline",
        )
    finally:
        drop_database(server_dsn, database)
        aws.stop()
        stop_postgres()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
