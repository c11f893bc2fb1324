"""The local MWAA API through boto3's ``mwaa`` client: what make deploy calls (update_environment with new
plugins/requirements versions, get_environment until AVAILABLE) and the checks AWS makes first."""

from __future__ import annotations

import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.helpers.platform import ensure_bucket, ensure_role


def wait_for(mwaa, name: str, wanted: str) -> dict:
    for _ in range(100):
        environment = mwaa.get_environment(Name=name)["Environment"]
        if environment["Status"] == wanted:
            return environment
        time.sleep(0.1)
    raise AssertionError(f"{name} never became {wanted}: {environment['Status']}")


@pytest.fixture
def source(local_aws):
    """A versioned source bucket holding a DAG, plugins.zip and requirements.txt; an execution role."""
    token = uuid.uuid4().hex[:8]
    role = ensure_role(local_aws, f"arn:aws:iam::123456789012:role/mwaa-{token}")
    bucket = ensure_bucket(local_aws, f"airflow-api-{token}")
    s3 = local_aws.client("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="dags/pipeline.py", Body=b"# a DAG\n")
    versions = {
        key: s3.put_object(Bucket=bucket, Key=key, Body=b"v1")["VersionId"]
        for key in ("plugins.zip", "requirements.txt")
    }
    return {"token": token, "role": role, "bucket": bucket, "versions": versions}


def create_arguments(source: dict, **overrides) -> dict:
    """CreateEnvironment's arguments; an override of None leaves the member out."""
    arguments = {
        "Name": f"api-{source['token']}",
        "ExecutionRoleArn": source["role"],
        "SourceBucketArn": f"arn:aws:s3:::{source['bucket']}",
        "DagS3Path": "dags",
        "PluginsS3Path": "plugins.zip",
        "PluginsS3ObjectVersion": source["versions"]["plugins.zip"],
        "RequirementsS3Path": "requirements.txt",
        "RequirementsS3ObjectVersion": source["versions"]["requirements.txt"],
        "NetworkConfiguration": {"SubnetIds": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-a"]},
        "AirflowVersion": "3.3.1",
        "EnvironmentClass": "mw1.small",
        "AirflowConfigurationOptions": {"secrets.backend": "x.y.Backend"},
        "WebserverAccessMode": "PUBLIC_ONLY",
        **overrides,
    }
    return {key: value for key, value in arguments.items() if value is not None}


def test_an_environment_is_created_updated_with_new_package_versions_and_deleted(local_aws, source):
    mwaa, s3 = local_aws.client("mwaa"), local_aws.client("s3")
    name = f"api-{source['token']}"

    arn = mwaa.create_environment(**create_arguments(source))["Arn"]

    assert arn == f"arn:aws:airflow:us-east-1:123456789012:environment/{name}"
    assert mwaa.get_environment(Name=name)["Environment"]["Status"] == "CREATING"
    environment = wait_for(mwaa, name, "AVAILABLE")
    assert (environment["ExecutionRoleArn"], environment["SourceBucketArn"], environment["DagS3Path"]) == (
        source["role"],
        f"arn:aws:s3:::{source['bucket']}",
        "dags",
    )
    assert environment["AirflowConfigurationOptions"] == {"secrets.backend": "x.y.Backend"}
    assert environment["NetworkConfiguration"]["SubnetIds"] == ["subnet-a", "subnet-b"]
    assert environment["WebserverUrl"].endswith(".us-east-1.airflow.amazonaws.com")
    assert name in mwaa.list_environments()["Environments"]

    new_version = s3.put_object(Bucket=source["bucket"], Key="plugins.zip", Body=b"v2")["VersionId"]
    mwaa.update_environment(
        Name=name,
        DagS3Path="dags",
        PluginsS3Path="plugins.zip",
        PluginsS3ObjectVersion=new_version,
        RequirementsS3Path="requirements.txt",
        RequirementsS3ObjectVersion=source["versions"]["requirements.txt"],
    )

    updating = mwaa.get_environment(Name=name)["Environment"]
    assert (updating["Status"], updating["LastUpdate"]["Status"]) == ("UPDATING", "PENDING")
    with pytest.raises(ClientError, match="ValidationException.*UPDATING"):
        mwaa.update_environment(Name=name, MaxWorkers=3)
    environment = wait_for(mwaa, name, "AVAILABLE")
    assert environment["PluginsS3ObjectVersion"] == new_version
    assert (environment["LastUpdate"]["Status"], environment["LastUpdate"]["Source"]) == ("SUCCESS", "API")
    assert environment["AirflowConfigurationOptions"] == {"secrets.backend": "x.y.Backend"}  # untouched

    mwaa.delete_environment(Name=name)
    assert mwaa.get_environment(Name=name)["Environment"]["Status"] == "DELETING"
    for _ in range(100):
        try:
            mwaa.get_environment(Name=name)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ResourceNotFoundException"
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the environment was never deleted")
    assert name not in mwaa.list_environments()["Environments"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"ExecutionRoleArn": "arn:aws:iam::123456789012:role/missing"}, "Execution role .* does not exist"),
        ({"SourceBucketArn": "arn:aws:s3:::no-such-bucket"}, "Source bucket no-such-bucket does not exist"),
        ({"DagS3Path": "elsewhere"}, "DagS3Path .*elsewhere/ holds no object"),
        ({"PluginsS3ObjectVersion": "not-a-version"}, "plugins.zip version not-a-version does not exist"),
        ({"RequirementsS3Path": "missing.txt", "RequirementsS3ObjectVersion": None}, "missing.txt does not exist"),
        ({"Name": "1-starts-with-a-digit"}, "regular expression"),
    ],
)
def test_create_is_refused_with_a_validation_error_naming_the_problem(local_aws, source, overrides, message):
    mwaa = local_aws.client("mwaa")
    arguments = create_arguments(source, **overrides)
    with pytest.raises(ClientError, match=message) as raised:
        mwaa.create_environment(**arguments)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        mwaa.get_environment(Name=arguments["Name"])


def test_a_source_bucket_without_versioning_is_refused(local_aws, source):
    unversioned = ensure_bucket(local_aws, f"airflow-plain-{source['token']}")
    local_aws.client("s3").put_object(Bucket=unversioned, Key="dags/a.py", Body=b"")
    with pytest.raises(ClientError, match="must have versioning enabled"):
        local_aws.client("mwaa").create_environment(
            **create_arguments(
                source,
                SourceBucketArn=f"arn:aws:s3:::{unversioned}",
                PluginsS3Path=None,
                PluginsS3ObjectVersion=None,
                RequirementsS3Path=None,
                RequirementsS3ObjectVersion=None,
            )
        )


def test_unknown_environments_are_not_found(local_aws):
    mwaa = local_aws.client("mwaa")
    for call in (
        lambda: mwaa.get_environment(Name="nowhere"),
        lambda: mwaa.delete_environment(Name="nowhere"),
        lambda: mwaa.update_environment(Name="nowhere", MaxWorkers=2),
    ):
        with pytest.raises(ClientError, match="ResourceNotFoundException"):
            call()


def test_a_plain_boto3_client_works_with_host_prefix_injection_disabled_by_environment(local_aws, monkeypatch):
    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    client = boto3.client("mwaa", endpoint_url=local_aws.endpoint, region_name="us-east-1")
    assert isinstance(client.list_environments()["Environments"], list)
