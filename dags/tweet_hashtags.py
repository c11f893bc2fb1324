"""tweet_hashtags: a day of posts streamed through Kinesis to the S3 landing zone, staged one row per hashtag with
sentiment, loaded into Athena's analytical table and reported as the day's top hashtags with a chart.

1. Land (the original's KinesisLanding state machine): create the day's stream (one shard) and wait until ACTIVE;
   the producer Lambda, invoked asynchronously, reads the source (a seeded sample feed, a replayed file of posts,
   or Bluesky's Jetstream) and puts each post on the stream; the consumer Lambda reads the stream until the
   producer's end-of-feed marker and lands the records in ``landing/YYYY/MM/DD/``; the stream is deleted as a
   teardown, whatever happened. Records in = records landed is checked.
2. Stage (the staging-transform Lambda): clean, score sentiment (TextBlob), one row per hashtag keyed by
   ``hash_id``, duplicates dropped, bad records quarantined with their reason; the day's partition replaced.
3. Analyse (LoadToAnalytical): Athena DDL, then the day is written to a location of its own and swapped into
   ``hashtag_data``'s partition (a failed load leaves the day as it was; a rerun replaces it), checked, logged in
   ``data_update_log``; the day's top hashtags go to ``top_hashtags`` and to a CSV under ``exports/``.
4. Show: a chart of the top hashtags and their sentiment (PNG and self-contained HTML) beside the CSV.
5. Alert: SNS on failure, on success with the day's counts, and "no_data" when the source yielded nothing.
"""

from __future__ import annotations

import json
from datetime import datetime

from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator
from airflow.providers.amazon.aws.operators.s3 import S3CopyObjectOperator, S3DeleteObjectsOperator
from airflow.sdk import DAG, Param, TaskGroup, chain, task
from pipeline_kit.alerts import success_notifier
from pipeline_kit.defaults import dag_defaults
from pipeline_kit.paths import sql_dir
from pipeline_kit.polling import poll_interval
from pipeline_kit.settings import RUN_DATE, RUN_DATE_EXPR, PipelineSettings

PIPELINE = "tweet_hashtags"
SETTINGS = PipelineSettings(PIPELINE)
DATA_BUCKET = SETTINGS.data_bucket
# Each run date has its own stream: days run side by side without sharing one.
STREAM_NAME_EXPR = f'{SETTINGS.expr("stream_prefix")} ~ "-" ~ ({RUN_DATE_EXPR} | ds_nodash)'
STREAM_NAME = f"{{{{ {STREAM_NAME_EXPR} }}}}"
DAY_PATH = (
    f"year={{{{ {RUN_DATE_EXPR}.strftime('%Y') }}}}/month={{{{ {RUN_DATE_EXPR}.strftime('%m') }}}}/"
    f"day={{{{ {RUN_DATE_EXPR}.strftime('%d') }}}}/"
)
ATHENA_RESULTS = f"s3://{DATA_BUCKET}/athena-results/"
EXPORT_KEY = f"exports/top_hashtags/dt={RUN_DATE}/top_hashtags"
ANALYTICAL_TABLES = ("hashtag_data", "top_hashtags")
# Lambda runs up to 15 minutes: the invoke waits that long for the answer, and is never silently re-sent.
LAMBDA_CLIENT = {"read_timeout": 900, "connect_timeout": 10, "retries": {"max_attempts": 0}}
ATHENA_TASKS = [
    *(
        f"create_{name}"
        for name in (
            "staging_database",
            "analytical_database",
            "hashtag_rows",
            "hashtag_data",
            "top_hashtags",
            "data_update_log",
        )
    ),
    "add_staging_partition",
    *(
        f"replace_{table}.{step}"
        for table in ("hashtag_data", "top_hashtags")
        for step in ("unload", "drop_partition", "add_partition")
    ),
    "check_hashtag_data",
    "log_update",
    "select_top_hashtags",
]
# What the run would cost on AWS (the success and no-data alerts say): the Lambdas' billed time, Athena's scans.
RUN_COST = {
    "lambda_functions": [SETTINGS.producer_function, SETTINGS.consumer_function, SETTINGS.stage_function],
    "athena_tasks": ATHENA_TASKS,
}

