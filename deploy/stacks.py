"""Package the code and deploy the CloudFormation stacks of ``deploy/cloudformation/``, to AWS or to the local
platform, by the same code path.

    python -m deploy.stacks [--endpoint-url URL] [--suffix SUFFIX] [--alerts-email ADDRESS]
        [--lambda-layers] [stack ...]

Stacks, in the order they are deployed: ``shared`` (network, artifacts and MWAA source buckets, ECR repository,
alerts topic, MWAA execution role), one per pipeline of ``pipelines.yaml``, then ``mwaa``
(only when named: it needs the DAG package in the source bucket first). Without stack names: shared and the
pipelines. Each stack is created, or updated when it exists, and waited for; running it twice changes nothing.

Packaging (what ``aws cloudformation package`` would do): the Glue scripts ``include/glue/*.py`` go to
``s3://<artifacts>/glue/``; each Lambda folder ``include/lambda/<fn>/`` is zipped reproducibly and uploaded as
``lambda/<fn>/<sha256>.zip``, whose key is the stack parameter, so changed code updates the function. On AWS
the scraper is a container image: its digest in the shared ECR repository (tag ``--scraper-image-tag``) is
the parameter; the local platform (``--endpoint-url``) deploys the same function as a zip. A template's
``Metadata.LambdaLayers`` names, per layer parameter, the Lambda folders whose ``requirements.txt`` the layer
holds: on AWS the layer is built (``deploy.lambda_zips.build_layer``: wheels for Lambda's Python, whatever this
machine is) and uploaded as ``lambda-layers/<parameter>/<sha256>.zip``, whose key is the parameter; the
template publishes it as a layer version and attaches it to the functions. Locally the parameter is empty (no
layer: the local Lambda runtime runs handlers in the project's venv, which has the packages) unless
``--lambda-layers``.

On AWS (no ``--endpoint-url``; your usual credentials and region), after the pipeline stacks the Airflow
connections are written to Secrets Manager (``airflow/connections/<conn_id>``: ``retail_postgres`` and
``aurora_vn_stock`` with the Aurora endpoints and generated credentials, ``aws_default``), where MWAA's secrets
backend reads them; ``--no-connections`` skips that. ``stack_outputs()`` gives a stack's outputs to other code.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from deploy.lambda_zips import build_layer, content_key, zip_folder
from deploy.pipelines import names, pipelines
from deploy.templates import load_template

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = PROJECT_ROOT / "deploy" / "cloudformation"
GLUE_DIR = PROJECT_ROOT / "include" / "glue"
LAMBDA_DIR = PROJECT_ROOT / "include" / "lambda"
LOCAL_SUFFIX = "local"
DEFAULT_REGION = "us-east-1"
CAPABILITIES = ["CAPABILITY_NAMED_IAM"]
IN_PROGRESS = "_IN_PROGRESS"
DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
USABLE = (*DONE, "UPDATE_ROLLBACK_COMPLETE")  # the stack's resources exist (an update that failed was undone)
# Templates larger than this go through S3 (CloudFormation's TemplateBody limit).
TEMPLATE_BODY_LIMIT = 51_200


@dataclasses.dataclass(frozen=True)
class StackSpec:
    key: str  # what the command line calls it
    stack_name: str  # the CloudFormation stack
    template: str  # file in deploy/cloudformation/

    @property
    def path(self) -> Path:
        return TEMPLATES / self.template


STACKS = {
    spec.key: spec
    for spec in (
        StackSpec("shared", "etl-shared", "shared.yaml"),
        *(StackSpec(pipeline.name, pipeline.stack_name, pipeline.template) for pipeline in pipelines()),
        StackSpec("mwaa", "etl-mwaa", "mwaa.yaml"),
    )
}
PIPELINES = names()
DEFAULT_STACKS = ("shared", *PIPELINES)
# Airflow connection id -> the pipeline stack whose Aurora cluster it reaches.
AURORA_CONNECTIONS = {p.aurora_connection: p.name for p in pipelines() if p.aurora_connection}
SCRAPER_REPOSITORY = "vn_stock_scraper"


class DeployError(RuntimeError):
    pass


def lambda_code(key: str) -> dict[str, str]:
    """The template's ``Metadata.LambdaCode``: parameter name -> the ``include/lambda/`` folder whose zip it takes."""
    return load_template(key).get("Metadata", {}).get("LambdaCode", {})


