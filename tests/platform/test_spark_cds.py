"""Spark's class archive (``local_platform/spark_cds.py``): a Spark JVM with the tests' options maps it, a
missing one adds no option, and a JVM that cannot use it starts as it would without it, silently."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from local_platform import spark_cds

pytestmark = pytest.mark.spark

SMALL_JOB = """
from pyspark.sql import SparkSession, functions as F
spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
print("rows", spark.range(1000).groupBy((F.col("id") % 7).alias("k")).count().count())
spark.stop()
"""


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """The archive make setup built; a run without make setup builds one of its own."""
    built = spark_cds.archive_path()
    return built if built.exists() else spark_cds.build(tmp_path_factory.mktemp("cds") / "spark.jsa")


def test_a_spark_jvm_with_the_tests_options_maps_the_archive(archive):
    # -Xshare:on: a JVM that cannot map the archive refuses to start instead of starting without it.
    options = f"-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:SharedArchiveFile={archive} -Xshare:on"
    env = {**os.environ, "SPARK_SUBMIT_OPTS": options}
    done = subprocess.run([sys.executable, "-c", SMALL_JOB], env=env, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr[-3000:]
    assert "rows 7" in done.stdout


def test_without_an_archive_there_is_no_option(tmp_path, monkeypatch):
    monkeypatch.setattr(spark_cds, "ARCHIVE_DIR", tmp_path)

    assert spark_cds.jvm_options() == ""


def test_a_jvm_on_another_class_path_starts_without_the_archive_and_without_a_word(archive, tmp_path):
    def java_version(options: str) -> subprocess.CompletedProcess:
        command = [str(spark_cds._java()), *options.split(), "-cp", str(tmp_path), "-version"]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    quiet = java_version(f"-XX:SharedArchiveFile={archive} {spark_cds.QUIET}")
    loud = java_version(f"-XX:SharedArchiveFile={archive}")

    assert quiet.returncode == 0 and loud.returncode == 0, (quiet.stderr, loud.stderr)
    assert "Unable to use shared archive" in loud.stdout + loud.stderr
    assert "archive" not in quiet.stdout + quiet.stderr


def test_options_that_name_an_archive_keep_theirs(tmp_path, monkeypatch):
    monkeypatch.setattr(spark_cds, "ARCHIVE_DIR", tmp_path)
    spark_cds.archive_path().write_bytes(b"built")

    assert spark_cds.with_archive("-Xss4m") == f"-Xss4m {spark_cds.jvm_options()}"
    assert spark_cds.with_archive("-XX:SharedArchiveFile=/elsewhere.jsa") == "-XX:SharedArchiveFile=/elsewhere.jsa"