SOURCE_EVENT = (
    '"source": params.source, "date": ' + RUN_DATE_EXPR + ' | ds, "seconds": params.seconds, '
    '"seed": params.seed, "posts": params.posts, "duplicates": params.duplicates, '
    '"replay_uri": params.replay_uri, "jetstream_url": params.jetstream_url, '
    '"language": params.language, "min_reposts": params.min_reposts'
)
PRODUCER_EVENT = "{{ {" + SOURCE_EVENT + ', "stream_name": ' + STREAM_NAME_EXPR + "} | tojson }}"
CONSUMER_EVENT = (
    "{{ {"
    f'"stream_name": {STREAM_NAME_EXPR}, "bucket": {SETTINGS.expr("data_bucket")}, "prefix": "landing", '
    f'"date": {RUN_DATE_EXPR} | ds, "name": params.source ~ "-s" ~ params.seed, '
    # The consumer waits for the producer's marker a little longer than the producer reads.
    '"seconds": params.seconds + 60'
    "} | tojson }}"
)
STAGE_EVENT = (
    "{{ {"
    f'"date": {RUN_DATE_EXPR} | ds, "bucket": {SETTINGS.expr("data_bucket")}, "landing_prefix": "landing", '
    '"staging_prefix": "staging/hashtag_rows", "quarantine_prefix": "quarantine"'
    "} | tojson }}"
)


@task
def create_stream(stream_name: str) -> str:
    """The run's stream, one shard (an existing one is fine), once it is ACTIVE. No provider operator manages
    Kinesis data streams, hence the hook's client."""
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    kinesis = AwsBaseHook(client_type="kinesis").get_conn()
    try:
        kinesis.create_stream(StreamName=stream_name, ShardCount=1)
    except kinesis.exceptions.ResourceInUseException:
        pass
    kinesis.get_waiter("stream_exists").wait(StreamName=stream_name, WaiterConfig={"Delay": 1, "MaxAttempts": 300})
    return stream_name


@task
def delete_stream(stream_name: str) -> None:
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    kinesis = AwsBaseHook(client_type="kinesis").get_conn()
    try:
        kinesis.delete_stream(StreamName=stream_name, EnforceConsumerDeletion=True)
    except kinesis.exceptions.ResourceNotFoundException:
        return
    kinesis.get_waiter("stream_not_exists").wait(StreamName=stream_name, WaiterConfig={"Delay": 1, "MaxAttempts": 300})


@task
def check_landing(payload: str) -> dict:
    """Every record the producer sent was landed (records in = records landed)."""
    from airflow.sdk.exceptions import AirflowException

    landed = json.loads(payload)
    if not landed["end_of_feed"]:
        # The producer may still be running or have failed: retried, the consumer reads the stream again.
        raise AirflowException(
            f"the consumer read {landed['landed']} records but no end-of-feed marker: the "
            "producer did not finish in time (see its log)"
        )
    if landed["landed"] != landed["producer"]["sent"]:
        raise AirflowException(f"the producer sent {landed['producer']['sent']} records, {landed['landed']} landed")
    return {
        "read": landed["producer"]["read"],
        "filtered": landed["producer"]["filtered"],
        "sent": landed["producer"]["sent"],
        "landed": landed["landed"],
        "landing_key": landed["key"],
    }


@task
def check_staging(payload: str) -> dict:
    """The staging Lambda accounted for every landed record."""
    from airflow.sdk.exceptions import AirflowFailException

    staged = json.loads(payload)
    accounted = staged["staged_posts"] + staged["quarantined"] + staged["duplicates"]
    if accounted != staged["read"]:
        raise AirflowFailException(f"staging read {staged['read']} records but accounts for {accounted}")
    return staged


@task.branch
def route_by_staging(staged: dict) -> str:
    return "report_no_data" if staged["read"] == 0 else "create_staging_database"


@task(on_success_callback=[success_notifier(PIPELINE, event="no_data", cost_spec=RUN_COST)])
def report_no_data(landing: dict, run_date: str) -> dict:
    """The source yielded nothing for the day: nothing landed, nothing to analyse. Not a failure."""
    return {"run_date": run_date, "read": landing["read"], "landed": 0, "filtered": landing["filtered"]}


@task
def plan_load(data_bucket: str, day_path: str) -> dict[str, str]:
    """A fresh location per analytical table for this load: the day's partition is switched to it only once it
    is written, so a failed load leaves the day as it was."""
    import uuid

    token = uuid.uuid4().hex[:16]
    keys = {table: f"analytical/{table}/{day_path}load={token}/" for table in ANALYTICAL_TABLES}
    # Each table's location, and its key prefix for the operators that take one.
    return {
        **{table: f"s3://{data_bucket}/{key}" for table, key in keys.items()},
        **{f"{table}_prefix": key for table, key in keys.items()},
    }


