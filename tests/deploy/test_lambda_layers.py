"""The tweet_hashtags Lambdas' dependency layer: built from their requirements.txt as wheels for Lambda's Python
(CPython 3.12 on manylinux x86_64, whatever runs the build), reproducibly, and deployed by deploy.stacks as the
stack's layer version that the producer and staging functions take; the default local deploy attaches none.

Deploying with the layer goes to a local AWS server of its own: the session's tweet_hashtags stack (the
``stacks`` fixture) is what the DAG tests run against, and stays as the local platform deploys it."""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import uuid
import zipfile

import pytest

from deploy.lambda_zips import build_layer, content_key
from deploy.stacks import LAMBDA_DIR, STACKS, Deployer, lambda_layers
from local_platform.settings import variables
from tests.helpers.platform import start_local_aws

[(LAYER_PARAMETER, LAYER_FOLDERS)] = lambda_layers("tweet_hashtags").items()
LAYER_LOGICAL_ID = "DependenciesLayer"
LAYER_NAME = "tweet_hashtags_dependencies"


def requirement_files():
    return [LAMBDA_DIR / folder / "requirements.txt" for folder in LAYER_FOLDERS]


@pytest.fixture(scope="module")
def layer_zip() -> bytes:
    return build_layer(requirement_files())


def wheel_tags(archive: zipfile.ZipFile) -> dict[str, list[str]]:
    """dist-info folder -> the tags its WHEEL file gives."""
    return {
        name.split("/")[1]: [
            line.removeprefix("Tag: ") for line in archive.read(name).decode().splitlines() if line.startswith("Tag: ")
        ]
        for name in archive.namelist()
        if name.endswith(".dist-info/WHEEL")
    }


def test_the_layer_holds_the_requirements_under_python(layer_zip):
    archive = zipfile.ZipFile(io.BytesIO(layer_zip))
    names = archive.namelist()
    assert all(name.startswith("python/") for name in names), [n for n in names if not n.startswith("python/")]
    assert "python/textblob/en/en-sentiment.xml" in names  # TextBlob's sentiment lexicon
    assert "python/websockets/__init__.py" in names
    installed = {folder.split("-")[0].lower() for folder in wheel_tags(archive)}
    assert {"textblob", "websockets", "nltk", "regex"} <= installed
    assert not [name for name in names if name.startswith("python/bin/") or name.endswith(".pyc")]
    # Nothing names the interpreter that built it (pip's console scripts do): the bytes depend on the packages.
    assert not [name for name in names if sys.executable.encode() in archive.read(name)]


def test_its_binary_packages_are_builds_for_lambdas_python_312_on_x86_64(layer_zip):
    archive = zipfile.ZipFile(io.BytesIO(layer_zip))
    extensions = [name for name in archive.namelist() if name.endswith(".so")]
    assert extensions, "websockets and regex ship compiled extensions"
    assert all(name.endswith(".cpython-312-x86_64-linux-gnu.so") for name in extensions), extensions
    tags = wheel_tags(archive)
    binary = {folder: folder_tags for folder, folder_tags in tags.items() if not folder_tags[0].endswith("-none-any")}
    assert {folder.split("-")[0] for folder in binary} >= {"regex", "websockets"}
    for folder, folder_tags in binary.items():
        assert all(tag.startswith("cp312-cp312-manylinux") and tag.endswith("_x86_64") for tag in folder_tags), (
            folder,
            folder_tags,
        )


def test_building_it_again_gives_the_same_bytes_and_key(layer_zip):
    again = build_layer(requirement_files())
    assert again == layer_zip
    assert content_key(f"lambda-layers/{LAYER_PARAMETER}", again) == content_key(
        f"lambda-layers/{LAYER_PARAMETER}", layer_zip
    )


@pytest.fixture(scope="module")
def layered_aws(tmp_path_factory, postgres_server_dsn):
    """A local AWS server of its own with the shared and tweet_hashtags stacks deployed with the layers; the
    tests below take it on in file order (deployed, deployed again, a changed layer, no layer)."""
    server = start_local_aws(
        tmp_path_factory.mktemp("layered") / "aws", postgres_server_dsn, f"t{uuid.uuid4().hex[:6]}"
    )
    try:
        deployer = Deployer(endpoint_url=server.endpoint, lambda_layers=True, log=lambda _: None)
        outputs = deployer.deploy(["shared", "tweet_hashtags"])
        yield server, deployer, outputs
    finally:
        server.stop()


