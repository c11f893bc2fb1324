import json

from local_platform.provision import Provisioner, load_declaration
from tests.helpers.alerts import drain_alerts


def test_provisioning_twice_is_idempotent_and_alert_topic_is_readable(local_aws, tmp_path):
    import boto3

    session = boto3.session.Session(region_name="us-east-1")
    declaration = {
        "buckets": ["provision-test-bucket"],
        "topics": ["arn:aws:sns:us-east-1:123456789012:etl-pipeline-alerts"],
        "roles": ["arn:aws:iam::123456789012:role/provision-test-role"],
    }
    for _ in range(2):
        Provisioner(session, local_aws.endpoint, local=True).apply(declaration)

    s3 = local_aws.client("s3")
    assert "provision-test-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    sns = local_aws.client("sns")
    topic_arn = declaration["topics"][0]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert len(subscriptions) == 1
    drain_alerts(local_aws)
    sns.publish(TopicArn=topic_arn, Subject="hello", Message=json.dumps({"event": "test"}))
    assert drain_alerts(local_aws) == [{"subject": "hello", "event": "test"}]


def test_declarations_resolve_variables_from_settings():
    # Every declared pipeline resolves without unknown ${...} references.
    from local_platform.provision import all_pipelines

    for pipeline in all_pipelines():
        declaration = load_declaration(pipeline)
        assert "${" not in json.dumps(declaration), pipeline