@task
def remove_replaced_loads(locations: dict[str, str], table: str) -> list[str]:
    """The day's earlier loads of ``table``, no longer in any partition, are removed."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    bucket, _, current = locations[table].removeprefix("s3://").partition("/")
    day_prefix = current.rsplit("load=", 1)[0]
    hook = S3Hook()
    stale = [key for key in hook.list_keys(bucket, prefix=day_prefix) if not key.startswith(current)]
    if stale:
        hook.delete_objects(bucket, stale)
    return stale


@task
def verify_load(query_execution_id: str, staged: dict) -> dict:
    """The day in ``hashtag_data`` holds what staging staged, and no hash_id appears twice in the table."""
    from airflow.providers.amazon.aws.hooks.athena import AthenaHook
    from airflow.sdk.exceptions import AirflowFailException

    rows = AthenaHook().get_query_results(query_execution_id)["ResultSet"]["Rows"]
    names = [cell["VarCharValue"] for cell in rows[0]["Data"]]
    facts = {name: int(cell["VarCharValue"]) for name, cell in zip(names, rows[1]["Data"], strict=True)}
    problems = []
    if facts["rows_loaded"] != staged["hashtag_rows"]:
        problems.append(f"{facts['rows_loaded']} rows loaded, {staged['hashtag_rows']} staged")
    if facts["distinct_posts"] != staged["staged_posts"]:
        problems.append(f"{facts['distinct_posts']} posts loaded, {staged['staged_posts']} staged")
    if facts["duplicate_hash_ids"]:
        problems.append(f"{facts['duplicate_hash_ids']} duplicate hash_id in hashtag_data")
    if problems:
        raise AirflowFailException("hashtag_data check failed: " + "; ".join(problems))
    return facts


@task
def draw_chart(data_bucket: str, export_key: str, run_date: str) -> list[dict]:
    """The day's top hashtags and their sentiment, as PNG and self-contained HTML beside the CSV (the success
    alert lists it)."""
    import io

    import pandas as pd
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from pipeline_kit.charts import save_chart
    from pipeline_kit.hashtag_chart import top_hashtags_figure

    csv = S3Hook().read_key(f"{export_key}.csv", data_bucket)
    figure = top_hashtags_figure(pd.read_csv(io.StringIO(csv)), run_date)
    title = f"Top hashtags {run_date}"
    return [{"title": title, **save_chart(figure, bucket=data_bucket, key_prefix=export_key, title=title)}]


@task(on_success_callback=[success_notifier(PIPELINE, charts_task="draw_chart", cost_spec=RUN_COST)])
def summarize_run(landing: dict, staged: dict, loaded: dict, data_bucket: str, export_key: str) -> dict:
    """The day's counts: the success alert's summary."""
    return {
        "read": landing["read"],
        "filtered": landing["filtered"],
        "landed": landing["landed"],
        "staged": staged["staged_posts"],
        "hashtag_rows": staged["hashtag_rows"],
        "hashtags": staged["hashtags"],
        "loaded": loaded["rows_loaded"],
        "quarantined": staged["quarantined"],
        "duplicates": staged["duplicates"],
        "quarantine_reasons": staged["quarantine_reasons"],
        "report_csv": f"s3://{data_bucket}/{export_key}.csv",
    }


def athena(task_id: str, sql: str, **kwargs) -> AthenaOperator:
    return AthenaOperator(
        task_id=task_id,
        query=f"tweet_hashtags/{sql}",
        database="default",
        output_location=ATHENA_RESULTS,
        sleep_time=poll_interval(2),
        **kwargs,
    )


def replace_partition(table: str, locations) -> TaskGroup:
    """Write the day to this load's location, then point the day's partition at it, then drop older loads."""
    with TaskGroup(f"replace_{table}") as group:
        clear_location = S3DeleteObjectsOperator(  # a retried UNLOAD needs an empty location
            task_id="clear_location",
            bucket=DATA_BUCKET,
            prefix=f"{{{{ ti.xcom_pull(task_ids='plan_load')['{table}_prefix'] }}}}",
        )
        unload = athena("unload", f"unload_{table}.sql")
        drop_partition = athena("drop_partition", "drop_partition.sql", params={"table": table})
        add_partition = athena("add_partition", "add_partition.sql", params={"table": table})
        chain(clear_location, unload, drop_partition, add_partition, remove_replaced_loads(locations, table))
    return group


with DAG(
    dag_id=PIPELINE,
    description="Posts -> Kinesis -> S3 landing -> staging Lambda (sentiment, one row per hashtag) -> Athena",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,  # past days run as backfills, each idempotent
    max_active_runs=3,  # each day has its own stream, landing, staging and partitions
    **dag_defaults(PIPELINE),
    template_searchpath=[sql_dir()],
    params={
        "source": Param("sample", enum=["sample", "replay", "jetstream"], description="where posts come from"),
        "seconds": Param(60, type="integer", minimum=1, maximum=780, description="how long the producer reads"),
        "seed": Param(0, type="integer", minimum=0, description="sample feed: same date and seed, same posts"),
        "posts": Param(200, type="integer", minimum=0, description="sample feed: distinct posts of the day"),
        "duplicates": Param(10, type="integer", minimum=0, description="sample feed: posts delivered twice"),
        "replay_uri": Param("", type="string", description="replay: s3://... JSON lines of captured posts"),
        "jetstream_url": Param("", type="string", description="jetstream: websocket URL (empty: Bluesky's)"),
        "language": Param("en", type="string", description="keep posts in this language (empty: all)"),
        "min_reposts": Param(0, type="integer", minimum=0, description="keep posts reposted at least this often"),
        "top_hashtags": Param(10, type="integer", minimum=1, maximum=100, description="rows of the daily report"),
    },
    tags=["tweet_hashtags", "kinesis", "lambda", "athena"],
    doc_md=__doc__,
) as dag:
    stream = create_stream(STREAM_NAME)
    produce_posts = LambdaInvokeFunctionOperator(
        task_id="produce_posts",
        function_name=SETTINGS.producer_function,
        payload=PRODUCER_EVENT,
        invocation_type="Event",
        botocore_config=LAMBDA_CLIENT,
    )
    consume_stream = LambdaInvokeFunctionOperator(
        task_id="consume_stream",
        function_name=SETTINGS.consumer_function,
        payload=CONSUMER_EVENT,
        invocation_type="RequestResponse",
        botocore_config=LAMBDA_CLIENT,
    )
    landing = check_landing(consume_stream.output)
    teardown = delete_stream(STREAM_NAME).as_teardown(setups=stream)

    stage_day = LambdaInvokeFunctionOperator(
        task_id="stage_day",
        function_name=SETTINGS.stage_function,
        payload=STAGE_EVENT,
        invocation_type="RequestResponse",
        botocore_config=LAMBDA_CLIENT,
    )
    staged = check_staging(stage_day.output)
    route = route_by_staging(staged)
    no_data = report_no_data(landing, RUN_DATE)

    ddl = [
        athena("create_staging_database", "create_staging_database.sql"),
        athena("create_analytical_database", "create_analytical_database.sql"),
        athena("create_hashtag_rows", "create_hashtag_rows.sql"),
        athena("create_hashtag_data", "create_hashtag_data.sql"),
        athena("create_top_hashtags", "create_top_hashtags.sql"),
        athena("create_data_update_log", "create_data_update_log.sql"),
        athena("add_staging_partition", "add_staging_partition.sql"),
    ]
    locations = plan_load(DATA_BUCKET, DAY_PATH)
    load_hashtag_data = replace_partition("hashtag_data", locations)
    check_hashtag_data = athena("check_hashtag_data", "check_hashtag_data.sql")
    loaded = verify_load(check_hashtag_data.output, staged)
    log_update = athena("log_update", "log_update.sql")
    load_top_hashtags = replace_partition("top_hashtags", locations)
    select_top_hashtags = athena("select_top_hashtags", "select_top_hashtags.sql")
    export_top_hashtags = S3CopyObjectOperator(
        task_id="export_top_hashtags",
        source_bucket_name=DATA_BUCKET,
        source_bucket_key="athena-results/{{ ti.xcom_pull(task_ids='select_top_hashtags') }}.csv",
        dest_bucket_name=DATA_BUCKET,
        dest_bucket_key=f"{EXPORT_KEY}.csv",
    )
    chart = draw_chart(DATA_BUCKET, EXPORT_KEY, RUN_DATE)
    summary = summarize_run(landing, staged, loaded, DATA_BUCKET, EXPORT_KEY)

    # Land: the stream exists for the landing only.
    chain(stream, produce_posts, consume_stream, landing, teardown)
    # Stage, and route an empty day to its "no data" alert.
    chain(landing, stage_day, staged, route, [ddl[0], no_data])
    # Analyse: tables, the day's load swapped in, checked and logged, the report, its CSV and chart.
    chain(
        *ddl,
        locations,
        load_hashtag_data,
        check_hashtag_data,
        loaded,
        log_update,
        load_top_hashtags,
        select_top_hashtags,
        export_top_hashtags,
        chart,
        summary,
    )
