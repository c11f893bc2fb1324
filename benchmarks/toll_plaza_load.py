"""Landing JSON -> Redshift table for generated toll transactions, measured in one run on the local platform:

1. the pipeline: the toll_plaza DAG run with ``dag.test()`` for ``--rows`` generated records; the rate is
   taken over the steps from the landed file to the loaded table (sensor, crawler, Glue job on PySpark,
   report, DDL, COPY into the day's stage and the one-transaction apply (slice, owners, aggregate) through the
   Redshift Data API on the PostgreSQL stand-in), i.e. the whole run minus the Lambda that generated the file;
   the checks after the load are shown apart. The same day is then run again (its apply finds the slice
   unchanged and writes nothing). Tasks poll AWS as they do on the local platform (once a second,
   ``LOCAL_POLL_INTERVAL_SECONDS``), not at the DAG's AWS-sized intervals. A small day is run first, as the
   platform's earlier work: it starts the server's warm Glue driver (its JVM start is shown apart, as the Glue
   start-up row of ``local_compute_overhead.py`` measures it) and leaves a day of history in the tables;
2. a plain ``COPY ... FROM STDIN (FORMAT csv)`` of the same rows (the landed records, already typed, as CSV)
   into an identical empty table in the same PostgreSQL database, after a checkpoint, three times: the median
   is the floor.

Starts its own local AWS server and PostgreSQL (or uses LOCAL_POSTGRES_DSN/PGHOST) in a temporary folder.

    python benchmarks/toll_plaza_load.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT_ROOT), str(PROJECT_ROOT / "plugins"), str(PROJECT_ROOT / "include" / "glue")]

RUN_DATE = datetime(2026, 6, 1, tzinfo=UTC)
WARM_UP_DATE, WARM_UP_ROWS = datetime(2026, 5, 31, tzinfo=UTC), 1_000
LANDING_TO_TABLE = (
    "wait_for_landing",
    "crawl_landing",
    "transform_transactions",
    "read_job_report",
    "create_tables",
    "stage_deliveries",
    "apply_deliveries",
)
AFTER_LOAD = ("check_loaded_rows", "verify_loaded_rows")


def task_seconds(run_id: str) -> dict[str, tuple[datetime, datetime]]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(TaskInstance).filter_by(dag_id="toll_plaza", run_id=run_id).all()
        return {ti.task_id: (ti.start_date, ti.end_date) for ti in rows}


def span(times: dict, task_ids: tuple[str, ...]) -> float:
    return (max(times[t][1] for t in task_ids) - min(times[t][0] for t in task_ids)).total_seconds()


def landed_as_csv(s3, bucket: str, key: str) -> tuple[bytes, int]:
    """The landed JSON records as the CSV a plain COPY takes (typed columns in table order)."""
    from toll_transform import STAGED_COLUMNS as COLUMNS

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    seen = set()
    for line in s3.get_object(Bucket=bucket, Key=key)["Body"].iter_lines():
        record = json.loads(line)
        if record["transaction_id"] in seen:
            continue
        seen.add(record["transaction_id"])
        writer.writerow([record[name] for name in COLUMNS[:-1]] + [RUN_DATE.date().isoformat()])
    return out.getvalue().encode(), len(seen)


def drop_standin_databases(server_dsn: str, namespace: str) -> None:
    """The Redshift stand-in's databases carry the server's namespace; a named server keeps them otherwise."""
    import psycopg2

    from local_platform.postgres import drop_database

    with psycopg2.connect(server_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{namespace}\\_%",))
        names = [row[0] for row in cur.fetchall()]
    conn.close()
    for name in names:
        drop_database(server_dsn, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)

    state = Path(tempfile.mkdtemp(prefix="bench-toll-"))
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AIRFLOW_HOME": str(state / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        }
    )
    import psycopg2

    from local_platform.aws.compute.redshift_data import standin_database_name
    from local_platform.dag_runs import migrate_metadata_db, run_dag
    from local_platform.platform import LOCAL_POLL_INTERVAL_SECONDS
    from local_platform.postgres import database_dsn
    from local_platform.provision import provision
    from local_platform.settings import PlatformEndpoints, airflow_env, local_databases, variables
    from tests.helpers.platform import start_local_aws, start_postgres

    server_dsn, stop_postgres = start_postgres(state / "postgres")
    namespace = f"b{uuid.uuid4().hex[:6]}"
    aws = start_local_aws(state / "aws", server_dsn, namespace)
    try:
        provision(aws.endpoint, ["toll_plaza"])
        # The other pipelines' PostgreSQL connections are unused here: their databases need not exist.
        os.environ.update(airflow_env(PlatformEndpoints(aws.endpoint, server_dsn, local_databases())))
        migrate_metadata_db()

        warm_up = run_dag(
            "toll_plaza", WARM_UP_DATE, {"records": WARM_UP_ROWS, "seed": 1}, poll_seconds=LOCAL_POLL_INTERVAL_SECONDS
        )
        assert warm_up.state == "success", (warm_up.task_states, aws.log_tail())
        first_glue_s = span(task_seconds(warm_up.run_id), ("transform_transactions",))

        started = time.perf_counter()
        result = run_dag(
            "toll_plaza", RUN_DATE, {"records": args.rows, "seed": 1}, poll_seconds=LOCAL_POLL_INTERVAL_SECONDS
        )
        dag_s = time.perf_counter() - started
        assert result.state == "success", (result.task_states, aws.log_tail())
        times = task_seconds(result.run_id)
        landing_s, after_s = span(times, LANDING_TO_TABLE), span(times, AFTER_LOAD)
        generate_s = span(times, ("generate_transactions",))
        report = result.xcom("read_job_report")
        assert report["loaded"] == args.rows, report
        payload = result.xcom("check_generator_payload")

        rerun = run_dag(
            "toll_plaza", RUN_DATE, {"records": args.rows, "seed": 1}, poll_seconds=LOCAL_POLL_INTERVAL_SECONDS
        )
        assert rerun.state == "success", (rerun.task_states, aws.log_tail())
        rerun_times = task_seconds(rerun.run_id)
        rerun_s = span(rerun_times, LANDING_TO_TABLE)

        body, unique = landed_as_csv(aws.client("s3"), payload["bucket"], payload["key"])
        settings = variables()["toll_plaza"]
        dsn = database_dsn(
            server_dsn, standin_database_name(namespace, settings["redshift_workgroup"], settings["redshift_database"])
        )
        conn = psycopg2.connect(dsn)
        copies_s = []
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM public.toll_table WHERE landing_date = %s", (RUN_DATE.date(),))
            (loaded,) = cur.fetchone()
            # The pipeline's writes are flushed first, so that no COPY pays for them; the floor is the median of
            # three COPYs into empty tables (one COPY of a million rows varied 1.2-3.8 s from run to run).
            cur.execute("CHECKPOINT")
            for attempt in range(3):
                table = f"public.toll_table_plain_copy_{attempt}"
                cur.execute(f"CREATE TABLE {table} (LIKE public.toll_table INCLUDING ALL)")
                conn.commit()
                copy_started = time.perf_counter()
                cur.copy_expert(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)", io.BytesIO(body))
                conn.commit()
                copies_s.append(time.perf_counter() - copy_started)
                cur.execute(f"SELECT count(*) FROM {table}")
                (copied,) = cur.fetchone()
                assert copied == args.rows, (attempt, copied)
        conn.close()
        copy_s = statistics.median(copies_s)
        assert loaded == unique == args.rows, (loaded, unique)

        def line(name: str, seconds: float, note: str = "") -> None:
            print(f"  {name:<52} {seconds:8.1f}s  {args.rows / seconds:>10,.0f} rows/s  {note}")

        print(f"\ntoll_plaza, {args.rows:,} generated records, one local platform, one run:")
        line("whole DAG run (dag.test)", dag_s)
        line("  generate + land JSON (Lambda)", generate_s)
        line("  landing JSON -> toll_table (sensor..UPSERT)", landing_s)
        line("  checks", after_s)
        line(
            "plain COPY of the same rows (CSV, same PostgreSQL)",
            copy_s,
            "median of " + ", ".join(f"{seconds:.1f}" for seconds in copies_s),
        )
        line("rerun of the same day: landing JSON -> toll_table", rerun_s)
        print("\nratio:")
        print(f"  pipeline landing->table / plain COPY   {landing_s / copy_s:7.1f}x the time (target <= 6x)")
        print(f"  rerun landing->table / plain COPY      {rerun_s / copy_s:7.1f}x the time")
        print("  per step: " + ", ".join(f"{t} {span(times, (t,)):.1f}s" for t in LANDING_TO_TABLE + AFTER_LOAD))
        print("  rerun:    " + ", ".join(f"{t} {span(rerun_times, (t,)):.1f}s" for t in LANDING_TO_TABLE))
        print(
            f"  the server's first Glue job run ({WARM_UP_ROWS:,} records, the warm driver's start): {first_glue_s:.1f}s"
        )
        from benchmarks.support.headline import headline

        measures = (
            f"{args.rows:,} generated toll records from landing JSON to the Redshift table on the local "
            "platform (sensor, crawler, Glue job, COPY, apply; the Glue driver already started by a small day) "
            "beside a plain `COPY` of the same rows (median of three, after a checkpoint); then the same day again"
        )
        result = (
            f"{landing_s / copy_s:.1f}× a plain COPY (target ≤ 6×; Glue job "
            f"{span(times, ('transform_transactions',)):.0f} s; the server's first Glue run {first_glue_s:.0f} s); "
            f"a rerun of the same day {rerun_s / copy_s:.1f}× (its apply {span(rerun_times, ('apply_deliveries',)):.1f} s, "
            f"{span(times, ('apply_deliveries',)):.1f} s the first time)"
        )
        headline(__file__, measures=measures, result=result)
    finally:
        aws.stop()
        drop_standin_databases(server_dsn, namespace)
        stop_postgres()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
