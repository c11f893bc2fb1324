"""The Redshift Data API on the local platform runs SQL on PostgreSQL (local_platform/aws/compute/redshift_data/)."""

from __future__ import annotations

import io
import tempfile
import time
import uuid

import psycopg2
import pytest

from local_platform.aws.compute.redshift_data import standin_database_name
from local_platform.postgres import database_dsn
from tests.helpers.airflow_runs import DagRunResult

CLUSTER = "rsdata-test-cluster"
DATABASE = "dev"


@pytest.fixture(scope="module")
def redshift(local_aws):
    return local_aws.client("redshift-data")


@pytest.fixture(scope="module")
def standin(local_aws, postgres_server_dsn):
    """A psycopg2 connection factory to the database that stands in for CLUSTER/DATABASE."""
    name = standin_database_name(local_aws.namespace, CLUSTER, DATABASE)
    return lambda: psycopg2.connect(database_dsn(postgres_server_dsn, name))


def wait(redshift, statement_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        description = redshift.describe_statement(Id=statement_id)
        if description["Status"] not in ("SUBMITTED", "PICKED", "STARTED"):
            return description
        assert time.monotonic() < deadline, description
        time.sleep(0.1)


def run(redshift, sql: str | list[str], **kwargs) -> dict:
    kwargs = {"ClusterIdentifier": CLUSTER, "Database": DATABASE, "DbUser": "awsuser", **kwargs}
    kwargs = {key: value for key, value in kwargs.items() if value is not None}
    if isinstance(sql, list):
        response = redshift.batch_execute_statement(Sqls=sql, **kwargs)
    else:
        response = redshift.execute_statement(Sql=sql, **kwargs)
    return wait(redshift, response["Id"])


def query(standin, sql: str) -> list[tuple]:
    with standin() as conn, conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    conn.close()
    return rows


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_select_returns_typed_records_column_metadata_and_pages(redshift):
    description = run(
        redshift,
        """
        SELECT n AS id, n * 1.5::float8 AS ratio, 'row ' || n AS label, n % 2 = 0 AS even,
               NULL::int AS nothing, 12.50::numeric(10, 2) AS price, DATE '2024-01-31' + n AS day
        FROM generate_series(1, 2500) AS n ORDER BY n""",
    )

    assert description["Status"] == "FINISHED", description
    assert description["HasResultSet"] is True
    assert description["ResultRows"] == 2500
    assert description["Duration"] > 0 and description["RedshiftQueryId"] > 0
    pages = [redshift.get_statement_result(Id=description["Id"])]
    while "NextToken" in pages[-1]:
        pages.append(redshift.get_statement_result(Id=description["Id"], NextToken=pages[-1]["NextToken"]))
    assert [len(page["Records"]) for page in pages] == [1000, 1000, 500]
    assert {page["TotalNumRows"] for page in pages} == {2500}
    columns = pages[0]["ColumnMetadata"]
    assert [(c["name"], c["typeName"]) for c in columns] == [
        ("id", "int4"),
        ("ratio", "float8"),
        ("label", "text"),
        ("even", "bool"),
        ("nothing", "int4"),
        ("price", "numeric"),
        ("day", "date"),
    ]
    assert pages[0]["Records"][0] == [
        {"longValue": 1},
        {"doubleValue": 1.5},
        {"stringValue": "row 1"},
        {"booleanValue": False},
        {"isNull": True},
        {"stringValue": "12.50"},
        {"stringValue": "2024-02-01"},
    ]
    assert pages[2]["Records"][-1][0] == {"longValue": 2500}


def test_ddl_with_distkey_sortkey_runs_and_parameters_bind(redshift, standin):
    table = unique("trips")
    created = run(
        redshift,
        f"""
        CREATE TABLE public.{table} (
            trip_id BIGINT NOT NULL ENCODE az64 DISTKEY,
            city VARCHAR(MAX) ENCODE lzo,
            fare DECIMAL(8, 2),
            loaded_at TIMESTAMP DEFAULT GETDATE(),
            PRIMARY KEY (trip_id)
        )
        DISTSTYLE KEY
        COMPOUND SORTKEY (loaded_at, trip_id)""",
    )
    assert created["Status"] == "FINISHED", created
    inserted = run(
        redshift,
        f"INSERT INTO {table} (trip_id, city, fare) VALUES (:id, :city, :fare), (2, 'Hue', 3)",
        Parameters=[
            {"name": "id", "value": "1"},
            {"name": "city", "value": "Ha Noi"},
            {"name": "fare", "value": "12.5"},
        ],
    )
    assert inserted["Status"] == "FINISHED", inserted
    assert inserted["ResultRows"] == 2
    assert inserted["QueryParameters"][0] == {"name": "id", "value": "1"}

    rows = query(standin, f"SELECT trip_id, city, fare, loaded_at IS NOT NULL FROM {table} ORDER BY trip_id")
    assert [(r[0], r[1], str(r[2]), r[3]) for r in rows] == [(1, "Ha Noi", "12.50", True), (2, "Hue", "3.00", True)]
    assert query(
        standin,
        f"SELECT character_maximum_length FROM information_schema.columns "
        f"WHERE table_name = '{table}' AND column_name = 'city'",
    ) == [(65535,)]


def test_sql_error_fails_with_the_postgresql_message(redshift):
    description = run(redshift, "SELECT * FROM public.no_such_table")

    assert description["Status"] == "FAILED"
    assert description["Error"] == 'ERROR: relation "public.no_such_table" does not exist'
    with pytest.raises(redshift.exceptions.ValidationException, match="does not have result"):
        redshift.get_statement_result(Id=description["Id"])


def test_redshift_only_sql_without_translation_fails_naming_it(redshift):
    description = run(redshift, "UNLOAD ('SELECT 1') TO 's3://nowhere/x' IAM_ROLE 'arn:aws:iam::1:role/r'")

    assert description["Status"] == "FAILED"
    assert "UNLOAD" in description["Error"] and "not supported" in description["Error"]


def test_batch_is_one_transaction_a_failing_statement_rolls_back_the_first(redshift, standin):
    table = unique("batch")
    assert run(redshift, f"CREATE TABLE {table} (id INT)")["Status"] == "FINISHED"

    description = run(
        redshift,
        [f"INSERT INTO {table} VALUES (1)", "INSERT INTO missing_table VALUES (2)", f"INSERT INTO {table} VALUES (3)"],
    )

    assert description["Status"] == "FAILED"
    assert 'relation "missing_table" does not exist' in description["Error"]
    assert [sub["Status"] for sub in description["SubStatements"]] == ["FINISHED", "FAILED", "ABORTED"]
    assert query(standin, f"SELECT count(*) FROM {table}") == [(0,)]


def test_truncate_commits_even_when_a_later_statement_of_the_batch_fails(redshift, standin):
    table = unique("truncated")
    assert run(redshift, f"CREATE TABLE {table} AS SELECT 1 AS id")["Status"] == "FINISHED"

    description = run(redshift, [f"TRUNCATE {table}", "SELECT * FROM missing_table"])

    assert description["Status"] == "FAILED"
    assert query(standin, f"SELECT count(*) FROM {table}") == [(0,)]


def test_batch_reports_each_sub_statement_and_its_result(redshift):
    table = unique("subs")
    description = run(
        redshift,
        [
            f"CREATE TABLE #{table} (id INT, name VARCHAR(10))",
            f"INSERT INTO #{table} VALUES (1, 'a'), (2, 'b')",
            f"SELECT name FROM #{table} ORDER BY id",
        ],
    )

    assert description["Status"] == "FINISHED", description
    subs = description["SubStatements"]
    assert [sub["Id"] for sub in subs] == [f"{description['Id']}:{n}" for n in (1, 2, 3)]
    assert [(sub["Status"], sub["HasResultSet"], sub["ResultRows"]) for sub in subs] == [
        ("FINISHED", False, 0),
        ("FINISHED", False, 2),
        ("FINISHED", True, 2),
    ]
    result = redshift.get_statement_result(Id=subs[2]["Id"])
    assert result["Records"] == [[{"stringValue": "a"}], [{"stringValue": "b"}]]
    with pytest.raises(redshift.exceptions.ValidationException, match="sub-statement"):
        redshift.get_statement_result(Id=description["Id"])


@pytest.fixture(scope="module")
def landing(local_aws):
    s3 = local_aws.client("s3")
    bucket = "rsdata-copy-test"
    s3.create_bucket(Bucket=bucket)
    return s3, bucket


def test_copy_csv_loads_every_object_under_the_prefix(redshift, standin, landing):
    s3, bucket = landing
    table = unique("csv_rides")
    s3.put_object(Bucket=bucket, Key=f"{table}/part-0.csv", Body=b'id;city;fare\n1;Hue;3.50\n2;"Da; Nang";4\n')
    s3.put_object(Bucket=bucket, Key=f"{table}/part-1.csv", Body=b"id;city;fare\n3;Vinh;\n")
    s3.put_object(Bucket=bucket, Key=f"{table}_other/part-0.csv", Body=b"id;city;fare\n9;Nope;9\n")
    run(redshift, f"CREATE TABLE {table} (id INT, city VARCHAR(20), fare DECIMAL(6,2))")

    description = run(
        redshift,
        f"""
        COPY {table} FROM 's3://{bucket}/{table}/'
        IAM_ROLE 'arn:aws:iam::123456789012:role/copy' FORMAT AS CSV DELIMITER ';' IGNOREHEADER 1
        TIMEFORMAT 'auto' REGION 'us-east-1';""",
    )

    assert description["Status"] == "FINISHED", description
    assert description["ResultRows"] == 3
    rows = query(standin, f"SELECT id, city, fare::text FROM {table} ORDER BY id")
    assert rows == [(1, "Hue", "3.50"), (2, "Da; Nang", "4.00"), (3, "Vinh", None)]


def test_copy_json_auto_matches_keys_to_columns(redshift, standin, landing):
    s3, bucket = landing
    table = unique("json_rides")
    s3.put_object(
        Bucket=bucket,
        Key=f"{table}/a.json",
        Body=b'{"id": 1, "city": "Hue", "tags": ["x"]}\n{"id": 2, "extra": true}{"id": 3, "city": "Vinh"}',
    )
    run(redshift, f"CREATE TABLE {table} (id BIGINT, city VARCHAR(20), tags VARCHAR(100))")

    description = run(redshift, f"COPY {table} FROM 's3://{bucket}/{table}' IAM_ROLE 'arn:x' FORMAT AS JSON 'auto'")

    assert description["Status"] == "FINISHED", description
    assert query(standin, f"SELECT id, city, tags FROM {table} ORDER BY id") == [
        (1, "Hue", '["x"]'),
        (2, None, None),
        (3, "Vinh", None),
    ]


def test_copy_parquet_loads_columns_by_position(redshift, standin, landing):
    import pyarrow as pa
    import pyarrow.parquet as pq

    s3, bucket = landing
    table = unique("parquet_rides")
    buffer = io.BytesIO()
    pq.write_table(
        pa.table({"ride": [1, 2], "when": ["2024-05-01 10:00:00", "2024-05-02 11:30:00"], "fare": [2.5, None]}), buffer
    )
    s3.put_object(Bucket=bucket, Key=f"{table}/rides.parquet", Body=buffer.getvalue())
    run(redshift, f"CREATE TABLE {table} (id INT, ride_at TIMESTAMP, fare FLOAT8)")

    description = run(redshift, f"COPY {table} FROM 's3://{bucket}/{table}/' IAM_ROLE 'arn:x' FORMAT AS PARQUET")

    assert description["Status"] == "FINISHED", description
    rows = query(standin, f"SELECT id, ride_at::text, fare FROM {table} ORDER BY id")
    assert rows == [(1, "2024-05-01 10:00:00", 2.5), (2, "2024-05-02 11:30:00", None)]


def test_copy_from_an_empty_prefix_fails_like_redshift(redshift, landing):
    table = unique("empty_copy")
    run(redshift, f"CREATE TABLE {table} (id INT)")

    description = run(redshift, f"COPY {table} FROM 's3://{landing[1]}/nothing-here/' IAM_ROLE 'arn:x' CSV")

    assert description["Status"] == "FAILED"
    assert description["Error"] == "ERROR: The specified S3 prefix 'nothing-here/' does not exist"


def test_cancel_aborts_a_running_statement_and_list_statements_reports_it(redshift):
    name = unique("sleepy")
    statement_id = redshift.execute_statement(
        ClusterIdentifier=CLUSTER, Database=DATABASE, StatementName=name, Sql="SELECT pg_sleep(30)"
    )["Id"]
    deadline = time.monotonic() + 10
    while redshift.describe_statement(Id=statement_id)["Status"] != "STARTED":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.3)  # let the query reach PostgreSQL

    assert redshift.cancel_statement(Id=statement_id)["Status"] is True

    assert wait(redshift, statement_id)["Status"] == "ABORTED"
    listed = redshift.list_statements(StatementName=name)["Statements"]
    assert [(s["Id"], s["Status"], s["QueryString"]) for s in listed] == [
        (statement_id, "ABORTED", "SELECT pg_sleep(30)")
    ]


