"""python -m deploy.stacks against the local endpoint: every stack deploys from the same templates as on AWS, the
names it creates are those airflow_settings.yaml gives the DAGs (checked through the variable secrets MWAA would
read), a second deploy changes nothing, and the MWAA stack comes up on the shared network and source bucket."""

from __future__ import annotations

import json

import pytest

from deploy.lambda_zips import zip_folder
from deploy.pipelines import names
from deploy.stacks import STACKS, Deployer, stack_outputs
from local_platform.settings import PROJECT_ROOT, raw_variables, variables


def cluster_status(local_aws, identifier: str) -> str:
    return local_aws.client("rds").describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]["Status"]


def test_every_stack_but_mwaa_is_deployed_complete(local_aws, stacks):
    cfn = local_aws.client("cloudformation")
    statuses = {
        key: cfn.describe_stacks(StackName=spec.stack_name)["Stacks"][0]["StackStatus"]
        for key, spec in STACKS.items()
        if key != "mwaa"
    }
    assert statuses == {key: "CREATE_COMPLETE" for key in statuses}
    assert set(stacks) == set(statuses)


def test_each_variable_secret_decodes_to_the_value_airflow_settings_gives_the_dags(local_aws, stacks):
    secrets = local_aws.client("secretsmanager")
    deployed = {
        name: secrets.get_secret_value(SecretId=f"airflow/variables/{name}")["SecretString"] for name in raw_variables()
    }
    decoded = {name: json.loads(value) if value.startswith("{") else value for name, value in deployed.items()}
    assert decoded == variables()
    assert deployed["alerts_topic_arn"] == stacks["shared"]["AlertsTopicArn"]


def test_every_resource_the_variables_name_exists_where_the_dags_look(local_aws, stacks):
    settings = variables()
    buckets = {bucket["Name"] for bucket in local_aws.client("s3").list_buckets()["Buckets"]}
    named_buckets = {
        value
        for config in settings.values()
        if isinstance(config, dict)
        for key, value in config.items()
        if key.endswith("_bucket")
    }
    assert named_buckets <= buckets
    glue = local_aws.client("glue")
    for pipeline, crawler_keys, job_keys in (
        ("csv_lake", ("raw_crawler", "processed_crawler"), ("convert_job",)),
        ("toll_plaza", ("landing_crawler",), ("transform_job",)),
        ("vn_stock", (), ("clean_job",)),
    ):
        config = settings[pipeline]
        for key in crawler_keys:
            assert glue.get_crawler(Name=config[key])["Crawler"]["DatabaseName"] == config["glue_database"]
        for key in job_keys:
            script = glue.get_job(JobName=config[key])["Job"]["Command"]["ScriptLocation"]
            bucket, _, script_key = script.removeprefix("s3://").partition("/")
            body = local_aws.client("s3").get_object(Bucket=bucket, Key=script_key)["Body"].read()
            assert body == (PROJECT_ROOT / "include" / "glue" / script_key.rsplit("/", 1)[-1]).read_bytes()
    functions = local_aws.client("lambda")
    for name in (settings["toll_plaza"]["generator_function"], settings["vn_stock"]["scraper_function"]):
        assert functions.get_function(FunctionName=name)["Configuration"]["PackageType"] == "Zip"
    assert cluster_status(local_aws, settings["vn_stock"]["aurora_cluster"]) in ("available", "stopped")
    assert stacks["toll_plaza"]["RedshiftWorkgroup"] == settings["toll_plaza"]["redshift_workgroup"]


def test_deploying_again_changes_nothing(local_aws, stacks):
    said = []
    outputs = Deployer(endpoint_url=local_aws.endpoint, log=said.append).deploy()
    assert outputs == stacks
    assert said == [f"{spec.stack_name}: up to date" for key, spec in STACKS.items() if key != "mwaa"]


def test_lambda_code_is_zipped_reproducibly_and_keyed_by_its_content(local_aws, stacks, tmp_path):
    folder = PROJECT_ROOT / "include" / "lambda" / "toll_generator"
    assert zip_folder(folder) == zip_folder(folder)
    keys = Deployer(endpoint_url=local_aws.endpoint, log=lambda _: None).code_keys()
    function = local_aws.client("lambda").get_function(FunctionName=variables()["toll_plaza"]["generator_function"])
    assert keys["toll_generator"].startswith("lambda/toll_generator/")
    copy = tmp_path / "toll_generator"
    copy.mkdir()
    for path in folder.glob("*.py"):
        (copy / path.name).write_bytes(path.read_bytes())
    assert zip_folder(copy) == zip_folder(folder)  # file times do not matter
    (copy / "toll_generator.py").write_text((folder / "toll_generator.py").read_text() + "\n# changed\n")
    assert zip_folder(copy) != zip_folder(folder)
    assert function["Configuration"]["CodeSize"] == len(zip_folder(folder))