def lambda_layers(key: str) -> dict[str, list[str]]:
    """The template's ``Metadata.LambdaLayers``: parameter name -> the ``include/lambda/`` folders whose
    ``requirements.txt`` its layer holds."""
    return load_template(key).get("Metadata", {}).get("LambdaLayers", {})


def session_for(endpoint_url: str | None, region: str | None = None) -> boto3.session.Session:
    if endpoint_url:  # the local endpoint takes any credentials
        return boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region or DEFAULT_REGION
        )
    return boto3.session.Session(region_name=region)  # real AWS: the caller's own credentials


class Deployer:
    def __init__(
        self,
        endpoint_url: str | None = None,
        suffix: str | None = None,
        region: str | None = None,
        alerts_email: str = "",
        scraper_image_tag: str = "latest",
        scraper_package_type: str | None = None,
        lambda_layers: bool | None = None,
        mwaa_parameters: dict[str, str] | None = None,
        poll_seconds: float | None = None,
        timeout_s: float = 90 * 60,
        log: Callable[[str], None] = print,
    ):
        self.endpoint_url = endpoint_url
        self.local = endpoint_url is not None
        self.session = session_for(endpoint_url, region)
        self.region = self.session.region_name or DEFAULT_REGION
        self.suffix = suffix if suffix is not None else (LOCAL_SUFFIX if self.local else "")
        self.alerts_email = alerts_email
        self.scraper_image_tag = scraper_image_tag
        self.scraper_package_type = scraper_package_type or ("Zip" if self.local else "Image")
        # The local Lambda runtime runs handlers in the project's venv, which has the layers' packages.
        self.lambda_layers = lambda_layers if lambda_layers is not None else not self.local
        self.mwaa_parameters = dict(mwaa_parameters or {})
        self.poll_seconds = poll_seconds if poll_seconds is not None else (0.2 if self.local else 10)
        self.timeout_s = timeout_s
        self.log = log
        self._clients: dict[str, object] = {}
        self._code_keys: dict[str, str] | None = None
        self._layer_keys: dict[tuple[str, tuple[str, ...]], str] = {}

    def client(self, service: str):
        if service not in self._clients:
            # botocore puts "api." in front of some hosts (MWAA): there is no such host locally.
            config = Config(inject_host_prefix=not self.local, retries={"max_attempts": 5, "mode": "standard"})
            self._clients[service] = self.session.client(service, endpoint_url=self.endpoint_url, config=config)
        return self._clients[service]

    # -- stacks --------------------------------------------------------------------------------------------

    def deploy(
        self, keys: list[str] | tuple[str, ...] = DEFAULT_STACKS, connections: bool | None = None
    ) -> dict[str, dict[str, str]]:
        """Create or update the stacks ``keys`` in dependency order; return each one's outputs."""
        unknown = [key for key in keys if key not in STACKS]
        if unknown:
            raise DeployError(f"unknown stack(s) {unknown}; known: {list(STACKS)}")
        ordered = [key for key in STACKS if key in keys]
        outputs = {}
        for key in ordered:
            outputs[key] = self.deploy_stack(key, self.parameters(key))
        if connections if connections is not None else (not self.local and any(key in PIPELINES for key in ordered)):
            self.write_connection_secrets()
        return outputs

    def parameters(self, key: str) -> dict[str, str]:
        if key == "shared":
            return {"NameSuffix": self.suffix, "AlertsEmail": self.alerts_email}
        if key == "mwaa":
            return {**self.dag_package_versions(), **self.mwaa_parameters}
        if key not in PIPELINES:
            raise DeployError(f"no parameters for {key}")
        # A pipeline's stack: its name suffix and the key of each Lambda zip its template asks for by name.
        code = dict(lambda_code(key))
        parameters = {"NameSuffix": self.suffix}
        if key == "vn_stock":  # the scraper runs as a zip or as the shared repository's container image
            parameters["ScraperPackageType"] = self.scraper_package_type
            if self.scraper_package_type == "Image":
                parameters["ScraperImageUri"] = self.scraper_image_uri()
                code.pop("ScraperCodeKey")
        if code:
            keys = self.code_keys()
            parameters.update({parameter: keys[folder] for parameter, folder in code.items()})
        for parameter, folders in lambda_layers(key).items():  # empty: the template attaches no layer
            parameters[parameter] = self.layer_key(parameter, folders) if self.lambda_layers else ""
        return parameters

    def deploy_stack(self, key: str, parameters: dict[str, str]) -> dict[str, str]:
        spec = STACKS[key]
        cloudformation = self.client("cloudformation")
        template = spec.path.read_text()
        if len(template.encode()) > TEMPLATE_BODY_LIMIT:
            raise DeployError(f"{spec.template} exceeds CloudFormation's TemplateBody limit")
        arguments = {
            "StackName": spec.stack_name,
            "TemplateBody": template,
            "Capabilities": CAPABILITIES,
            "Parameters": [{"ParameterKey": name, "ParameterValue": str(value)} for name, value in parameters.items()],
            "Tags": [{"Key": "project", "Value": "etl-pipelines"}],
        }
        status = self.stack_status(spec.stack_name)
        if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"):
            # A stack whose creation failed cannot be updated: delete it and create it again, as AWS requires.
            self.log(f"{spec.stack_name}: {status}, deleting it before creating it again")
            cloudformation.delete_stack(StackName=spec.stack_name)
            self.wait(spec.stack_name, deleting=True)
            status = None
        if status is None:
            self.log(f"{spec.stack_name}: creating from {spec.template}")
            cloudformation.create_stack(**arguments)
        else:
            try:
                cloudformation.update_stack(**arguments)
                self.log(f"{spec.stack_name}: updating")
            except ClientError as exc:
                if "No updates are to be performed" not in str(exc):
                    raise
                self.log(f"{spec.stack_name}: up to date")
                return self.outputs(spec.stack_name)
        self.wait(spec.stack_name)
        return self.outputs(spec.stack_name)

    def stack_status(self, stack_name: str) -> str | None:
        try:
            stacks = self.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise
        return stacks[0]["StackStatus"] if stacks else None

    def wait(self, stack_name: str, deleting: bool = False) -> str:
        deadline = time.monotonic() + self.timeout_s
        while True:
            status = self.stack_status(stack_name)
            if deleting and status in (None, "DELETE_COMPLETE"):
                return "DELETE_COMPLETE"
            if status is not None and not status.endswith(IN_PROGRESS):
                break
            if time.monotonic() > deadline:
                raise DeployError(f"{stack_name}: still {status} after {self.timeout_s:.0f} s")
            time.sleep(self.poll_seconds)
        if status in DONE:
            self.log(f"{stack_name}: {status}")
            return status
        raise DeployError(f"{stack_name}: {status}: {self.failure_reason(stack_name)}")

    def failure_reason(self, stack_name: str) -> str:
        cloudformation = self.client("cloudformation")
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        reasons = [stack.get("StackStatusReason") or ""]
        try:
            events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
        except ClientError:
            events = []
        reasons += [
            f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason')}"
            for event in events
            if event["ResourceStatus"].endswith("FAILED") and event.get("ResourceStatusReason")
        ]
        return "; ".join(dict.fromkeys(reason for reason in reasons if reason)) or "no reason given"

    def outputs(self, stack_name: str) -> dict[str, str]:
        stack = self.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
        return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs") or []}

    def stack_outputs(self, key: str) -> dict[str, str]:
        return self.outputs(STACKS[key].stack_name)

    # -- packaging -----------------------------------------------------------------------------------------

    def artifacts_bucket(self) -> str:
        return self.stack_outputs("shared")["ArtifactsBucket"]

    def code_keys(self) -> dict[str, str]:
        """Upload the Glue scripts and the Lambda zips (once per content); return each function's zip key."""
        if self._code_keys is None:
            s3, bucket = self.client("s3"), self.artifacts_bucket()
            for script in sorted(GLUE_DIR.glob("*.py")):
                s3.put_object(Bucket=bucket, Key=f"glue/{script.name}", Body=script.read_bytes())
            self._code_keys = {
                folder.name: self.upload_once(f"lambda/{folder.name}", zip_folder(folder))
                for folder in sorted(path for path in LAMBDA_DIR.iterdir() if path.is_dir())
            }
        return self._code_keys

    def layer_key(self, parameter: str, folders: list[str]) -> str:
        """Build the layer of ``folders``' requirements, upload it (once per content), return its key."""
        built = (parameter, tuple(folders))  # two templates may name different folders under one parameter name
        if built not in self._layer_keys:
            self.log(f"building the Lambda layer {parameter} from {', '.join(folders)}")
            try:
                layer = build_layer(LAMBDA_DIR / folder / "requirements.txt" for folder in folders)
            except subprocess.CalledProcessError as exc:
                raise DeployError(f"building the Lambda layer {parameter}: pip exited with {exc.returncode}") from exc
            self._layer_keys[built] = self.upload_once(f"lambda-layers/{parameter}", layer)
        return self._layer_keys[built]

    def upload_once(self, prefix: str, body: bytes) -> str:
        """Put ``body`` in the artifacts bucket under its content key, unless it is there already; return the key."""
        s3, bucket, key = self.client("s3"), self.artifacts_bucket(), content_key(prefix, body)
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except ClientError:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            self.log(f"uploaded s3://{bucket}/{key}")
        return key

    def scraper_image_uri(self) -> str:
        """The scraper image pushed to the shared repository under ``scraper_image_tag``, by digest."""
        repository = self.stack_outputs("shared")["ScraperRepositoryUri"]
        try:
            image = self.client("ecr").describe_images(
                repositoryName=SCRAPER_REPOSITORY, imageIds=[{"imageTag": self.scraper_image_tag}]
            )["imageDetails"][0]
        except (ClientError, IndexError) as exc:
            raise DeployError(
                f"no image {repository}:{self.scraper_image_tag}: build and push the scraper image first "
                "(README, 'Deploy to AWS')"
            ) from exc
        return f"{repository}@{image['imageDigest']}"

    def dag_package_versions(self) -> dict[str, str]:
        """The current versions of plugins.zip and requirements.txt in the MWAA source bucket."""
        bucket = self.stack_outputs("shared")["AirflowSourceBucket"]
        versions = {}
        for key, parameter in (
            ("plugins.zip", "PluginsS3ObjectVersion"),
            ("requirements.txt", "RequirementsS3ObjectVersion"),
        ):
            key = self.mwaa_parameters.get(parameter.replace("ObjectVersion", "Path"), key)
            try:
                head = self.client("s3").head_object(Bucket=bucket, Key=key)
            except ClientError as exc:
                raise DeployError(
                    f"s3://{bucket}/{key} is missing: upload the DAG package before the mwaa stack "
                    "(make mwaa-package, make deploy)"
                ) from exc
            versions[parameter] = head.get("VersionId") or ""
        return versions

    # -- Airflow connections for MWAA ---------------------------------------------------------------------

    def connection_secrets(self) -> dict[str, dict]:
        """Airflow connection id -> the connection (Airflow's JSON format) the deployed stacks imply."""
        secrets = self.client("secretsmanager")
        connections = {"aws_default": {"conn_type": "aws", "extra": {"region_name": self.region}}}
        for conn_id, key in AURORA_CONNECTIONS.items():
            if self.stack_status(STACKS[key].stack_name) not in USABLE:
                continue  # that pipeline is not deployed (yet)
            outputs = self.stack_outputs(key)
            credentials = json.loads(secrets.get_secret_value(SecretId=outputs["AuroraCredentialsArn"])["SecretString"])
            connections[conn_id] = {
                "conn_type": "postgres",
                "host": outputs["AuroraEndpoint"],
                "port": int(outputs["AuroraPort"]),
                "login": credentials["username"],
                "password": credentials["password"],
                "schema": outputs["AuroraDatabase"],
                "extra": {"sslmode": "require"},
            }
        return connections

    def write_connection_secrets(self) -> list[str]:
        secrets, written = self.client("secretsmanager"), []
        for conn_id, connection in self.connection_secrets().items():
            name = f"airflow/connections/{conn_id}"
            value = json.dumps(connection)
            try:
                secrets.put_secret_value(SecretId=name, SecretString=value)
            except secrets.exceptions.ResourceNotFoundException:
                secrets.create_secret(
                    Name=name,
                    SecretString=value,
                    Description=f"Airflow connection {conn_id} (written by deploy.stacks)",
                )
            written.append(name)
            self.log(f"wrote secret {name}")
        return written


