"""The README's "Add a pipeline" steps, followed to the letter in a copy of the repository: a minimal pipeline made of
its own files and one registry entry is picked up by the registry, the stacks, the demo, the settings and the DAG
integrity tests, without touching anything else."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from deploy.pipelines import PROJECT_ROOT

NAME = "hello_pipeline"
DAG = '''"""hello_pipeline: says hello to a bucket (a minimal pipeline, made by tests/test_add_a_pipeline.py)."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.sdk import DAG, task
from pipeline_kit.alerts import success_notifier
from pipeline_kit.defaults import dag_defaults
from pipeline_kit.settings import RUN_DATE, PipelineSettings

PIPELINE = "hello_pipeline"
SETTINGS = PipelineSettings(PIPELINE)


@task(on_success_callback=[success_notifier(PIPELINE)])
def say_hello(bucket: str) -> dict:
    return {"hello": bucket}


with DAG(dag_id=PIPELINE, schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False, max_active_runs=1,
         tags=[PIPELINE], **dag_defaults(PIPELINE)) as dag:
    wait = S3KeySensor(task_id="wait_for_hello", bucket_name=SETTINGS.bucket, bucket_key=f"hello/{RUN_DATE}",
                       deferrable=True, timeout=600)
    wait >> say_hello(SETTINGS.bucket)
'''
TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Description: hello_pipeline stack, its bucket, the policy of its DAG and its Airflow variable.
Parameters:
  NameSuffix:
    Type: String
    Default: ""
  SharedStackName:
    Type: String
    Default: etl-shared
Conditions:
  HasNameSuffix: !Not [!Equals [!Ref NameSuffix, ""]]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub
        - hello-pipeline-data-${Suffix}
        - Suffix: !If [HasNameSuffix, !Ref NameSuffix, !Ref AWS::AccountId]
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: AES256
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
      LifecycleConfiguration:
        Rules:
          - Id: expire-hellos
            Status: Enabled
            Prefix: hello/
            ExpirationInDays: 30
          - Id: abort-incomplete-uploads
            Status: Enabled
            AbortIncompleteMultipartUpload:
              DaysAfterInitiation: 7
  DagPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Roles:
        - {"Fn::ImportValue": !Sub "${SharedStackName}-MwaaExecutionRoleName"}
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: s3:ListBucket
            Resource: !GetAtt Bucket.Arn
  PipelineVariable:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: airflow/variables/hello_pipeline
      SecretString: !Sub '{"bucket": "${Bucket}"}'
"""
DEMO = '''"""Demo of hello_pipeline: one day."""

from local_platform.demo import DemoScenario, PipelineReport

SCENARIO = DemoScenario(dag_id="hello_pipeline", dates=["2026-01-02"], prepare=lambda ctx: None,
                        report=lambda ctx: PipelineReport(0, 0, []))
'''
TEST = """def test_hello():
    assert True
"""


def _copy_of_the_repository(target: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_a_new_pipeline_is_its_own_files_and_one_registry_entry(tmp_path):
    repo = _copy_of_the_repository(tmp_path / "repo")
    untouched = {path.relative_to(repo): path.read_bytes() for path in repo.rglob("*") if path.is_file()}

    # The steps of the README's "Add a pipeline", files only.
    with (repo / "pipelines.yaml").open("a") as registry:
        registry.write(f"  - name: {NAME}\n    summary: says hello to a bucket\n")
    (repo / "dags" / f"{NAME}.py").write_text(DAG)
    (repo / "deploy" / "cloudformation" / f"{NAME}.yaml").write_text(TEMPLATE)
    settings = (repo / "airflow_settings.yaml").read_text()
    (repo / "airflow_settings.yaml").write_text(
        settings + f'    - variable_name: {NAME}\n      variable_value: \'{{"bucket": "hello-pipeline-data-local"}}\'\n'
    )
    (repo / "local_platform" / "demo" / f"{NAME}.py").write_text(DEMO)
    (repo / "tests" / NAME).mkdir()
    (repo / "tests" / NAME / "__init__.py").write_text("")
    (repo / "tests" / NAME / f"test_{NAME}.py").write_text(TEST)
    run = lambda *args: subprocess.run([sys.executable, *args], cwd=repo, capture_output=True, text=True)  # noqa: E731
    env_file = run("-m", "local_platform.settings")
    (repo / "docker" / "airflow-settings.env").write_text(env_file.stdout)
    readme = (repo / "README.md").read_text()
    table = run("-m", "deploy.pipelines").stdout.strip()
    start = readme.index("| pipeline | DAG | what it does |")
    (repo / "README.md").write_text(readme[:start] + table + readme[readme.index("\n\n", start) :])

    changed = sorted(str(path) for path, content in untouched.items() if (repo / path).read_bytes() != content)
    assert changed == ["README.md", "airflow_settings.yaml", "docker/airflow-settings.env", "pipelines.yaml"]

    picked_up = run(
        "-c",
        "import json; from deploy.stacks import STACKS; from local_platform.__main__ import "
        "DEMO_PIPELINES; from local_platform.settings import variables; "
        "print(json.dumps([sorted(STACKS), list(DEMO_PIPELINES), variables()['hello_pipeline']]))",
    )
    stacks, demo, variable = json.loads(picked_up.stdout.strip().splitlines()[-1])
    assert NAME in stacks and NAME in demo and variable == {"bucket": "hello-pipeline-data-local"}

    checks = run(
        "-m",
        "pytest",
        "-v",
        "-p",
        "no:cacheprovider",
        "tests/test_pipelines.py",
        "tests/dags",
        "tests/deploy/test_templates.py",
        "tests/platform/test_docker_compose.py",
        f"tests/{NAME}",
    )
    assert checks.returncode == 0, checks.stdout[-4000:]
    for test in (
        "test_a_pipelines_files_exist_and_agree[hello_pipeline]",
        "test_dag_file_imports_offline_without_errors_or_warnings[hello_pipeline.py]",
    ):
        assert f"{test} PASSED" in checks.stdout
