"""`make deploy` (deploy/push.py) against the local endpoint, whose MWAA API and S3 stand in for AWS: the first
release uploads the package before the environment exists, later releases sync DAGs and update the environment
only when plugins or requirements change."""

from __future__ import annotations

import pytest

from deploy import package, push
from deploy.stacks import STACKS, Deployer, session_for


@pytest.fixture
def no_environment(local_aws, stacks):
    """The session's MWAA stack removed, so that the release starts from nothing."""
    cloudformation = local_aws.client("cloudformation")
    cloudformation.delete_stack(StackName=STACKS["mwaa"].stack_name)
    cloudformation.get_waiter("stack_delete_complete").wait(
        StackName=STACKS["mwaa"].stack_name, WaiterConfig={"Delay": 1}
    )
    return stacks["shared"]["AirflowSourceBucket"]


def test_first_release_then_updates_only_when_plugins_or_requirements_change(local_aws, no_environment, tmp_path):
    session = session_for(local_aws.endpoint)
    s3 = local_aws.client("s3")
    built = package.build(tmp_path / "mwaa")

    first = push.deploy(session, "etl-pipelines", built, local_aws.endpoint, poll_s=0.2)

    assert first["environment_missing"] and first["bucket"] == no_environment
    uploaded = {item["Key"] for item in s3.list_objects_v2(Bucket=no_environment, Prefix="dags/")["Contents"]}
    assert {"dags/retail_analytics.py", "dags/.airflowignore", "dags/include/sql/retail_analytics/ddl.sql"} <= uploaded

    Deployer(endpoint_url=local_aws.endpoint, log=lambda _: None).deploy(["mwaa"])
    unchanged = push.deploy(session, "etl-pipelines", built, local_aws.endpoint, poll_s=0.2)
    assert (unchanged["uploaded"], unchanged["deleted"], unchanged["environment_updated"]) == ([], [], [])

    (built.dags / "csv_lake.py").unlink()
    (built.dags / "new_dag.py").write_text("# a new DAG file\n")
    built.requirements.write_text(built.requirements.read_text() + "# changed\n")
    updated = push.deploy(session, "etl-pipelines", built, local_aws.endpoint, poll_s=0.2)

    assert (updated["uploaded"], updated["deleted"]) == (["dags/new_dag.py"], ["dags/csv_lake.py"])
    assert updated["environment_updated"] == ["RequirementsS3ObjectVersion"]
    environment = local_aws.client("mwaa").get_environment(Name="etl-pipelines")["Environment"]
    assert environment["Status"] == "AVAILABLE"
    assert (
        environment["RequirementsS3ObjectVersion"]
        == s3.head_object(Bucket=no_environment, Key="requirements.txt")["VersionId"]
    )
