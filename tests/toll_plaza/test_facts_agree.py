"""Each toll_plaza fact kept in several files says the same everywhere: the staged column order (Glue job, DAG's
COPY, the tables' DDL), the landing prefix (DAG, generator Lambda's default, stack) and the job's script."""

from __future__ import annotations

import toll_generator

from tests.helpers.facts import (
    PROJECT_ROOT,
    ddl_columns,
    module_constant,
    resources_of_type,
    script_paths,
    strings_in,
)

STAGED_COLUMNS = list(module_constant("include/glue/toll_transform.py", "STAGED_COLUMNS"))


def test_staged_columns_are_the_copy_list_and_the_tables_columns():
    assert module_constant("dags/toll_plaza.py", "TOLL_COLUMNS") == STAGED_COLUMNS
    assert ddl_columns("include/sql/toll_plaza/create_toll_table.sql", "public.toll_table") == STAGED_COLUMNS
    # the day's stage is LIKE toll_deliveries: the same columns, the landing day first
    deliveries = ddl_columns("include/sql/toll_plaza/create_toll_deliveries.sql", "public.toll_deliveries")
    assert sorted(deliveries) == sorted(STAGED_COLUMNS)


def test_landing_prefix_is_the_same_in_the_dag_the_lambda_and_the_stack():
    prefix = module_constant("dags/toll_plaza.py", "LANDING_PREFIX")
    assert toll_generator.batch_config({"bucket": "b"}, {})["prefix"] == prefix
    [generator] = resources_of_type("toll_plaza", "AWS::Lambda::Function").values()
    assert generator["Environment"]["Variables"]["LANDING_PREFIX"] == prefix
    [crawler] = resources_of_type("toll_plaza", "AWS::Glue::Crawler").values()
    assert [target["Path"]["Fn::Sub"] for target in crawler["Targets"]["S3Targets"]] == [
        f"s3://${{LandingBucket}}/{prefix}/"
    ]
    landing_arns = [
        text
        for text in strings_in(resources_of_type("toll_plaza", "AWS::IAM::Role"))
        if text.startswith("${LandingBucket.Arn}/")
    ]
    assert landing_arns and set(landing_arns) == {f"${{LandingBucket.Arn}}/{prefix}/*"}


def test_the_stack_runs_the_job_script_in_the_repository():
    assert script_paths("toll_plaza") == ["glue/toll_transform.py"]
    assert all((PROJECT_ROOT / "include" / path).is_file() for path in script_paths("toll_plaza"))
