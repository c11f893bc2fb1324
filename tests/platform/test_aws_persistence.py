"""The local AWS server keeps the lake across restarts (local_platform/aws/state): a clean stop (SIGTERM) loses
nothing; ``kill -9`` loses nothing that the last snapshot covers, and a snapshot follows a change within the
snapshot interval (2 s) plus its own duration."""

from __future__ import annotations

import concurrent.futures
import json
import os
import time
import uuid
from pathlib import Path
from urllib.parse import unquote

import pytest
import requests

from deploy.lambda_zips import zip_folder
from local_platform import processes
from local_platform.platform import LocalPlatform
from tests.helpers.platform import LocalAws, free_port, start_local_aws

pytestmark = pytest.mark.own_server

FIXTURES = Path(__file__).parent / "fixtures"
ROLE = "arn:aws:iam::123456789012:role/lake-role"
STATUS_PATH = "/_local_aws/state"
POLL_SLACK_S = 1.0  # between the snapshot ending and this test seeing it, on a busy 2-core machine
BIG_BODY = os.urandom(10 * 1024 * 1024)  # beyond moto's 8 MB in-memory buffer: spooled to disk


@pytest.fixture
def servers(tmp_path, postgres_server_dsn):
    """start(*args) -> a server on this test's state folder; stopped at the end if still running."""
    started: list[LocalAws] = []
    namespace = f"t{uuid.uuid4().hex[:6]}"

    def start(*args: str) -> LocalAws:
        aws = start_local_aws(
            tmp_path / "aws", postgres_server_dsn, namespace, args, log_name=f"server-{len(started)}.log"
        )
        started.append(aws)
        return aws

    yield start
    for aws in started:
        if aws.process.poll() is None:
            aws.stop()
    _drop_databases(postgres_server_dsn, f"{namespace}_")  # the Redshift stand-ins the servers created


def status(aws: LocalAws) -> dict:
    return requests.get(aws.endpoint + STATUS_PATH, timeout=5).json()


def wait_until_saved(aws: LocalAws) -> float:
    """Wait for the snapshot covering every change made so far; return how long that took."""
    target = status(aws)["generation"]
    started = time.monotonic()
    while time.monotonic() - started < 30:
        if status(aws)["saved_generation"] >= target:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"no snapshot covered generation {target} within 30 s: {status(aws)}")


def assert_saved_within_the_window(aws: LocalAws) -> None:
    """The snapshot covering the last change came within the README's window: the next tick of the interval plus
    the snapshot's own time (a disk slowed by other work lengthens the second, not the first)."""
    waited = wait_until_saved(aws)
    saved = status(aws)
    assert waited <= saved["interval_s"] + saved["last_duration_s"] + POLL_SLACK_S, (waited, saved)


def wait_for(describe, done, timeout_s: float = 90):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = describe()
        if done(value):
            return value
        time.sleep(0.2)
    raise AssertionError(f"still {value} after {timeout_s} s")


# --- a lake with something in every service the pipelines use ------------------------------------------------


