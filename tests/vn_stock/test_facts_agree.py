"""Each vn_stock fact kept in several files says the same everywhere: the clean columns (Glue job, table DDL, the
load that reads the clean files by header), the raw and clean prefixes (scraper default, DAG, stack) and the
job's script."""

from __future__ import annotations

import re

from vn_stock_scraper import ScrapeConfig

from tests.helpers.facts import (
    PROJECT_ROOT,
    ddl_columns,
    module_constant,
    resources_of_type,
    script_paths,
    strings_in,
)


def test_clean_columns_are_the_tables_columns_in_order():
    assert module_constant("include/glue/vn_stock_clean.py", "CLEAN_COLUMNS") == ddl_columns(
        "include/sql/vn_stock/create_daily_index.sql", "vn_stock.daily_index"
    )


def test_raw_prefix_is_the_same_in_the_scraper_and_the_stack(monkeypatch):
    monkeypatch.delenv("RAW_PREFIX", raising=False)
    monkeypatch.setenv("RAW_BUCKET", "b")
    prefix = ScrapeConfig.from_env({}).prefix
    [scraper] = resources_of_type("vn_stock", "AWS::Lambda::Function").values()
    assert scraper["Environment"]["Variables"]["RAW_PREFIX"] == prefix
    assert f"${{RawBucket.Arn}}/{prefix}/*" in strings_in(resources_of_type("vn_stock", "AWS::IAM::Role"))


def test_the_dags_clean_prefix_is_the_one_the_job_may_write():
    [clean_prefix] = re.findall(
        r'CLEAN_URI = f"s3://\{RAW_BUCKET\}/([^"]+)"', (PROJECT_ROOT / "dags" / "vn_stock.py").read_text()
    )
    assert f"${{RawBucket.Arn}}/{clean_prefix}*" in strings_in(resources_of_type("vn_stock", "AWS::IAM::Role"))


def test_the_stack_runs_the_job_script_in_the_repository():
    assert script_paths("vn_stock") == ["glue/vn_stock_clean.py"]
    assert (PROJECT_ROOT / "include" / "glue" / "vn_stock_clean.py").is_file()