@pytest.mark.own_server
def test_deploying_with_layers_attaches_the_built_layer_to_the_producer_and_the_stage(layer_zip, layered_aws):
    server, _, outputs = layered_aws
    cloudformation, functions = server.client("cloudformation"), server.client("lambda")
    stack_name = STACKS["tweet_hashtags"].stack_name
    parameters = {
        item["ParameterKey"]: item["ParameterValue"]
        for item in cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["Parameters"]
    }
    key = parameters[LAYER_PARAMETER]
    assert key == content_key(f"lambda-layers/{LAYER_PARAMETER}", layer_zip)
    uploaded = server.client("s3").get_object(Bucket=outputs["shared"]["ArtifactsBucket"], Key=key)["Body"].read()
    assert uploaded == layer_zip

    layer_arn = cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId=LAYER_LOGICAL_ID)[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    [version] = functions.list_layer_versions(LayerName=LAYER_NAME)["LayerVersions"]
    assert version["LayerVersionArn"] == layer_arn
    assert (version["CompatibleRuntimes"], version["CompatibleArchitectures"]) == (["python3.12"], ["x86_64"])
    content = functions.get_layer_version(LayerName=LAYER_NAME, VersionNumber=version["Version"])["Content"]
    assert content["CodeSha256"] == base64.b64encode(hashlib.sha256(layer_zip).digest()).decode()
    assert content["CodeSize"] == len(layer_zip)

    assert attached_layers(functions) == {"producer": [layer_arn], "consumer": [], "stage": [layer_arn]}


@pytest.mark.own_server
def test_deploying_again_with_the_same_layer_changes_nothing(layered_aws):
    server, _, outputs = layered_aws
    said = []
    again = Deployer(endpoint_url=server.endpoint, lambda_layers=True, log=said.append).deploy(
        ["shared", "tweet_hashtags"]
    )
    assert again == outputs
    assert [line for line in said if not line.startswith("building the Lambda layer")] == [
        f"{STACKS[key].stack_name}: up to date" for key in ("shared", "tweet_hashtags")
    ]  # nothing uploaded, nothing updated


@pytest.mark.own_server
def test_a_changed_layer_is_published_as_a_new_version_that_the_functions_take(layer_zip, layered_aws):
    server, deployer, _ = layered_aws
    changed = layer_zip_with(layer_zip, "python/changed.txt", b"another layer")
    key = deployer.upload_once(f"lambda-layers/{LAYER_PARAMETER}", changed)
    deployer.deploy_stack("tweet_hashtags", {**deployer.parameters("tweet_hashtags"), LAYER_PARAMETER: key})
    functions = server.client("lambda")
    [version] = functions.list_layer_versions(LayerName=LAYER_NAME)["LayerVersions"]  # the first one is deleted
    assert version["Version"] == 2
    content = functions.get_layer_version(LayerName=LAYER_NAME, VersionNumber=2)["Content"]
    assert content["CodeSha256"] == base64.b64encode(hashlib.sha256(changed).digest()).decode()
    assert attached_layers(functions) == {
        "producer": [version["LayerVersionArn"]],
        "consumer": [],
        "stage": [version["LayerVersionArn"]],
    }


@pytest.mark.own_server
def test_deploying_without_layers_detaches_and_deletes_the_layer(layered_aws):
    server, _, _ = layered_aws
    Deployer(endpoint_url=server.endpoint, lambda_layers=False, log=lambda _: None).deploy(["tweet_hashtags"])
    functions = server.client("lambda")
    assert attached_layers(functions) == {"producer": [], "consumer": [], "stage": []}
    assert functions.list_layer_versions(LayerName=LAYER_NAME)["LayerVersions"] == []


def test_the_default_local_deploy_attaches_no_layer(local_aws, stacks):
    cloudformation, functions = local_aws.client("cloudformation"), local_aws.client("lambda")
    stack_name = STACKS["tweet_hashtags"].stack_name
    parameters = {
        item["ParameterKey"]: item["ParameterValue"]
        for item in cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["Parameters"]
    }
    assert parameters[LAYER_PARAMETER] == ""
    assert functions.list_layers()["Layers"] == []  # the condition left the layer version out
    assert attached_layers(functions) == {"producer": [], "consumer": [], "stage": []}


def attached_layers(functions) -> dict[str, list[str]]:
    """The layer version ARNs each tweet_hashtags function lists in its configuration."""
    settings = variables()["tweet_hashtags"]
    return {
        role: [
            layer["Arn"]
            for layer in functions.get_function(FunctionName=settings[f"{role}_function"])["Configuration"].get(
                "Layers", []
            )
        ]
        for role in ("producer", "consumer", "stage")
    }


def layer_zip_with(layer: bytes, name: str, body: bytes) -> bytes:
    """``layer`` with one more file: other content, so another key."""
    buffer = io.BytesIO(layer)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(name, body)
    return buffer.getvalue()