def test_workgroups_get_their_own_standin_database(redshift, local_aws, postgres_server_dsn):
    workgroup = unique("wg")
    description = run(redshift, "CREATE TABLE only_here (id INT)", ClusterIdentifier=None, WorkgroupName=workgroup)

    assert description["Status"] == "FINISHED" and description["WorkgroupName"] == workgroup
    name = standin_database_name(local_aws.namespace, workgroup, DATABASE)
    with psycopg2.connect(database_dsn(postgres_server_dsn, name)) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('public.only_here') IS NOT NULL")
        assert cur.fetchone() == (True,)
    conn.close()


# --- through the Amazon provider's operators ------------------------------------------------------------------


def _dag_test(dag) -> DagRunResult:
    """``dag.test()`` for a DAG defined in a test: Airflow 3.3 only runs DAGs it has serialized, and it
    serializes the DAG bundles (our dags/ folder), so the test DAG is written to the metadata DB first."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    with tempfile.TemporaryDirectory() as empty:
        bag = DagBag(dag_folder=empty)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)
    dag_run = dag.test()
    return DagRunResult(
        state=str(dag_run.state).split(".")[-1].lower(),
        run_id=dag_run.run_id,
        task_states={ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()},
    )


@pytest.mark.dag_run
def test_s3_to_redshift_upsert_twice_leaves_no_duplicates(airflow_settings, local_aws, redshift, standin, landing):
    from airflow.providers.amazon.aws.transfers.s3_to_redshift import S3ToRedshiftOperator
    from airflow.sdk import DAG

    s3, bucket = landing
    table = unique("toll")
    run(
        redshift,
        f"CREATE TABLE public.{table} (transaction_id BIGINT, booth VARCHAR(10), amount DECIMAL(6,2), "
        f"day DATE, PRIMARY KEY (transaction_id)) DISTKEY (transaction_id) SORTKEY (booth)",
    )
    api_kwargs = {
        "database": DATABASE,
        "cluster_identifier": CLUSTER,
        "db_user": "awsuser",
        "wait_for_completion": True,
        "poll_interval": 1,
    }

    def load(body: bytes) -> str:
        s3.put_object(Bucket=bucket, Key=f"{table}/batch.csv", Body=body)
        with DAG(unique("upsert"), schedule=None) as dag:
            S3ToRedshiftOperator(
                task_id="upsert_toll",
                table=table,
                schema="public",
                s3_bucket=bucket,
                s3_key=table,
                redshift_conn_id="aws_default",
                aws_conn_id="aws_default",
                method="UPSERT",
                upsert_keys=["transaction_id"],
                column_list=["transaction_id", "booth", "amount", "day"],
                copy_options=["CSV", "IGNOREHEADER 1", "DATEFORMAT 'YYYY-MM-DD'"],
                redshift_data_api_kwargs=api_kwargs,
            )
        return _dag_test(dag).state

    assert load(b"transaction_id,booth,amount,day\n1,A,2.00,2024-05-01\n2,B,3.00,2024-05-01\n") == "success"
    assert load(b"transaction_id,booth,amount,day\n2,B,4.50,2024-05-02\n3,C,1.00,2024-05-02\n") == "success"

    assert query(standin, f"SELECT transaction_id, booth, amount::text, day::text FROM {table} ORDER BY 1") == [
        (1, "A", "2.00", "2024-05-01"),
        (2, "B", "4.50", "2024-05-02"),
        (3, "C", "1.00", "2024-05-02"),
    ]


@pytest.mark.dag_run
def test_redshift_data_operator_deferrable_returns_sql_result(airflow_settings, local_aws):
    from airflow.providers.amazon.aws.operators.redshift_data import RedshiftDataOperator
    from airflow.sdk import DAG

    with DAG(unique("deferrable"), schedule=None) as dag:
        RedshiftDataOperator(
            task_id="count_booths",
            cluster_identifier=CLUSTER,
            database=DATABASE,
            db_user="awsuser",
            # pg_sleep keeps the statement running past the operator's first check, so the task defers.
            sql="SELECT booth, count(*) AS n FROM (VALUES ('A'), ('B'), ('A')) AS t(booth) CROSS JOIN pg_sleep(1) "
            "GROUP BY booth ORDER BY booth",
            deferrable=True,
            poll_interval=1,
            return_sql_result=True,
            aws_conn_id="aws_default",
        )
        RedshiftDataOperator(
            task_id="fail_on_error",
            cluster_identifier=CLUSTER,
            database=DATABASE,
            sql="SELECT 1 / 0",
            deferrable=True,
            poll_interval=1,
            aws_conn_id="aws_default",
            retries=0,
        )

    result = _dag_test(dag)

    assert result.state == "failed"
    assert result.task_states == {"count_booths": "success", "fail_on_error": "failed"}
    records = result.xcom("count_booths")[0]["Records"]
    assert records == [[{"stringValue": "A"}, {"longValue": 2}], [{"stringValue": "B"}, {"longValue": 1}]]
