"""Create the AWS resources a pipeline declares, idempotently, against whatever endpoint is configured.

Each pipeline declares its resources once in ``include/infra/<pipeline>.yaml``. Values written as
``${variable.path}`` come from the variables of ``airflow_settings.yaml`` (or another settings file),
so bucket names and ARNs are declared in one place. Works against the local platform or a real
account (then with your usual AWS credentials and no endpoint).

    python -m local_platform.provision [--endpoint-url URL] [pipeline ...]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import zipfile
from pathlib import Path

import boto3
import yaml
from botocore.exceptions import ClientError

from local_platform.settings import PROJECT_ROOT, SETTINGS_FILE, variables

INFRA_DIR = PROJECT_ROOT / "include" / "infra"
REFERENCE = re.compile(r"\$\{([a-z0-9_.]+)\}")
ASSUME_ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": [
        "glue.amazonaws.com", "lambda.amazonaws.com", "redshift.amazonaws.com", "rds.amazonaws.com",
    ]}, "Action": "sts:AssumeRole"}],
}


def _resolve(value, variables: dict):
    if isinstance(value, str):
        def lookup(match: re.Match) -> str:
            node = variables
            for part in match.group(1).split("."):
                if not isinstance(node, dict) or part not in node:
                    raise KeyError(f"infra declaration references unknown variable ${{{match.group(1)}}}")
                node = node[part]
            return str(node)
        return REFERENCE.sub(lookup, value)
    if isinstance(value, dict):
        return {key: _resolve(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, variables) for item in value]
    return value


def load_declaration(pipeline: str, settings_file: Path = SETTINGS_FILE) -> dict:
    raw = yaml.safe_load((INFRA_DIR / f"{pipeline}.yaml").read_text())
    return _resolve(raw, variables(settings_file))


def all_pipelines() -> list[str]:
    return sorted(path.stem for path in INFRA_DIR.glob("*.yaml"))


def zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


class Provisioner:
    def __init__(self, session: boto3.session.Session, endpoint_url: str | None, local: bool):
        self.endpoint_url = endpoint_url
        self.session = session
        self.local = local
        self.created: list[str] = []

    def client(self, service: str):
        return self.session.client(service, endpoint_url=self.endpoint_url)

    def bucket(self, name: str) -> None:
        s3 = self.client("s3")
        try:
            s3.head_bucket(Bucket=name)
            return
        except ClientError:
            pass
        region = self.session.region_name
        kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=name, **kwargs)
        self.created.append(f"s3://{name}")

    def topic(self, arn: str) -> None:
        name = arn.rsplit(":", 1)[-1]
        sns = self.client("sns")
        topic_arn = sns.create_topic(Name=name)["TopicArn"]  # idempotent in AWS and moto
        if self.local:
            # Locally an SQS queue subscribes so that alerts can be read back.
            sqs = self.client("sqs")
            queue_url = sqs.create_queue(QueueName=f"{name}-inbox")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"]
            existing = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
            if not any(sub["Endpoint"] == queue_arn for sub in existing):
                sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                              Attributes={"RawMessageDelivery": "false"})
        self.created.append(topic_arn)

    def role(self, arn: str) -> None:
        name = arn.rsplit("/", 1)[-1]
        iam = self.client("iam")
        try:
            iam.get_role(RoleName=name)
        except ClientError:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(ASSUME_ROLE_POLICY))
            self.created.append(arn)

    def file(self, source: str, target: str) -> None:
        bucket, _, key = target.removeprefix("s3://").partition("/")
        self.client("s3").upload_file(str(PROJECT_ROOT / source), bucket, key)
        self.created.append(target)

    def lambda_function(self, spec: dict) -> None:
        client = self.client("lambda")
        code = zip_folder(PROJECT_ROOT / spec["code_dir"])
        config = {
            "Runtime": spec.get("runtime", "python3.11"),
            "Role": spec["role"],
            "Handler": spec["handler"],
            "Timeout": int(spec.get("timeout", 60)),
            "MemorySize": int(spec.get("memory", 256)),
            "Environment": {"Variables": {k: str(v) for k, v in spec.get("environment", {}).items()}},
        }
        try:
            client.get_function(FunctionName=spec["name"])
        except ClientError:
            client.create_function(FunctionName=spec["name"], Code={"ZipFile": code}, **config)
        else:
            client.update_function_code(FunctionName=spec["name"], ZipFile=code)
            client.update_function_configuration(FunctionName=spec["name"], **config)
        self.created.append(f"lambda:{spec['name']}")

    def rds_cluster(self, spec: dict) -> None:
        if not self.local:
            return  # a real Aurora cluster is created by your IaC, not by this script
        rds = self.client("rds")
        try:
            rds.describe_db_clusters(DBClusterIdentifier=spec["identifier"])
        except ClientError:
            rds.create_db_cluster(
                DBClusterIdentifier=spec["identifier"], Engine=spec.get("engine", "aurora-postgresql"),
                MasterUsername=spec.get("master_username", "postgres"),
                MasterUserPassword=spec.get("master_password", "local-only-password"),
            )
            self.created.append(f"rds:{spec['identifier']}")

    def redshift_cluster(self, spec: dict) -> None:
        if not self.local:
            return
        redshift = self.client("redshift")
        try:
            redshift.describe_clusters(ClusterIdentifier=spec["identifier"])
        except ClientError:
            redshift.create_cluster(
                ClusterIdentifier=spec["identifier"], NodeType=spec.get("node_type", "ra3.xlplus"),
                MasterUsername=spec.get("master_username", "awsuser"),
                MasterUserPassword=spec.get("master_password", "LocalOnly1"), DBName=spec.get("database", "dev"),
                ClusterType="single-node",
            )
            self.created.append(f"redshift:{spec['identifier']}")

    def glue_database(self, name: str) -> None:
        glue = self.client("glue")
        try:
            glue.get_database(Name=name)
        except ClientError:
            glue.create_database(DatabaseInput={"Name": name})
            self.created.append(f"glue-database:{name}")

    def apply(self, declaration: dict) -> None:
        for arn in declaration.get("roles", []):
            self.role(arn)
        for name in declaration.get("glue_databases", []):
            self.glue_database(name)
        for name in declaration.get("buckets", []):
            self.bucket(name)
        for arn in declaration.get("topics", []):
            self.topic(arn)
        for item in declaration.get("files", []):
            self.file(item["source"], item["target"])
        for spec in declaration.get("lambda_functions", []):
            self.lambda_function(spec)
        for spec in declaration.get("rds_clusters", []):
            self.rds_cluster(spec)
        for spec in declaration.get("redshift_clusters", []):
            self.redshift_cluster(spec)


def provision(pipelines: list[str], endpoint_url: str | None, settings_file: Path = SETTINGS_FILE,
              session: boto3.session.Session | None = None) -> list[str]:
    """Create what ``pipelines`` declare; return what was created or updated."""
    if session is None:
        # The local endpoint takes any credentials; real AWS uses the caller's own.
        local_credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        session = boto3.session.Session(region_name="us-east-1", **(local_credentials if endpoint_url else {}))
    provisioner = Provisioner(session, endpoint_url, local=endpoint_url is not None)
    for pipeline in pipelines:
        provisioner.apply(load_declaration(pipeline, settings_file))
    return provisioner.created


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pipelines", nargs="*", help="default: every pipeline under include/infra/")
    parser.add_argument("--endpoint-url", help="the local platform's AWS endpoint; omit for real AWS")
    parser.add_argument("--settings", type=Path, default=SETTINGS_FILE)
    args = parser.parse_args(argv)
    for item in provision(args.pipelines or all_pipelines(), args.endpoint_url, args.settings):
        print(item)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
