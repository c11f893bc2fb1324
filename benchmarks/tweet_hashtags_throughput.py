"""Posts per second through the tweet_hashtags pipeline on the local platform, measured in one run:

1. the DAG run with ``dag.test()`` for ``--posts`` sample posts; posts/s over land (stream created .. records
   landed and checked), stage (the staging Lambda: read landing, transform, write JSON lines) and analyse (Athena
   DDL .. the day swapped in, checked and logged), from the task instances' start and end times;
2. the staging transform beside the same transform written in plain pandas (vectorised cleaning and explode,
   TextBlob applied per post, the same hash key), both in this process over the landed records, and the staging
   Lambda's whole invocation beside both; the outputs are checked equal before any ratio is printed.

Starts its own local AWS server and PostgreSQL (or uses LOCAL_POSTGRES_DSN/PGHOST) in a temporary folder.

    python benchmarks/tweet_hashtags_throughput.py [--posts 5000]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STAGE_DIR = PROJECT_ROOT / "include" / "lambda" / "tweet_stage"
sys.path[:0] = [str(PROJECT_ROOT), str(PROJECT_ROOT / "plugins"), str(STAGE_DIR)]

RUN_DATE = datetime(2026, 6, 1, tzinfo=UTC)
LAND = ("create_stream", "produce_posts", "consume_stream", "check_landing")
STAGE = ("stage_day",)
ANALYSE = (
    "create_staging_database",
    "create_analytical_database",
    "create_hashtag_rows",
    "create_hashtag_data",
    "create_top_hashtags",
    "create_data_update_log",
    "add_staging_partition",
    "plan_load",
    "replace_hashtag_data.clear_location",
    "replace_hashtag_data.unload",
    "replace_hashtag_data.drop_partition",
    "replace_hashtag_data.add_partition",
    "replace_hashtag_data.remove_replaced_loads",
    "check_hashtag_data",
    "verify_load",
    "log_update",
)


def task_times(run_id: str) -> dict[str, tuple[datetime, datetime]]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(TaskInstance).filter_by(dag_id="tweet_hashtags", run_id=run_id).all()
        return {ti.task_id: (ti.start_date, ti.end_date) for ti in rows}


def span(times: dict, task_ids: tuple[str, ...]) -> float:
    return (max(times[t][1] for t in task_ids) - min(times[t][0] for t in task_ids)).total_seconds()


def pandas_stage(landed: list[dict]):
    """The staging transform in plain pandas: parse, keep valid posts, first arrival per post, clean with
    vectorised regexes, TextBlob per post, explode hashtags, hash key. Rows as dicts, for the equality check."""
    import pandas as pd
    from textblob import TextBlob

    frame = pd.DataFrame(landed)
    posts = pd.json_normalize(frame["data"].map(json.loads))
    posts["data"], posts["arrival"] = frame["data"], frame["arrival"]
    posts = posts[posts["text"].str.strip().astype(bool)]
    posts = posts.sort_values("arrival", kind="stable").drop_duplicates("post_id")
    text = posts["text"].map(html.unescape).astype(object)  # Python regexes (Arrow strings take RE2)
    text = text.str.replace(r"(?:https?://|www\.)\S+", " ", regex=True, case=False)
    text = text.str.replace(r"(?<!\w)@\w+", " ", regex=True).str.replace(r"\bRT\b:?", " ", regex=True)
    text = text.str.replace(r"[^\u0000-\uffff]|[\u2600-\u27bf\ufe0f]", " ", regex=True)
    text = text.str.replace(r"[^\w\s]|_", " ", regex=True).str.replace(r"\s+", " ", regex=True).str.strip()
    posts["text_clean"] = text
    scored = text.map(lambda value: TextBlob(value).sentiment)
    posts["polarity"] = scored.map(lambda s: round(float(s.polarity), 6))
    posts["record_id"] = posts["data"].map(lambda data: hashlib.sha1(data.encode()).hexdigest())
    posts["hashtag"] = posts["hashtags"].map(lambda tags: list(dict.fromkeys(t.lstrip("#").lower() for t in tags)))
    rows = posts.explode("hashtag")
    keys = rows["record_id"] + rows["post_id"] + rows["hashtag"]
    rows["hash_id"] = keys.map(lambda key: base64.b64encode(hashlib.sha1(key.encode()).digest()).decode())
    return rows[["hash_id", "post_id", "hashtag", "text_clean", "polarity"]].to_dict("records")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=5000)
    args = parser.parse_args(argv)

    state = Path(tempfile.mkdtemp(prefix="bench-tweet-"))
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
    from tweet_transform import stage_records

    from benchmarks.support.headline import headline
    from local_platform.dag_runs import migrate_metadata_db, run_dag
    from local_platform.provision import provision
    from local_platform.settings import PlatformEndpoints, airflow_env, local_databases, variables
    from tests.helpers.platform import start_local_aws, start_postgres

    server_dsn, stop_postgres = start_postgres(state / "postgres")
    aws = start_local_aws(state / "aws", server_dsn, f"b{uuid.uuid4().hex[:6]}")
    try:
        provision(aws.endpoint, ["tweet_hashtags"])
        os.environ.update(airflow_env(PlatformEndpoints(aws.endpoint, server_dsn, local_databases())))
        migrate_metadata_db()

        started = time.perf_counter()
        result = run_dag("tweet_hashtags", RUN_DATE, {"posts": args.posts, "duplicates": args.posts // 50})
        dag_s = time.perf_counter() - started
        assert result.state == "success", (result.task_states, aws.log_tail())
        times = task_times(result.run_id)
        summary = result.xcom("summarize_run")
        landed_posts = summary["landed"]

        bucket = variables()["tweet_hashtags"]["data_bucket"]
        s3 = aws.client("s3")
        key = result.xcom("check_landing")["landing_key"]
        lines = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()

        started = time.perf_counter()
        staged = stage_records([(key, line) for line in lines])
        transform_s = time.perf_counter() - started
        started = time.perf_counter()
        plain = pandas_stage([json.loads(line) for line in lines])
        pandas_s = time.perf_counter() - started
        ours = sorted((r["hash_id"], r["post_id"], r["hashtag"], r["text_clean"], r["polarity"]) for r in staged.rows)
        theirs = sorted((r["hash_id"], r["post_id"], r["hashtag"], r["text_clean"], r["polarity"]) for r in plain)
        assert ours == theirs, "the pandas transform disagrees with the staging transform"
        assert len(ours) == summary["loaded"], (len(ours), summary)

        land_s, stage_s, analyse_s = span(times, LAND), span(times, STAGE), span(times, ANALYSE)

        def line(name: str, seconds: float) -> None:
            print(f"  {name:<58} {seconds:8.2f}s  {landed_posts / seconds:>9,.0f} posts/s")

        print(
            f"\ntweet_hashtags, {args.posts:,} sample posts ({landed_posts:,} landed, {summary['loaded']:,} "
            "hashtag rows), one local platform, one run:"
        )
        line("whole DAG run (dag.test, chart and report included)", dag_s)
        line("  land: stream, producer + consumer Lambdas, check", land_s)
        line("  stage: staging Lambda (S3 in, transform, S3 out)", stage_s)
        line("  analyse: Athena DDL .. day swapped in, checked, logged", analyse_s)
        line("staging transform in process (tweet_transform)", transform_s)
        line("the same transform in plain pandas", pandas_s)
        print("\nratios:")
        print(f"  staging transform / plain pandas          {transform_s / pandas_s:6.2f}x the time")
        print(f"  staging Lambda (whole invoke) / pandas    {stage_s / pandas_s:6.2f}x the time")
        print(f"  land : stage : analyse                    {land_s / stage_s:.2f} : 1 : {analyse_s / stage_s:.2f}")
        headline(
            __file__,
            measures=f"{args.posts:,} sample posts land (Kinesis + 2 Lambdas) → stage (Lambda, TextBlob) → analyse "
            "(Athena) on the local platform; the staging transform beside the same transform in plain pandas",
            result=f"{landed_posts / (land_s + stage_s + analyse_s):,.0f} posts/s land→analyse "
            f"(land {landed_posts / land_s:,.0f}, stage {landed_posts / stage_s:,.0f}, analyse "
            f"{landed_posts / analyse_s:,.0f}); staging transform {transform_s / pandas_s:.2f}× plain pandas, "
            f"the whole staging Lambda {stage_s / pandas_s:.2f}×",
        )
    finally:
        aws.stop()
        stop_postgres()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
