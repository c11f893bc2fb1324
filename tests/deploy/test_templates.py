"""The CloudFormation templates themselves: cfn-lint clean, least privilege, private encrypted buckets with
lifecycle on landing and quarantine prefixes, one Airflow variable secret per pipeline, MWAA reading its
connections and variables from Secrets Manager."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cfnlint.api import lint_file
from cfnlint.decode import decode

from deploy.pipelines import pipelines
from deploy.stacks import PIPELINES, STACKS, TEMPLATES

TEMPLATE_FILES = sorted(TEMPLATES.glob("*.yaml"))
# (template, resource, statement Sid) -> why Resource "*" (or NotResource) is needed there.
BROAD_RESOURCE_ALLOWED = {
    (
        "shared.yaml",
        "MwaaExecutionRole",
        "CheckAccountPublicAccessBlock",
    ): "s3:GetAccountPublicAccessBlock is an account setting without a resource ARN",
    (
        "shared.yaml",
        "MwaaExecutionRole",
        "ListLogGroupsAndPutMetrics",
    ): "logs:DescribeLogGroups lists; cloudwatch:PutMetricData has no resource-level permissions",
    (
        "shared.yaml",
        "MwaaExecutionRole",
        "DecryptTheCeleryQueue",
    ): "the Celery queue's AWS-owned KMS key is outside the account; limited to use through SQS",
    (
        "toll_plaza.yaml",
        "DagPolicy",
        "FollowOwnStatements",
    ): "Data API statement actions take a statement id; the condition limits them to the caller's statements",
}


def load(path: Path) -> dict:
    template, errors = decode(str(path))
    assert not errors, errors
    return template


def policy_statements(template_file: Path):
    """(resource logical id, statement) for every identity policy statement of the template."""
    for logical_id, resource in load(template_file)["Resources"].items():
        properties = resource.get("Properties", {})
        documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        if resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            documents.append(properties["PolicyDocument"])
        for document in documents:
            for statement in document["Statement"]:
                yield logical_id, statement


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_every_stack_has_its_template_and_every_template_a_stack():
    assert sorted(spec.template for spec in STACKS.values()) == [path.name for path in TEMPLATE_FILES]


@pytest.mark.parametrize("template_file", TEMPLATE_FILES, ids=lambda path: path.name)
def test_template_passes_cfn_lint_with_no_error_or_warning(template_file):
    matches = lint_file(template_file)
    assert [f"{match.rule.id} {match.message} (line {match.linenumber})" for match in matches] == []


def test_no_policy_allows_every_action_of_anything():
    broad = [
        (path.name, logical_id, action)
        for path in TEMPLATE_FILES
        for logical_id, statement in policy_statements(path)
        for action in as_list(statement.get("Action", [])) + as_list(statement.get("NotAction", []))
        if action == "*" or action.endswith(":*")
    ]
    assert broad == []
    not_actions = [
        (path.name, logical_id)
        for path in TEMPLATE_FILES
        for logical_id, statement in policy_statements(path)
        if "NotAction" in statement
    ]
    assert not_actions == []


def test_resource_star_appears_only_where_allow_listed_with_a_reason():
    broad = {
        (path.name, logical_id, statement.get("Sid"))
        for path in TEMPLATE_FILES
        for logical_id, statement in policy_statements(path)
        if "*" in as_list(statement.get("Resource", [])) or "NotResource" in statement
    }
    assert broad == set(BROAD_RESOURCE_ALLOWED), "a new Resource '*' needs a reason in BROAD_RESOURCE_ALLOWED"


def test_every_statement_names_its_resources_from_this_stack_or_its_imports():
    """Resources are ARNs built from the stack's own resources (Ref/GetAtt/Sub) or the shared stack's exports,
    never a literal account-wide pattern such as arn:aws:s3:::*."""
    literal_wildcards = []
    for path in TEMPLATE_FILES:
        for logical_id, statement in policy_statements(path):
            for resource in as_list(statement.get("Resource", [])):
                if isinstance(resource, str) and resource != "*":
                    literal_wildcards.append((path.name, logical_id, resource))
    assert literal_wildcards == []


def test_buckets_are_encrypted_private_and_expire_landing_and_quarantine_prefixes():
    expiring = {}
    for path in TEMPLATE_FILES:
        for logical_id, resource in load(path)["Resources"].items():
            if resource["Type"] != "AWS::S3::Bucket":
                continue
            properties = resource["Properties"]
            rules = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            assert rules[0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms"), logical_id
            assert properties["PublicAccessBlockConfiguration"] == {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            }, (path.name, logical_id)
            lifecycle = properties["LifecycleConfiguration"]["Rules"]
            assert any("AbortIncompleteMultipartUpload" in rule for rule in lifecycle), (path.name, logical_id)
            for rule in lifecycle:
                if "ExpirationInDays" in rule:
                    assert rule.get("Prefix"), (
                        f"{path.name} {logical_id}: expire a landing or quarantine prefix, never the whole bucket"
                    )
                    expiring.setdefault(path.stem, set()).add(rule["Prefix"])
    assert set(expiring) == set(PIPELINES), "every pipeline expires what it lands or quarantines"


def test_each_pipeline_stack_writes_its_airflow_variable_and_the_shared_stack_the_topic():
    names = {}
    for path in TEMPLATE_FILES:
        for resource in load(path)["Resources"].values():
            if resource["Type"] == "AWS::SecretsManager::Secret" and resource["Properties"]["Name"].startswith(
                "airflow/variables/"
            ):
                names[path.stem] = resource["Properties"]["Name"]
    assert names == {
        "shared": "airflow/variables/alerts_topic_arn",
        **{pipeline: f"airflow/variables/{pipeline}" for pipeline in PIPELINES},
    }


def test_mwaa_reads_connections_and_variables_from_secrets_manager_and_only_those_secrets():
    template = load(TEMPLATES / "mwaa.yaml")
    options = template["Resources"]["Environment"]["Properties"]["AirflowConfigurationOptions"]
    assert options["secrets.backend"] == "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
    assert json.loads(options["secrets.backend_kwargs"]) == {
        "connections_prefix": "airflow/connections",
        "variables_prefix": "airflow/variables",
        "connections_lookup_pattern": "^(?!aws_default$).*$",
    }  # aws_default stays the execution role's
    secret_statements = [
        statement
        for logical_id, statement in policy_statements(TEMPLATES / "shared.yaml")
        if any(action.startswith("secretsmanager:") for action in as_list(statement["Action"]))
    ]
    [statement] = secret_statements
    assert sorted(as_list(statement["Action"])) == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    resources = [resource["Fn::Sub"] for resource in statement["Resource"]]
    assert [resource.rsplit(":secret:", 1)[1] for resource in resources] == [
        "airflow/connections/*",
        "airflow/variables/*",
    ]


def test_databases_are_private_and_take_credentials_from_secrets_manager():
    for pipeline in [p.name for p in pipelines() if p.aurora_connection]:
        resources = load(TEMPLATES / f"{pipeline}.yaml")["Resources"]
        cluster = resources["AuroraCluster"]["Properties"]
        assert cluster["Engine"] == "aurora-postgresql" and cluster["StorageEncrypted"] is True
        assert (
            "{{resolve:secretsmanager:${AuroraCredentials}:SecretString:password}}"
            == cluster["MasterUserPassword"]["Fn::Sub"]
        )
        assert resources["AuroraWriter"]["Properties"]["PubliclyAccessible"] is False
    workgroup = load(TEMPLATES / "toll_plaza.yaml")["Resources"]["RedshiftWorkgroup"]["Properties"]
    assert workgroup["PubliclyAccessible"] is False