def stack_outputs(key: str, endpoint_url: str | None = None, region: str | None = None) -> dict[str, str]:
    """The outputs of deployed stack ``key`` (``shared``, a pipeline or ``mwaa``), e.g. ``AuroraEndpoint``."""
    return Deployer(endpoint_url=endpoint_url, region=region, log=lambda _: None).stack_outputs(key)


def deploy(keys=DEFAULT_STACKS, endpoint_url: str | None = None, **options) -> dict[str, dict[str, str]]:
    return Deployer(endpoint_url=endpoint_url, **options).deploy(list(keys))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stacks", nargs="*", help=f"of {', '.join(STACKS)} (default: {', '.join(DEFAULT_STACKS)})")
    parser.add_argument("--endpoint-url", help="the local platform's endpoint; omit for AWS")
    parser.add_argument("--region", help="default: your AWS configuration's (us-east-1 locally)")
    parser.add_argument("--suffix", help="bucket name suffix (default: the account id on AWS, 'local' locally)")
    parser.add_argument("--alerts-email", default="", help="subscribe this address to the alerts topic")
    parser.add_argument("--scraper-image-tag", default="latest", help="tag of the scraper image pushed to ECR")
    parser.add_argument("--scraper-package-type", choices=["Image", "Zip"], help="default: Image on AWS, Zip locally")
    parser.add_argument(
        "--lambda-layers",
        action=argparse.BooleanOptionalAction,
        help="build and attach the Lambda dependency layers (default: on AWS yes; locally no, the local runtime "
        "has the packages)",
    )
    parser.add_argument(
        "--mwaa-parameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a parameter of the mwaa stack, e.g. EnvironmentClass=mw1.micro (repeatable)",
    )
    parser.add_argument(
        "--no-connections", action="store_true", help="on AWS, do not write the Airflow connection secrets"
    )
    args = parser.parse_args(argv)
    unknown = [key for key in args.stacks if key not in STACKS]
    if unknown:
        parser.error(f"unknown stack(s) {', '.join(unknown)}; choose from {', '.join(STACKS)}")
    mwaa_parameters = dict(item.split("=", 1) for item in args.mwaa_parameter)
    deployer = Deployer(
        endpoint_url=args.endpoint_url,
        suffix=args.suffix,
        region=args.region,
        alerts_email=args.alerts_email,
        scraper_image_tag=args.scraper_image_tag,
        scraper_package_type=args.scraper_package_type,
        lambda_layers=args.lambda_layers,
        mwaa_parameters=mwaa_parameters,
    )
    try:
        outputs = deployer.deploy(
            args.stacks or list(DEFAULT_STACKS), connections=False if args.no_connections else None
        )
    except DeployError as exc:
        print(f"deploy failed: {exc}", file=sys.stderr)
        return 1
    for key, values in outputs.items():
        print(f"{STACKS[key].stack_name}: {json.dumps(values, sort_keys=True)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