def test_the_connection_secrets_point_at_the_aurora_clusters_with_the_generated_credentials(local_aws, stacks):
    deployer = Deployer(endpoint_url=local_aws.endpoint, log=lambda _: None)
    written = deployer.write_connection_secrets()
    secrets = local_aws.client("secretsmanager")
    assert sorted(written) == [
        "airflow/connections/aurora_vn_stock",
        "airflow/connections/aws_default",
        "airflow/connections/retail_postgres",
    ]
    connection = json.loads(secrets.get_secret_value(SecretId="airflow/connections/aurora_vn_stock")["SecretString"])
    admin = json.loads(secrets.get_secret_value(SecretId=stacks["vn_stock"]["AuroraCredentialsArn"])["SecretString"])
    cluster = local_aws.client("rds").describe_db_clusters(DBClusterIdentifier="vn-stock-aurora")["DBClusters"][0]
    assert (connection["host"], connection["port"], connection["schema"]) == (cluster["Endpoint"], 5432, "vn_stock")
    assert (connection["login"], connection["password"]) == (admin["username"], admin["password"])
    assert cluster["MasterUsername"] == admin["username"]
    assert len(admin["password"]) == 32
    deployer.write_connection_secrets()  # again: a new version, not an error
    assert stack_outputs("retail_analytics", endpoint_url=local_aws.endpoint)["AuroraDatabase"] == "retail_analytics"


@pytest.fixture
def dag_package(local_aws, stacks):
    bucket = stacks["shared"]["AirflowSourceBucket"]
    s3 = local_aws.client("s3")
    s3.put_object(Bucket=bucket, Key="dags/csv_lake.py", Body=(PROJECT_ROOT / "dags" / "csv_lake.py").read_bytes())
    s3.put_object(Bucket=bucket, Key="requirements.txt", Body=(PROJECT_ROOT / "requirements.txt").read_bytes())
    s3.put_object(Bucket=bucket, Key="plugins.zip", Body=zip_folder(PROJECT_ROOT / "plugins"))
    return bucket


def test_the_mwaa_stack_runs_the_package_with_the_secrets_backend_in_the_private_subnets(
    local_aws, stacks, dag_package
):
    outputs = Deployer(endpoint_url=local_aws.endpoint, log=lambda _: None).deploy(["mwaa"])["mwaa"]

    environment = local_aws.client("mwaa").get_environment(Name=outputs["EnvironmentName"])["Environment"]
    s3 = local_aws.client("s3")
    assert environment["Status"] == "AVAILABLE"
    assert environment["PluginsS3ObjectVersion"] == s3.head_object(Bucket=dag_package, Key="plugins.zip")["VersionId"]
    assert environment["AirflowConfigurationOptions"]["secrets.backend"].endswith(".SecretsManagerBackend")
    assert json.loads(environment["AirflowConfigurationOptions"]["secrets.backend_kwargs"]) == {
        "connections_prefix": "airflow/connections",
        "variables_prefix": "airflow/variables",
        "connections_lookup_pattern": "^(?!aws_default$).*$",
    }
    assert environment["NetworkConfiguration"]["SubnetIds"] == stacks["shared"]["PrivateSubnetIds"].split(",")[:2]
    iam = local_aws.client("iam")
    role = environment["ExecutionRoleArn"].rsplit("/", 1)[-1]
    attached = sorted(
        policy["PolicyName"] for policy in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    )
    assert attached == sorted(["etl_alerts_publish", *(f"{name}_dag" for name in names())])
    document = iam.get_role_policy(RoleName=role, PolicyName="mwaa-environment")["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    [secrets] = [statement for statement in document["Statement"] if statement["Sid"] == "ReadAirflowSecrets"]
    assert secrets["Resource"] == [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:airflow/connections/*",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:airflow/variables/*",
    ]

    # A new plugins.zip: deploying the stack again moves the environment to it.
    s3.put_object(Bucket=dag_package, Key="plugins.zip", Body=b"changed")
    Deployer(endpoint_url=local_aws.endpoint, log=lambda _: None).deploy(["mwaa"])
    environment = local_aws.client("mwaa").get_environment(Name=outputs["EnvironmentName"])["Environment"]
    assert environment["PluginsS3ObjectVersion"] == s3.head_object(Bucket=dag_package, Key="plugins.zip")["VersionId"]
    assert environment["Status"] == "AVAILABLE"
