"""What the local Athena adds over DuckDB itself, measured in one run: a top-N aggregation over N rows of Parquet
(tweet_hashtags' report query) through the Athena API of the local server (StartQueryExecution -> polled
GetQueryExecution -> GetQueryResults, which also copies the file out of the local S3, translates the SQL and
writes the result CSV) beside the same query run by DuckDB directly on a local copy of the same file.

Starts its own local AWS server and PostgreSQL (or uses LOCAL_POSTGRES_DSN/PGHOST) in a temporary folder.

    python benchmarks/athena_overhead.py [--rows 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT_ROOT)]

TOP_N = """SELECT hashtag, count(*) AS tweets, count(DISTINCT user_name) AS users, avg(polarity) AS polarity
FROM {table} GROUP BY hashtag ORDER BY tweets DESC, hashtag LIMIT 10"""


def make_parquet(path: Path, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    hashtags = np.array([f"tag{i:04d}" for i in range(2000)])
    table = pa.table(
        {
            "hashtag": hashtags[np.minimum(rng.zipf(1.3, rows) - 1, len(hashtags) - 1)],
            "user_name": np.char.add("user", rng.integers(0, 50_000, rows).astype(str)),
            "polarity": rng.uniform(-1, 1, rows).round(3),
        }
    )
    pq.write_table(table, path)


def through_athena(client, database: str, output: str) -> list:
    query_id = client.start_query_execution(
        QueryString=TOP_N.format(table="tweets"),
        QueryExecutionContext={"Database": database},
        ResultConfiguration={"OutputLocation": output},
    )["QueryExecutionId"]
    while True:
        status = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.01)
    assert status["State"] == "SUCCEEDED", status
    rows = client.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"][1:]
    return [[cell.get("VarCharValue") for cell in row["Data"]] for row in rows]


def directly(path: Path) -> list:
    import duckdb

    with duckdb.connect() as connection:
        return connection.execute(TOP_N.format(table=f"read_parquet('{path}')")).fetchall()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each side (median), after one warm-up")
    args = parser.parse_args()
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(key, value)

    from tests.helpers.platform import start_local_aws, start_postgres

    work = Path(tempfile.mkdtemp(prefix="athena-bench-"))
    path = work / "tweets.parquet"
    make_parquet(path, args.rows)
    dsn, stop_postgres = start_postgres(work / "postgres")
    server = start_local_aws(work / "aws", dsn, f"b{uuid.uuid4().hex[:6]}")
    try:
        s3, athena = server.client("s3"), server.client("athena")
        for bucket in ("bench-lake", "bench-results"):
            s3.create_bucket(Bucket=bucket)
        s3.upload_file(str(path), "bench-lake", "tweets/part-0.parquet")
        output = "s3://bench-results/athena/"
        for ddl in (
            "CREATE DATABASE bench",
            "CREATE EXTERNAL TABLE bench.tweets (hashtag string, user_name string, "
            "polarity double) STORED AS PARQUET LOCATION 's3://bench-lake/tweets/'",
        ):
            query_id = athena.start_query_execution(QueryString=ddl, ResultConfiguration={"OutputLocation": output})
            while athena.get_query_execution(QueryExecutionId=query_id["QueryExecutionId"])["QueryExecution"]["Status"][
                "State"
            ] in ("QUEUED", "RUNNING"):
                time.sleep(0.01)

        expected = [[h, str(t), str(u)] for h, t, u, _ in directly(path)]
        assert [row[:3] for row in through_athena(athena, "bench", output)] == expected, "results differ"
        samples: dict[str, list[float]] = {"athena": [], "duckdb": []}
        for _ in range(args.runs):  # alternated, so that a change in the machine's load affects both sides alike
            for side, action in (
                ("athena", lambda: through_athena(athena, "bench", output)),
                ("duckdb", lambda: directly(path)),
            ):
                started = time.perf_counter()
                action()
                samples[side].append(time.perf_counter() - started)
        api, duck = (statistics.median(samples[side]) for side in ("athena", "duckdb"))
        size = path.stat().st_size
        print(f"Top-N aggregation over {args.rows:,} rows of Parquet ({size / 1e6:.1f} MB), median of {args.runs}:")
        print(f"  local Athena API (start, poll, results)  {api * 1000:9.1f} ms")
        print(
            f"  DuckDB directly on the same file          {duck * 1000:9.1f} ms   ratio {api / duck:.1f}x "
            f"(+{(api - duck) * 1000:.0f} ms per query)"
        )
        from benchmarks.support.headline import headline

        headline(
            __file__,
            measures=f"a top-N aggregation (count, count distinct, avg) over {args.rows:,} rows of Parquet "
            "through the local Athena API beside the same query on DuckDB directly",
            result=f"{api / duck:.1f}× DuckDB directly ({api * 1000:.0f} ms vs {duck * 1000:.0f} ms: "
            f"+{api - duck:.2f} s per query for S3 copy, translation, result CSV and polling)",
        )
    finally:
        server.stop()
        stop_postgres()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