def populate(aws: LocalAws) -> None:
    s3, glue, sqs, sns = aws.client("s3"), aws.client("glue"), aws.client("sqs"), aws.client("sns")
    iam = aws.client("iam")
    iam.create_role(
        RoleName="lake-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    policy = iam.create_policy(
        PolicyName="lake-policy",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    iam.attach_role_policy(RoleName="lake-role", PolicyArn=policy["Policy"]["Arn"])

    # Glue job first: its run finishes in a compute thread, before the changes below.
    s3.create_bucket(Bucket="lake-artifacts")
    s3.upload_file(str(FIXTURES / "glue" / "sleeps.py"), "lake-artifacts", "scripts/sleeps.py")
    glue.create_job(
        Name="nap",
        Role=ROLE,
        GlueVersion="5.0",
        DefaultArguments={"--seconds": "0"},
        Command={"Name": "glueetl", "ScriptLocation": "s3://lake-artifacts/scripts/sleeps.py"},
    )
    run_id = glue.start_job_run(JobName="nap")["JobRunId"]
    wait_for(
        lambda: glue.get_job_run(JobName="nap", RunId=run_id)["JobRun"]["JobRunState"],
        lambda state: state == "SUCCEEDED",
    )

    events = sqs.create_queue(QueueName="lake-events")["QueueUrl"]
    events_arn = sqs.get_queue_attributes(QueueUrl=events, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.create_bucket(Bucket="lake-raw")
    s3.put_bucket_versioning(Bucket="lake-raw", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket="lake-raw",
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": events_arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    s3.put_bucket_tagging(Bucket="lake-raw", Tagging={"TagSet": [{"Key": "layer", "Value": "raw"}]})
    s3.put_object(Bucket="lake-raw", Key="sales/dt=2024-01-01/part.csv", Body=b"id,amount\n1,10\n")
    s3.put_object(
        Bucket="lake-raw",
        Key="sales/dt=2024-01-01/part.csv",
        Body=b"id,amount\n1,12\n",
        ContentType="text/csv",
        Metadata={"source": "pos", "batch": "7"},
    )
    s3.put_object(Bucket="lake-raw", Key="big/blob.bin", Body=BIG_BODY)
    s3.put_object(Bucket="lake-raw", Key="empty", Body=b"")

    glue.create_database(DatabaseInput={"Name": "sales_db", "Description": "the lake"})
    glue.create_table(
        DatabaseName="sales_db",
        TableInput={
            "Name": "sales",
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
            "StorageDescriptor": {
                "Columns": [{"Name": "id", "Type": "int"}, {"Name": "amount", "Type": "int"}],
                "Location": "s3://lake-raw/sales/",
            },
        },
    )
    for day in ("2024-01-01", "2024-01-02"):
        glue.create_partition(
            DatabaseName="sales_db",
            TableName="sales",
            PartitionInput={"Values": [day], "StorageDescriptor": {"Location": f"s3://lake-raw/sales/dt={day}/"}},
        )
    glue.create_crawler(
        Name="sales-crawler",
        Role=ROLE,
        DatabaseName="crawled_db",
        Targets={"S3Targets": [{"Path": "s3://lake-raw/sales/"}]},
    )

    topic = sns.create_topic(Name="lake-alerts")["TopicArn"]
    inbox = sqs.create_queue(QueueName="lake-alerts-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn, Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, Message="sales load failed")

    aws.client("lambda").create_function(
        FunctionName="echo",
        Runtime="python3.11",
        Role=ROLE,
        Handler="echo_context.handler",
        Timeout=30,
        Code={"ZipFile": zip_folder(FIXTURES / "lambda" / "echo_context")},
        Environment={"Variables": {"GREETING": "xin chao"}},
    )
    aws.client("secretsmanager").create_secret(Name="lake/db", SecretString='{"password": "p"}')
    logs = aws.client("logs")
    logs.create_log_group(logGroupName="/lake/app")
    logs.create_log_stream(logGroupName="/lake/app", logStreamName="s1")
    logs.put_log_events(
        logGroupName="/lake/app",
        logStreamName="s1",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "one"}],
    )
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName="lake-stream", ShardCount=1)
    kinesis.put_record(StreamName="lake-stream", Data=b"r1", PartitionKey="k")
    aws.client("cloudformation").create_stack(
        StackName="lake-stack",
        TemplateBody=json.dumps(
            {"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "cfn-queue"}}}}
        ),
    )
    aws.client("rds").create_db_cluster(
        DBClusterIdentifier="lake-aurora",
        Engine="aurora-postgresql",
        MasterUsername="lake",
        MasterUserPassword="password1",
    )
    aws.client("redshift").create_cluster(
        ClusterIdentifier="lake-warehouse",
        NodeType="dc2.large",
        MasterUsername="lake",
        MasterUserPassword="Password1",
        ClusterType="single-node",
    )


def check(aws: LocalAws) -> None:
    """Everything ``populate`` made is there, with its content."""
    s3, glue, sqs = aws.client("s3"), aws.client("glue"), aws.client("sqs")
    assert {"lake-artifacts", "lake-raw"} <= {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    assert s3.get_bucket_versioning(Bucket="lake-raw")["Status"] == "Enabled"
    notification = s3.get_bucket_notification_configuration(Bucket="lake-raw")["QueueConfigurations"][0]
    assert notification["QueueArn"].endswith(":lake-events")
    assert s3.get_bucket_tagging(Bucket="lake-raw")["TagSet"] == [{"Key": "layer", "Value": "raw"}]
    latest = s3.get_object(Bucket="lake-raw", Key="sales/dt=2024-01-01/part.csv")
    assert latest["Body"].read() == b"id,amount\n1,12\n"
    assert latest["ContentType"] == "text/csv"
    assert latest["Metadata"] == {"source": "pos", "batch": "7"}
    versions = s3.list_object_versions(Bucket="lake-raw", Prefix="sales/")["Versions"]
    assert len(versions) == 2
    oldest = next(version for version in versions if not version["IsLatest"])
    assert (
        s3.get_object(Bucket="lake-raw", Key="sales/dt=2024-01-01/part.csv", VersionId=oldest["VersionId"])[
            "Body"
        ].read()
        == b"id,amount\n1,10\n"
    )
    assert s3.get_object(Bucket="lake-raw", Key="big/blob.bin")["Body"].read() == BIG_BODY
    assert s3.get_object(Bucket="lake-raw", Key="empty")["Body"].read() == b""
    notices = sqs.receive_message(
        QueueUrl=sqs.get_queue_url(QueueName="lake-events")["QueueUrl"], MaxNumberOfMessages=10
    )["Messages"]
    created = [
        unquote(record["s3"]["object"]["key"])
        for notice in notices
        for record in json.loads(notice["Body"]).get("Records", [])
    ]
    assert sorted(created) == ["big/blob.bin", "empty", "sales/dt=2024-01-01/part.csv", "sales/dt=2024-01-01/part.csv"]

    assert glue.get_database(Name="sales_db")["Database"]["Description"] == "the lake"
    table = glue.get_table(DatabaseName="sales_db", Name="sales")["Table"]
    assert [column["Name"] for column in table["StorageDescriptor"]["Columns"]] == ["id", "amount"]
    partitions = glue.get_partitions(DatabaseName="sales_db", TableName="sales")["Partitions"]
    assert sorted(partition["Values"][0] for partition in partitions) == ["2024-01-01", "2024-01-02"]
    assert glue.get_crawler(Name="sales-crawler")["Crawler"]["State"] == "READY"
    runs = glue.get_job_runs(JobName="nap")["JobRuns"]
    assert [run["JobRunState"] for run in runs] == ["SUCCEEDED"]

    assert (
        aws.client("iam").list_attached_role_policies(RoleName="lake-role")["AttachedPolicies"][0]["PolicyName"]
        == "lake-policy"
    )
    inbox = sqs.get_queue_url(QueueName="lake-alerts-inbox")["QueueUrl"]
    assert [message["Body"] for message in sqs.receive_message(QueueUrl=inbox)["Messages"]] == ["sales load failed"]
    assert aws.client("sns").list_subscriptions()["Subscriptions"][0]["Endpoint"].endswith(":lake-alerts-inbox")
    assert aws.client("secretsmanager").get_secret_value(SecretId="lake/db")["SecretString"] == '{"password": "p"}'
    events = aws.client("logs").get_log_events(logGroupName="/lake/app", logStreamName="s1")["events"]
    assert [event["message"] for event in events] == ["one"]
    kinesis = aws.client("kinesis")
    shard = kinesis.describe_stream(StreamName="lake-stream")["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName="lake-stream", ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    assert [record["Data"] for record in kinesis.get_records(ShardIterator=iterator)["Records"]] == [b"r1"]
    stack = aws.client("cloudformation").describe_stacks(StackName="lake-stack")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert sqs.get_queue_url(QueueName="cfn-queue")["QueueUrl"]
    assert (
        aws.client("rds").describe_db_clusters(DBClusterIdentifier="lake-aurora")["DBClusters"][0]["Engine"]
        == "aurora-postgresql"
    )
    assert (
        aws.client("redshift").describe_clusters(ClusterIdentifier="lake-warehouse")["Clusters"][0]["NodeType"]
        == "dc2.large"
    )


def still_computes(aws: LocalAws) -> None:
    """The restored Lambda code, Glue job and crawler run for real on the restarted server."""
    response = aws.client("lambda").invoke(FunctionName="echo", Payload=json.dumps({"bucket": "lake-artifacts"}))
    payload = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, payload
    assert payload["greeting"] == "xin chao" and payload["endpoint"] == aws.endpoint
    glue = aws.client("glue")
    run_id = glue.start_job_run(JobName="nap")["JobRunId"]
    wait_for(
        lambda: glue.get_job_run(JobName="nap", RunId=run_id)["JobRun"]["JobRunState"],
        lambda state: state == "SUCCEEDED",
    )
    glue.start_crawler(Name="sales-crawler")
    crawler = wait_for(
        lambda: glue.get_crawler(Name="sales-crawler")["Crawler"],
        lambda crawler: crawler["State"] == "READY" and "LastCrawl" in crawler,
    )
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED", crawler["LastCrawl"]
    assert glue.get_table(DatabaseName="crawled_db", Name="sales")["Table"]["PartitionKeys"] == [
        {"Name": "dt", "Type": "string"}
    ]


# --- the tests ----------------------------------------------------------------------------------------------------


def test_a_clean_stop_right_after_the_last_change_keeps_every_service_state(servers):
    aws = servers()
    populate(aws)
    aws.stop()  # SIGTERM at once: the final snapshot, not a periodic one, must hold the last changes

    restarted = servers()

    check(restarted)
    still_computes(restarted)
    log = restarted.log_path.read_text()
    assert "local AWS state restored from" in log
    assert "s3: 2 buckets, 5 objects" in log  # the versioned object counts twice: its two versions
    assert "glue: 1 databases, 1 tables, 2 partitions, 1 crawlers, 1 jobs, 1 job runs" in log


def test_kill_9_loses_nothing_the_last_snapshot_covers_and_a_snapshot_follows_each_change_within_the_window(servers):
    aws = servers()
    populate(aws)
    assert_saved_within_the_window(aws)
    aws.client("s3").put_object(Bucket="lake-artifacts", Key="late.csv", Body=b"written after the lake")
    assert_saved_within_the_window(aws)
    aws.kill()

    restarted = servers()

    check(restarted)
    assert restarted.client("s3").get_object(Bucket="lake-artifacts", Key="late.csv")["Body"].read() == (
        b"written after the lake"
    )


def test_a_glue_run_cut_by_a_kill_is_failed_with_a_message_after_the_restart(servers):
    aws = servers()
    s3, glue = aws.client("s3"), aws.client("glue")
    s3.create_bucket(Bucket="lake-artifacts")
    s3.upload_file(str(FIXTURES / "glue" / "sleeps.py"), "lake-artifacts", "scripts/sleeps.py")
    glue.create_job(
        Name="long-nap",
        Role=ROLE,
        GlueVersion="5.0",
        DefaultArguments={"--seconds": "20"},
        Command={"Name": "glueetl", "ScriptLocation": "s3://lake-artifacts/scripts/sleeps.py"},
    )
    run_id = glue.start_job_run(JobName="long-nap")["JobRunId"]
    wait_for(
        lambda: glue.get_job_run(JobName="long-nap", RunId=run_id)["JobRun"]["JobRunState"],
        lambda state: state == "RUNNING",
    )
    wait_until_saved(aws)
    aws.kill()
    _end_orphaned_script(run_id)

    restarted = servers()

    run = restarted.client("glue").get_job_run(JobName="long-nap", RunId=run_id)["JobRun"]
    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"].startswith("Interrupted: the local AWS server stopped while this was running")
    assert "1 Glue job runs" in restarted.log_path.read_text()


def test_a_redshift_statement_cut_by_a_kill_is_failed_with_a_message_after_the_restart(servers):
    aws = servers()
    statement = aws.client("redshift-data").execute_statement(
        ClusterIdentifier="lake-warehouse", Database="dev", DbUser="lake", Sql="SELECT pg_sleep(15)"
    )["Id"]
    wait_for(
        lambda: aws.client("redshift-data").describe_statement(Id=statement)["Status"], lambda state: state == "STARTED"
    )
    wait_until_saved(aws)
    aws.kill()

    restarted = servers()

    described = restarted.client("redshift-data").describe_statement(Id=statement)
    assert described["Status"] == "FAILED"
    assert described["Error"].startswith("Interrupted: the local AWS server stopped while this was running")
    finished = restarted.client("redshift-data").execute_statement(
        ClusterIdentifier="lake-warehouse", Database="dev", DbUser="lake", Sql="SELECT 1"
    )["Id"]
    assert (
        wait_for(
            lambda: restarted.client("redshift-data").describe_statement(Id=finished)["Status"],
            lambda state: state not in ("SUBMITTED", "PICKED", "STARTED"),
        )
        == "FINISHED"
    )


def test_state_saved_by_another_moto_version_stops_the_start_naming_the_file_and_fresh_starts_empty(servers):
    aws = servers()
    aws.client("s3").create_bucket(Bucket="lake-raw")
    aws.stop()
    snapshot = aws.state_dir / "saved" / "snapshot.bin"
    magic, header, payload = snapshot.read_bytes().split(b"\n", 2)
    header = json.loads(header)
    snapshot.write_bytes(b"\n".join([magic, json.dumps({**header, "moto": "4.0.0"}).encode(), payload]))

    with pytest.raises(RuntimeError) as refused:
        servers()
    assert f"{snapshot} was saved by moto 4.0.0" in str(refused.value)
    assert "--fresh" in str(refused.value)

    fresh = servers("--fresh")
    assert fresh.client("s3").list_buckets()["Buckets"] == []
    assert "saved state in" in fresh.log_path.read_text() and "deleted" in fresh.log_path.read_text()


def test_a_second_server_on_the_same_state_folder_is_refused(servers):
    servers()
    with pytest.raises(RuntimeError, match=r"is in use by local AWS server pid \d+"):
        servers()


def test_make_down_then_make_up_keeps_the_lake(tmp_path, monkeypatch, postgres_server_dsn):
    """The reported symptom, through the platform's own start and stop of local AWS (``down``: SIGTERM to the
    server's process group, SIGKILL 20 s later), on the platform's state folder."""
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("LOCAL_AWS_PORT", str(free_port()))
    platform = LocalPlatform()
    platform.state_dir.mkdir(parents=True)
    try:
        platform.start_aws(postgres_server_dsn)
        aws = LocalAws(platform.aws_endpoint, "local", None, platform.state_dir / "aws", Path("/dev/null"))
        aws.client("s3").create_bucket(Bucket="retail-raw-local")
        aws.client("s3").put_object(Bucket="retail-raw-local", Key="sales/2024-01-01.csv", Body=b"id\n1\n")
        aws.client("glue").create_database(DatabaseInput={"Name": "retail_raw"})
        aws.client("glue").create_table(
            DatabaseName="retail_raw",
            TableInput={"Name": "sales", "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "int"}]}},
        )

        assert _down(platform) == 0  # exited by itself on SIGTERM, not killed 20 s later
        platform.start_aws(postgres_server_dsn)

        assert (
            aws.client("s3").get_object(Bucket="retail-raw-local", Key="sales/2024-01-01.csv")["Body"].read()
            == b"id\n1\n"
        )
        table = aws.client("glue").get_table(DatabaseName="retail_raw", Name="sales")["Table"]
        assert table["StorageDescriptor"]["Columns"] == [{"Name": "id", "Type": "int"}]
        assert (platform.state_dir / "aws" / "saved" / "snapshot.bin").exists()
    finally:
        _down(platform)


def _down(platform: LocalPlatform) -> int | None:
    """``platform.down()``; the server's exit code, which only this process can read: the server is its child
    (``make down`` is never its parent)."""
    pid = processes.read_pid(platform.aws_pid)
    if pid is None:
        return None
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        exit_code = executor.submit(lambda: os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
        assert platform.down() == ["local AWS"]
        return exit_code.result(timeout=30)


def _drop_databases(server_dsn: str, prefix: str) -> None:
    import psycopg2

    from local_platform.postgres import drop_database

    with psycopg2.connect(server_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix.replace("_", r"\_") + "%",))
        names = [row[0] for row in cur.fetchall()]
    conn.close()
    for name in names:
        drop_database(server_dsn, name)


def _end_orphaned_script(run_id: str) -> None:
    """The run's script outlives a kill -9 of the server (its own session, as on a real crash); end it by pid."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if run_id.encode() in command:
                os.kill(int(entry.name), 9)
