"""Each csv_lake fact kept in several files says the same everywhere: the dataset's prefix (DAG, crawlers, the
job's permissions) and the job's script."""

from __future__ import annotations

from tests.helpers.facts import PROJECT_ROOT, module_constant, resources_of_type, script_paths, strings_in

DATASET = module_constant("dags/csv_lake.py", "DATASET")


def test_the_crawlers_read_the_prefix_the_dag_writes():
    paths = sorted(
        target["Path"]["Fn::Sub"]
        for crawler in resources_of_type("csv_lake", "AWS::Glue::Crawler").values()
        for target in crawler["Targets"]["S3Targets"]
    )
    assert paths == sorted([f"s3://${{ProcessedBucket}}/{DATASET}/", f"s3://${{RawBucket}}/{DATASET}/"])


def test_the_job_may_read_and_write_the_prefixes_the_dag_passes_it():
    granted = set(strings_in(resources_of_type("csv_lake", "AWS::IAM::Role")))
    assert {
        f"${{RawBucket.Arn}}/{DATASET}/*",
        f"${{ProcessedBucket.Arn}}/{DATASET}/*",
        f"${{ProcessedBucket.Arn}}/quarantine/{DATASET}/*",
        f"${{ProcessedBucket.Arn}}/reports/{DATASET}/*",
    } <= granted


def test_the_stack_runs_the_job_script_in_the_repository():
    assert script_paths("csv_lake") == ["glue/csv_lake_to_parquet.py"]
    assert (PROJECT_ROOT / "include" / "glue" / "csv_lake_to_parquet.py").is_file()
