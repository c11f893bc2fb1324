"""CloudFormation on the local server: each resource type the local platform registers, created, updated and
deleted through a stack, and what a stack does as a whole (unknown types, failures, rollbacks)."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import yaml
from botocore.exceptions import ClientError

from tests.helpers.platform import ensure_bucket, ensure_role


def template(resources: dict, outputs: dict | None = None, **sections) -> str:
    body = {"AWSTemplateFormatVersion": "2010-09-09", **sections, "Resources": resources}
    if outputs:
        body["Outputs"] = {key: {"Value": value} for key, value in outputs.items()}
    return yaml.safe_dump(body, sort_keys=False)


class Stacks:
    def __init__(self, local_aws):
        self.cfn = local_aws.client("cloudformation")

    def wait(self, name: str) -> dict:
        for _ in range(300):
            stack = self.cfn.describe_stacks(StackName=name)["Stacks"][0]
            if not stack["StackStatus"].endswith("_IN_PROGRESS"):
                return stack
            time.sleep(0.1)
        raise AssertionError(f"{name} still in progress")

    def create(self, name: str, body: str, **parameters) -> dict:
        self.cfn.create_stack(
            StackName=name,
            TemplateBody=body,
            Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        )
        return self.wait(name)

    def update(self, name: str, body: str, **parameters) -> dict:
        self.cfn.update_stack(
            StackName=name,
            TemplateBody=body,
            Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        )
        return self.wait(name)

    def delete(self, name: str) -> str:
        self.cfn.delete_stack(StackName=name)
        try:
            return self.wait(name)["StackStatus"]
        except ClientError as exc:
            assert "does not exist" in str(exc)
            return "DELETE_COMPLETE"

    @staticmethod
    def outputs(stack: dict) -> dict:
        return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs") or []}


@pytest.fixture
def stacks(local_aws):
    return Stacks(local_aws)


@pytest.fixture
def token():
    return uuid.uuid4().hex[:8]


def status(stack: dict) -> str:
    return stack["StackStatus"]


# --- Glue ---------------------------------------------------------------------------------------------------


def glue_template(token: str, description: str, path: str, timeout: int, with_job_argument: bool) -> str:
    role = ensure_role_arn(token)
    arguments = {"--job-language": "python", **({"--extra": "yes"} if with_job_argument else {})}
    return template(
        {
            "Database": {
                "Type": "AWS::Glue::Database",
                "Properties": {
                    "CatalogId": {"Ref": "AWS::AccountId"},
                    "DatabaseInput": {"Name": f"cfn_{token}", "Description": description},
                },
            },
            "Crawler": {
                "Type": "AWS::Glue::Crawler",
                "Properties": {
                    "Name": f"cfn_{token}_crawler",
                    "Role": role,
                    "DatabaseName": {"Ref": "Database"},
                    "Description": description,
                    "Targets": {"S3Targets": [{"Path": path}]},
                    "SchemaChangePolicy": {"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"},
                },
            },
            "Job": {
                "Type": "AWS::Glue::Job",
                "Properties": {
                    "Name": f"cfn_{token}_job",
                    "Role": role,
                    "GlueVersion": "5.0",
                    "Timeout": timeout,
                    "Command": {"Name": "glueetl", "ScriptLocation": f"s3://cfn-{token}/job.py"},
                    "DefaultArguments": arguments,
                },
            },
        },
        outputs={"Database": {"Ref": "Database"}, "Crawler": {"Ref": "Crawler"}, "Job": {"Ref": "Job"}},
    )


def ensure_role_arn(token: str) -> str:
    return f"arn:aws:iam::123456789012:role/cfn-test-{token}"


def test_glue_database_crawler_and_job_are_created_updated_and_deleted(local_aws, stacks, token):
    ensure_role(local_aws, ensure_role_arn(token))
    bucket = ensure_bucket(local_aws, f"cfn-{token}")
    s3, glue = local_aws.client("s3"), local_aws.client("glue")
    s3.put_object(Bucket=bucket, Key="sales/dt=2024-01-01/sales.csv", Body=b"category,amount\nfruit,3\nveg,5\n")
    name = f"glue-{token}"

    created = stacks.create(name, glue_template(token, "first", f"s3://{bucket}/sales/", 10, False))

    assert status(created) == "CREATE_COMPLETE", created.get("StackStatusReason")
    assert Stacks.outputs(created) == {
        "Database": f"cfn_{token}",
        "Crawler": f"cfn_{token}_crawler",
        "Job": f"cfn_{token}_job",
    }
    assert glue.get_database(Name=f"cfn_{token}")["Database"]["Description"] == "first"
    crawler = glue.get_crawler(Name=f"cfn_{token}_crawler")["Crawler"]
    assert (crawler["DatabaseName"], crawler["Targets"]["S3Targets"][0]["Path"]) == (
        f"cfn_{token}",
        f"s3://{bucket}/sales/",
    )
    job = glue.get_job(JobName=f"cfn_{token}_job")["Job"]
    assert (job["Timeout"], job["Command"]["ScriptLocation"]) == (10, f"s3://{bucket}/job.py")
    # The crawler the stack made is the one the local compute runs: it crawls and writes the catalog.
    glue.start_crawler(Name=f"cfn_{token}_crawler")
    for _ in range(100):
        if glue.get_crawler(Name=f"cfn_{token}_crawler")["Crawler"]["State"] == "READY":
            break
        time.sleep(0.2)
    table = glue.get_table(DatabaseName=f"cfn_{token}", Name="sales")["Table"]
    assert [column["Name"] for column in table["StorageDescriptor"]["Columns"]] == ["category", "amount"]

    updated = stacks.update(name, glue_template(token, "second", f"s3://{bucket}/other/", 20, True))

    assert status(updated) == "UPDATE_COMPLETE", updated.get("StackStatusReason")
    assert glue.get_database(Name=f"cfn_{token}")["Database"]["Description"] == "second"
    assert (
        glue.get_crawler(Name=f"cfn_{token}_crawler")["Crawler"]["Targets"]["S3Targets"][0]["Path"]
        == f"s3://{bucket}/other/"
    )
    job = glue.get_job(JobName=f"cfn_{token}_job")["Job"]
    assert (job["Timeout"], job["DefaultArguments"]) == (20, {"--job-language": "python", "--extra": "yes"})

    assert stacks.delete(name) == "DELETE_COMPLETE"
    for call, kwargs in (
        (glue.get_database, {"Name": f"cfn_{token}"}),
        (glue.get_crawler, {"Name": f"cfn_{token}_crawler"}),
        (glue.get_job, {"JobName": f"cfn_{token}_job"}),
    ):
        with pytest.raises(ClientError, match="EntityNotFound"):
            call(**kwargs)


# --- Secrets Manager --------------------------------------------------------------------------------------


def secret_template(token: str, value: str, length: int) -> str:
    return template(
        {
            "Plain": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {"Name": f"cfn/{token}/plain", "SecretString": value},
            },
            "Generated": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {
                    "Name": f"cfn/{token}/generated",
                    "GenerateSecretString": {
                        "SecretStringTemplate": '{"username": "admin"}',
                        "GenerateStringKey": "password",
                        "PasswordLength": length,
                        "ExcludeCharacters": "\"@/\\'",
                    },
                },
            },
            # A dynamic reference resolves to the generated password, as RDS's MasterUserPassword does.
            "Copy": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {
                    "Name": f"cfn/{token}/copy",
                    "SecretString": {"Fn::Sub": "{{resolve:secretsmanager:${Generated}:SecretString:password}}"},
                },
            },
        },
        outputs={"PlainArn": {"Ref": "Plain"}},
    )


def test_secrets_hold_given_and_generated_values_through_updates_and_go_with_the_stack(local_aws, stacks, token):
    secrets = local_aws.client("secretsmanager")
    name = f"secrets-{token}"

    created = stacks.create(name, secret_template(token, "one", 24))

    assert status(created) == "CREATE_COMPLETE", created.get("StackStatusReason")
    plain = secrets.get_secret_value(SecretId=f"cfn/{token}/plain")
    assert (plain["SecretString"], plain["ARN"]) == ("one", Stacks.outputs(created)["PlainArn"])
    generated = json.loads(secrets.get_secret_value(SecretId=f"cfn/{token}/generated")["SecretString"])
    assert generated["username"] == "admin" and len(generated["password"]) == 24
    assert not set("\"@/\\'") & set(generated["password"])
    assert secrets.get_secret_value(SecretId=f"cfn/{token}/copy")["SecretString"] == generated["password"]

    stacks.update(name, secret_template(token, "two", 24))

    assert secrets.get_secret_value(SecretId=f"cfn/{token}/plain")["SecretString"] == "two"
    kept = json.loads(secrets.get_secret_value(SecretId=f"cfn/{token}/generated")["SecretString"])
    assert kept == generated  # same generation settings: the password is not generated again

    stacks.update(name, secret_template(token, "two", 40))
    assert (
        len(json.loads(secrets.get_secret_value(SecretId=f"cfn/{token}/generated")["SecretString"])["password"]) == 40
    )

    assert stacks.delete(name) == "DELETE_COMPLETE"
    with pytest.raises(ClientError, match="ResourceNotFound"):
        secrets.get_secret_value(SecretId=f"cfn/{token}/plain")
    assert status(stacks.create(name, secret_template(token, "again", 24))) == "CREATE_COMPLETE"
    stacks.delete(name)


# --- RDS ------------------------------------------------------------------------------------------------------


def cluster_template(token: str, retention: int) -> str:
    return template(
        {
            "Credentials": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {
                    "Name": f"cfn/{token}/db",
                    "GenerateSecretString": {
                        "SecretStringTemplate": '{"username": "owner"}',
                        "GenerateStringKey": "password",
                        "PasswordLength": 20,
                        "ExcludeCharacters": "\"@/\\'",
                    },
                },
            },
            "Cluster": {
                "Type": "AWS::RDS::DBCluster",
                "Properties": {
                    "DBClusterIdentifier": f"cfn-{token}",
                    "Engine": "aurora-postgresql",
                    "EngineVersion": "16.6",
                    "DatabaseName": "app",
                    "StorageEncrypted": True,
                    "BackupRetentionPeriod": retention,
                    "MasterUsername": {"Fn::Sub": "{{resolve:secretsmanager:${Credentials}:SecretString:username}}"},
                    "MasterUserPassword": {
                        "Fn::Sub": "{{resolve:secretsmanager:${Credentials}:SecretString:password}}"
                    },
                    "ServerlessV2ScalingConfiguration": {"MinCapacity": 0, "MaxCapacity": 2},
                },
            },
            "Writer": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {
                    "DBInstanceIdentifier": f"cfn-{token}-writer",
                    "DBClusterIdentifier": {"Ref": "Cluster"},
                    "DBInstanceClass": "db.serverless",
                    "Engine": "aurora-postgresql",
                },
            },
        },
        outputs={
            "Endpoint": {"Fn::GetAtt": ["Cluster", "Endpoint.Address"]},
            "Port": {"Fn::GetAtt": ["Cluster", "Endpoint.Port"]},
        },
    )


def test_aurora_cluster_is_available_startable_stoppable_updated_and_deleted(local_aws, stacks, token):
    rds = local_aws.client("rds")
    name = f"aurora-{token}"

    created = stacks.create(name, cluster_template(token, 7))

    assert status(created) == "CREATE_COMPLETE", created.get("StackStatusReason")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=f"cfn-{token}")["DBClusters"][0]
    assert (cluster["Status"], cluster["MasterUsername"], cluster["BackupRetentionPeriod"]) == ("available", "owner", 7)
    assert [member["DBInstanceIdentifier"] for member in cluster["DBClusterMembers"]] == [f"cfn-{token}-writer"]
    assert Stacks.outputs(created) == {"Endpoint": cluster["Endpoint"], "Port": "5432"}
    # What the vn_stock DAG does with it.
    rds.stop_db_cluster(DBClusterIdentifier=f"cfn-{token}")
    assert rds.describe_db_clusters(DBClusterIdentifier=f"cfn-{token}")["DBClusters"][0]["Status"] == "stopped"
    rds.start_db_cluster(DBClusterIdentifier=f"cfn-{token}")
    assert rds.describe_db_clusters(DBClusterIdentifier=f"cfn-{token}")["DBClusters"][0]["Status"] == "available"

    assert status(stacks.update(name, cluster_template(token, 14))) == "UPDATE_COMPLETE"
    assert rds.describe_db_clusters(DBClusterIdentifier=f"cfn-{token}")["DBClusters"][0]["BackupRetentionPeriod"] == 14

    assert stacks.delete(name) == "DELETE_COMPLETE"
    with pytest.raises(ClientError, match="DBClusterNotFound"):
        rds.describe_db_clusters(DBClusterIdentifier=f"cfn-{token}")
    with pytest.raises(ClientError, match="DBInstanceNotFound"):
        rds.describe_db_instances(DBInstanceIdentifier=f"cfn-{token}-writer")


# --- SNS subscriptions ---------------------------------------------------------------------------------------


def subscription_template(token: str, raw: bool, email: str) -> str:
    return template(
        {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"cfn-{token}"}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"cfn-{token}"}},
            "ToQueue": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "TopicArn": {"Ref": "Topic"},
                    "Protocol": "sqs",
                    "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]},
                    "RawMessageDelivery": raw,
                },
            },
            "ToEmail": {
                "Type": "AWS::SNS::Subscription",
                "Condition": "HasEmail",
                "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": "email", "Endpoint": {"Ref": "Email"}},
            },
        },
        Parameters={"Email": {"Type": "String", "Default": email}},
        Conditions={"HasEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Email"}, ""]}]}},
    )


def test_subscriptions_deliver_follow_their_attributes_and_the_email_condition(local_aws, stacks, token):
    sns, sqs = local_aws.client("sns"), local_aws.client("sqs")
    name = f"sns-{token}"
    topic_arn = f"arn:aws:sns:us-east-1:123456789012:cfn-{token}"

    assert status(stacks.create(name, subscription_template(token, True, ""))) == "CREATE_COMPLETE"

    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert [subscription["Protocol"] for subscription in subscriptions] == ["sqs"]  # no e-mail: condition false
    queue_url = sqs.get_queue_url(QueueName=f"cfn-{token}")["QueueUrl"]
    sns.publish(TopicArn=topic_arn, Message="hello")
    [message] = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert message["Body"] == "hello"  # RawMessageDelivery

    stacks.update(name, subscription_template(token, False, "ops@example.com"))

    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert sorted((s["Protocol"], s["Endpoint"]) for s in subscriptions) == [
        ("email", "ops@example.com"),
        ("sqs", f"arn:aws:sqs:us-east-1:123456789012:cfn-{token}"),
    ]
    sqs_arn = next(s["SubscriptionArn"] for s in subscriptions if s["Protocol"] == "sqs")
    assert sns.get_subscription_attributes(SubscriptionArn=sqs_arn)["Attributes"]["RawMessageDelivery"] == "false"

    assert stacks.delete(name) == "DELETE_COMPLETE"
    assert [s for s in sns.list_subscriptions()["Subscriptions"] if s["TopicArn"] == topic_arn] == []


# --- Redshift Serverless -------------------------------------------------------------------------------------


def warehouse_template(token: str, capacity: int, namespace: str | None = None) -> str:
    return template(
        {
            "Namespace": {
                "Type": "AWS::RedshiftServerless::Namespace",
                "Properties": {"NamespaceName": f"cfn-{token}", "DbName": "dev", "ManageAdminPassword": True},
            },
            "Workgroup": {
                "Type": "AWS::RedshiftServerless::Workgroup",
                "Properties": {
                    "WorkgroupName": f"cfn-{token}",
                    "NamespaceName": namespace or {"Ref": "Namespace"},
                    "BaseCapacity": capacity,
                },
            },
        },
        outputs={
            "Workgroup": {"Ref": "Workgroup"},
            "WorkgroupArn": {"Fn::GetAtt": ["Workgroup", "Workgroup.WorkgroupArn"]},
        },
    )


def test_redshift_serverless_workgroup_resolves_needs_its_namespace_and_runs_sql(local_aws, stacks, token):
    name = f"redshift-{token}"

    created = stacks.create(name, warehouse_template(token, 8))

    assert status(created) == "CREATE_COMPLETE", created.get("StackStatusReason")
    outputs = Stacks.outputs(created)
    assert outputs["Workgroup"] == f"cfn-{token}"
    assert outputs["WorkgroupArn"].startswith("arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/")
    data_api = local_aws.client("redshift-data")
    statement = data_api.execute_statement(WorkgroupName=f"cfn-{token}", Database="dev", Sql="SELECT 41 + 1")
    for _ in range(100):
        described = data_api.describe_statement(Id=statement["Id"])
        if described["Status"] in ("FINISHED", "FAILED"):
            break
        time.sleep(0.1)
    assert data_api.get_statement_result(Id=statement["Id"])["Records"] == [[{"longValue": 42}]]
    assert status(stacks.update(name, warehouse_template(token, 16))) == "UPDATE_COMPLETE"
    assert stacks.delete(name) == "DELETE_COMPLETE"

    orphan = stacks.create(
        f"{name}-orphan",
        warehouse_template(f"{token}b", 8, namespace="no-such-namespace").replace(
            "      NamespaceName: cfn-", "      NamespaceName: unused-", 1
        ),
    )
    assert status(orphan) == "ROLLBACK_COMPLETE"
    assert "namespace no-such-namespace does not exist" in orphan["StackStatusReason"]
    stacks.delete(f"{name}-orphan")


# --- MWAA -----------------------------------------------------------------------------------------------------


def environment_template(token: str, max_workers: int) -> str:
    return template(
        {
            "Environment": {
                "Type": "AWS::MWAA::Environment",
                "Properties": {
                    "Name": f"cfn-{token}",
                    "AirflowVersion": "3.3.1",
                    "MaxWorkers": max_workers,
                    "ExecutionRoleArn": ensure_role_arn(token),
                    "SourceBucketArn": f"arn:aws:s3:::airflow-cfn-{token}",
                    "DagS3Path": "dags",
                    "RequirementsS3Path": "requirements.txt",
                    "NetworkConfiguration": {"SubnetIds": ["subnet-1", "subnet-2"], "SecurityGroupIds": ["sg-1"]},
                    "AirflowConfigurationOptions": {"core.default_timezone": "utc"},
                },
            }
        },
        outputs={"Arn": {"Fn::GetAtt": ["Environment", "Arn"]}, "Url": {"Fn::GetAtt": ["Environment", "WebserverUrl"]}},
    )


def test_mwaa_environment_is_validated_created_updated_and_deleted(local_aws, stacks, token):
    ensure_role(local_aws, ensure_role_arn(token))
    s3 = local_aws.client("s3")
    bucket = ensure_bucket(local_aws, f"airflow-cfn-{token}")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="requirements.txt", Body=b"holidays\n")
    mwaa = local_aws.client("mwaa")
    name = f"mwaa-{token}"

    failed = stacks.create(name, environment_template(token, 2))  # no DAG folder yet
    assert status(failed) == "ROLLBACK_COMPLETE"
    assert "DagS3Path" in failed["StackStatusReason"] and "Environment" in failed["StackStatusReason"]
    stacks.delete(name)

    s3.put_object(Bucket=bucket, Key="dags/example.py", Body=b"# a DAG\n")
    created = stacks.create(name, environment_template(token, 2))

    assert status(created) == "CREATE_COMPLETE", created.get("StackStatusReason")
    environment = mwaa.get_environment(Name=f"cfn-{token}")["Environment"]
    assert (environment["Status"], environment["MaxWorkers"], environment["AirflowVersion"]) == (
        "AVAILABLE",
        2,
        "3.3.1",
    )
    assert environment["AirflowConfigurationOptions"] == {"core.default_timezone": "utc"}
    assert Stacks.outputs(created) == {"Arn": environment["Arn"], "Url": environment["WebserverUrl"]}

    assert status(stacks.update(name, environment_template(token, 5))) == "UPDATE_COMPLETE"
    environment = mwaa.get_environment(Name=f"cfn-{token}")["Environment"]
    assert (environment["Status"], environment["MaxWorkers"]) == ("AVAILABLE", 5)
    assert (environment["LastUpdate"]["Status"], environment["LastUpdate"]["Source"]) == ("SUCCESS", "CLOUDFORMATION")

    assert stacks.delete(name) == "DELETE_COMPLETE"
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        mwaa.get_environment(Name=f"cfn-{token}")


# --- bucket and role properties moto ignores ---------------------------------------------------------------------


def bucket_template(token: str, days: int, policies: list) -> str:
    return template(
        {
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": f"cfn-props-{token}",
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "LifecycleConfiguration": {
                        "Rules": [
                            {"Id": "landing", "Status": "Enabled", "Prefix": "landing/", "ExpirationInDays": days}
                        ]
                    },
                },
            },
            "Read": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "ManagedPolicyName": f"cfn-read-{token}",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::Sub": "${Bucket.Arn}/*"}}
                        ],
                    },
                },
            },
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": f"cfn-role-{token}",
                    "ManagedPolicyArns": policies,
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "glue.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    },
                },
            },
        }
    )


def test_bucket_access_block_lifecycle_versioning_and_role_managed_policies_follow_the_template(
    local_aws, stacks, token
):
    s3, iam = local_aws.client("s3"), local_aws.client("iam")
    name = f"props-{token}"

    assert status(stacks.create(name, bucket_template(token, 30, [{"Ref": "Read"}]))) == "CREATE_COMPLETE"

    bucket = f"cfn-props-{token}"
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    [rule] = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert (rule["Filter"], rule["Expiration"]) == ({"Prefix": "landing/"}, {"Days": 30})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    attached = iam.list_attached_role_policies(RoleName=f"cfn-role-{token}")["AttachedPolicies"]
    assert [policy["PolicyName"] for policy in attached] == [f"cfn-read-{token}"]

    stacks.update(name, bucket_template(token, 60, []))

    [rule] = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["Expiration"] == {"Days": 60}
    assert iam.list_attached_role_policies(RoleName=f"cfn-role-{token}")["AttachedPolicies"] == []
    assert stacks.delete(name) == "DELETE_COMPLETE"


# --- the stack as a whole -------------------------------------------------------------------------------------


def test_a_misspelt_type_fails_create_and_update_loudly(local_aws, stacks, token):
    misspelt = template({"Crawler": {"Type": "AWS::Glue::Crawlr", "Properties": {"Name": "x"}}})
    with pytest.raises(ClientError, match=r"Unrecognized resource types: \[AWS::Glue::Crawlr\]"):
        stacks.cfn.create_stack(StackName=f"typo-{token}", TemplateBody=misspelt)
    with pytest.raises(ClientError, match="does not exist"):
        stacks.cfn.describe_stacks(StackName=f"typo-{token}")

    name = f"typo-update-{token}"
    stacks.create(name, template({"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": name}}}))
    with pytest.raises(ClientError, match=r"Unrecognized resource types: \[AWS::SNS::Topik\]"):
        stacks.cfn.update_stack(
            StackName=name,
            TemplateBody=template({"Topic": {"Type": "AWS::SNS::Topik", "Properties": {"TopicName": name}}}),
        )
    assert status(stacks.wait(name)) == "CREATE_COMPLETE"
    stacks.delete(name)


def test_a_failing_resource_rolls_the_stack_back_and_says_which_and_why(local_aws, stacks, token):
    s3 = local_aws.client("s3")
    name = f"rollback-{token}"
    good = {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": f"cfn-rb-{token}"}}}
    failing = {
        "Cluster": {
            "Type": "AWS::RDS::DBCluster",
            "DependsOn": "Bucket",
            "Properties": {
                "DBClusterIdentifier": f"cfn-rb-{token}",
                "Engine": "no-such-engine",
                "MasterUsername": "a",
                "MasterUserPassword": "password1",
            },
        }
    }

    created = stacks.create(name, template({**good, **failing}))

    assert status(created) == "ROLLBACK_COMPLETE"
    assert created["StackStatusReason"].startswith("Resource Cluster: ")
    assert "no-such-engine" in created["StackStatusReason"]
    assert f"cfn-rb-{token}" not in [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]
    with pytest.raises(ClientError, match="ROLLBACK_COMPLETE state and can not be updated"):
        stacks.cfn.update_stack(StackName=name, TemplateBody=template(good))
    assert stacks.delete(name) == "DELETE_COMPLETE"

    assert status(stacks.create(name, template(good))) == "CREATE_COMPLETE"
    updated = stacks.update(
        name,
        template({"Other": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": f"cfn-rb2-{token}"}}, **failing}),
    )
    assert status(updated) == "UPDATE_ROLLBACK_COMPLETE"
    assert "Resource Cluster" in updated["StackStatusReason"]
    buckets = [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]
    assert f"cfn-rb-{token}" in buckets and f"cfn-rb2-{token}" not in buckets  # back to the previous template

    s3.put_object(Bucket=f"cfn-rb-{token}", Key="keep.txt", Body=b"data")
    assert stacks.delete(name) == "DELETE_FAILED"  # a bucket that is not empty is not deleted, as on AWS
    assert "BucketNotEmpty" in stacks.cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatusReason"]
    s3.delete_object(Bucket=f"cfn-rb-{token}", Key="keep.txt")
    assert stacks.delete(name) == "DELETE_COMPLETE"


def test_updating_with_the_same_template_and_parameters_is_refused_as_no_update(local_aws, stacks, token):
    name = f"same-{token}"
    body = template(
        {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Ref": "Name"}}}},
        Parameters={"Name": {"Type": "String"}, "Names": {"Type": "CommaDelimitedList", "Default": "a,b"}},
        Outputs={"Second": {"Value": {"Fn::Select": [1, {"Ref": "Names"}]}}},
    )
    created = stacks.create(name, body, Name=name)
    assert Stacks.outputs(created) == {"Second": "b"}  # a list parameter's default is a list
    with pytest.raises(ClientError, match="No updates are to be performed"):
        stacks.update(name, body, Name=name)
    stacks.delete(name)
