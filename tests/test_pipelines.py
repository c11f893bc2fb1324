"""The registry of pipelines (pipelines.yaml) and each pipeline's files agree: its DAG, its stack, its demo
scenario, its settings, its tests and the README's table. Adding a pipeline is its own files plus one entry."""

from __future__ import annotations

import ast
import importlib

import pytest

from deploy.pipelines import PROJECT_ROOT, names, pipelines, readme_table
from deploy.stacks import DEFAULT_STACKS, STACKS
from local_platform.__main__ import DEMO_PIPELINES
from local_platform.settings import connections, variables

PIPELINES = pipelines()


def test_names_are_unique_snake_case_and_everything_that_lists_pipelines_lists_these():
    assert len(set(names())) == len(names()) and all(name.isidentifier() and name.islower() for name in names())
    assert DEMO_PIPELINES == names()
    assert DEFAULT_STACKS == ("shared", *names())
    assert set(STACKS) == {"shared", "mwaa", *names()}
    dag_files = {path.stem for path in (PROJECT_ROOT / "dags").glob("*.py")}
    assert dag_files == set(names()), "every DAG file is a registered pipeline and the other way round"


@pytest.mark.parametrize("pipeline", PIPELINES, ids=lambda pipeline: pipeline.name)
def test_a_pipelines_files_exist_and_agree(pipeline):
    name = pipeline.name
    dag_ids = [
        call.keywords
        for call in ast.walk(ast.parse((PROJECT_ROOT / pipeline.dag_file).read_text()))
        if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "DAG"
    ]
    assert [keyword.value.id for keywords in dag_ids for keyword in keywords if keyword.arg == "dag_id"] == [
        "PIPELINE"
    ], f"{pipeline.dag_file}: DAG(dag_id=PIPELINE)"
    assert f'PIPELINE = "{name}"' in (PROJECT_ROOT / pipeline.dag_file).read_text()
    assert (PROJECT_ROOT / "deploy" / "cloudformation" / pipeline.template).is_file()
    assert f"airflow/variables/{name}" in (PROJECT_ROOT / "deploy" / "cloudformation" / pipeline.template).read_text()
    assert importlib.import_module(f"local_platform.demo.{name}").SCENARIO.dag_id == name
    assert isinstance(variables()[name], dict), f"airflow_settings.yaml has no JSON variable {name}"
    assert (PROJECT_ROOT / "tests" / name).is_dir() and list((PROJECT_ROOT / "tests" / name).glob("test_*.py"))
    if pipeline.aurora_connection:
        assert connections()[pipeline.aurora_connection]["conn_type"] == "postgres"


def test_the_readme_table_is_the_registrys():
    assert readme_table() in (PROJECT_ROOT / "README.md").read_text(), (
        "regenerate the README's pipeline table: python -m deploy.pipelines"
    )


# Properties that name an AWS artifact a pipeline owns, and the spelling AWS allows for each: the pipeline's name
# as it is (snake_case) where underscores are allowed, with hyphens where the service refuses underscores.
NAME_PROPERTIES = {
    "FunctionName": "_",
    "RoleName": "_",
    "ManagedPolicyName": "_",
    "Name": "_",
    "DBClusterIdentifier": "-",
    "DBSubnetGroupName": "-",
    "NamespaceName": "-",
    "WorkgroupName": "-",
    "StreamName": "_",
    "QueueName": "-",
    "TopicName": "-",
    "LayerName": "_",
}


def _named_artifacts(template: dict):
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        for prop, value in [
            *properties.items(),
            *properties.get("DatabaseInput", {}).items(),
            *properties.get("TableInput", {}).items(),
        ]:
            if prop in NAME_PROPERTIES and isinstance(value, str):
                yield logical_id, prop, value


@pytest.mark.parametrize("pipeline", PIPELINES, ids=lambda pipeline: pipeline.name)
def test_every_artifact_a_pipeline_names_starts_with_the_pipelines_name(pipeline):
    from deploy.templates import load_template

    template = load_template(pipeline.template.removesuffix(".yaml"))
    misnamed = []
    for logical_id, prop, value in _named_artifacts(template):
        if prop == "Name" and (value == "glueetl" or value.startswith("airflow/")):
            continue  # a Glue command's kind; secrets are named by the secrets backend's prefix
        spelled = pipeline.name.replace("_", NAME_PROPERTIES[prop])
        if not value.startswith((spelled + NAME_PROPERTIES[prop], spelled + "/")) and value != spelled:
            misnamed.append(f"{logical_id}.{prop} = {value!r} (expected to start with {spelled!r})")
    assert not misnamed, "\n".join(misnamed)


@pytest.mark.parametrize("pipeline", PIPELINES, ids=lambda pipeline: pipeline.name)
def test_every_lambda_zip_a_stack_takes_is_declared_with_its_folder(pipeline):
    """deploy.stacks fills a pipeline stack's code parameters from its template's Metadata.LambdaCode alone, so a
    new pipeline's Lambdas need no edit outside its own files."""
    from deploy.stacks import lambda_code
    from deploy.templates import load_template

    name = pipeline.template.removesuffix(".yaml")
    code_parameters = {key for key in load_template(name)["Parameters"] if key.endswith("CodeKey")}
    declared = lambda_code(name)
    assert set(declared) == code_parameters
    assert all((PROJECT_ROOT / "include" / "lambda" / folder).is_dir() for folder in declared.values()), declared


@pytest.mark.parametrize("pipeline", PIPELINES, ids=lambda pipeline: pipeline.name)
def test_every_lambda_layer_a_stack_takes_is_declared_with_the_folders_whose_requirements_it_holds(pipeline):
    """deploy.stacks builds a stack's layers from its template's Metadata.LambdaLayers alone: every function
    folder of the stack with a requirements.txt is in one, and each layer version is for the Python and
    architecture deploy.lambda_zips builds wheels for, as are the functions it serves."""
    from deploy.lambda_zips import LAYER_ARCHITECTURE, LAYER_PYTHON_VERSION
    from deploy.stacks import LAMBDA_DIR, lambda_code, lambda_layers
    from deploy.templates import load_template

    name = pipeline.template.removesuffix(".yaml")
    template = load_template(name)
    declared = lambda_layers(name)
    assert set(declared) == {key for key in template["Parameters"] if key.endswith("LayerKey")}
    in_layers = {folder for folders in declared.values() for folder in folders}
    with_requirements = {
        folder for folder in lambda_code(name).values() if (LAMBDA_DIR / folder / "requirements.txt").is_file()
    }
    assert in_layers == with_requirements
    resources = template["Resources"].values()
    layer_versions = [
        resource["Properties"] for resource in resources if resource["Type"] == "AWS::Lambda::LayerVersion"
    ]
    assert sorted(layer["Content"]["S3Key"]["Ref"] for layer in layer_versions) == sorted(declared)
    for layer in layer_versions:
        assert layer["CompatibleRuntimes"] == [f"python{LAYER_PYTHON_VERSION}"]
        assert layer["CompatibleArchitectures"] == [LAYER_ARCHITECTURE]
    code_parameters = {parameter for parameter, folder in lambda_code(name).items() if folder in in_layers}
    served = [
        resource["Properties"]
        for resource in resources
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"]["Code"].get("S3Key", {}).get("Ref") in code_parameters
    ]
    assert len(served) == len(code_parameters)
    for function in served:
        assert function["Runtime"] == f"python{LAYER_PYTHON_VERSION}"
        assert function.get("Architectures", ["x86_64"]) == [LAYER_ARCHITECTURE]  # Lambda's default is x86_64
        assert "Layers" in function
