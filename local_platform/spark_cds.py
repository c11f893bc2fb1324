"""A class-data-sharing archive of Spark's classes, so that a local Spark JVM maps them instead of loading them.

A Spark JVM's start (session, first small job) loads and verifies some ten thousand classes: 7.3 CPU-s here, 4.5
with this archive (JDK 17's dynamic AppCDS). ``make setup`` builds it once per machine (``python -m
local_platform.spark_cds``: a small job that touches the readers, writers and functions the Glue jobs use, with
``-XX:ArchiveClassesAtExit``), under ``.local/spark-cds/``, named after the JDK and the pyspark it was built with.
``jvm_options()`` gives the option that uses it (nothing when it is missing); a JVM that finds it unusable (another
JDK build, another class path) starts as it would without it. Local only: Glue on AWS starts its own JVMs.

    python -m local_platform.spark_cds    # build the archive unless it exists; print its path
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from local_platform.settings import PROJECT_ROOT

ARCHIVE_DIR = PROJECT_ROOT / ".local" / "spark-cds"
# Unreadable or mismatched archives are not an error (the JVM starts without one): say nothing about them.
QUIET = "-Xlog:cds=off -Xlog:cds+dynamic=off"

TRAINING_JOB = r"""
import sys, tempfile
from pathlib import Path
from pyspark.sql import SparkSession, Window, functions as F

work = Path(tempfile.mkdtemp())
(work / "in.csv").write_text("id,day,amount,doc\n" + "".join(
    f'{i},2024-03-{i % 28 + 1:02d},{i}.5,"{{""a"": {i}, ""b"": ""x{i}""}}"\n' for i in range(2000)))
spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
rows = spark.read.options(header="true", escape='"').csv(str(work / "in.csv"))
typed = rows.select(
    F.col("id").cast("bigint").alias("id"), F.col("day").cast("date").alias("day"),
    F.col("amount").cast("decimal(12,2)").alias("amount"), F.from_json("doc", "a int, b string").alias("doc"),
    F.regexp_extract("day", r"^(\d{4})", 1).alias("year"), F.input_file_name().alias("source"),
)
ranked = typed.withColumn("rank", F.row_number().over(Window.partitionBy("year").orderBy("id")))
grouped = ranked.repartition("day").groupBy("day").agg(F.count(F.lit(1)).alias("n"), F.sum("amount").alias("total"))
grouped.write.mode("overwrite").partitionBy("day").parquet(str(work / "parquet"))
ranked.drop("doc").write.mode("overwrite").option("header", "true").csv(str(work / "csv"))
spark.read.parquet(str(work / "parquet")).count()
spark.read.json(spark.createDataFrame([('{"a": 1}',)], "value string").rdd.map(lambda row: row[0])).count()
spark.read.text(str(work / "in.csv")).agg(F.count_if(F.col("value").contains('"'))).first()
spark.stop()
"""


def _java() -> Path:
    home = os.environ.get("JAVA_HOME")
    java = Path(home) / "bin" / "java" if home else shutil.which("java")
    if java is None:
        raise FileNotFoundError("no java on PATH and no JAVA_HOME: Spark needs Java 17")
    return Path(java).resolve()


def archive_path() -> Path:
    """Where this JDK's archive for this pyspark lives (the name changes when either does). Found without
    importing pyspark: a Glue job run asks for it each time."""
    java = _java()
    version = importlib.metadata.version("pyspark")
    location = importlib.util.find_spec("pyspark").submodule_search_locations[0]
    key = "|".join([str(java), str(java.stat().st_mtime_ns), version, location])
    return ARCHIVE_DIR / f"spark-{version}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.jsa"


def jvm_options() -> str:
    """The JVM options that map the archive, or nothing when it has not been built."""
    path = archive_path()
    return f"-XX:SharedArchiveFile={path} {QUIET}" if path.exists() else ""


def with_archive(java_options: str) -> str:
    """``java_options`` plus ``jvm_options()``, unless they name an archive already."""
    if "-XX:SharedArchiveFile" in java_options:
        return java_options
    return f"{java_options} {jvm_options()}".strip()


def build(path: Path | None = None, java_options: str = "") -> Path:
    """Run the training job in a JVM that archives the classes it loaded, then put the archive in place
    (atomically: a JVM starting meanwhile sees the whole archive or none)."""
    path = path or archive_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(dir=path.parent)) / path.name
    options = f"{java_options} -XX:ArchiveClassesAtExit={partial} {QUIET}".strip()
    env = {**os.environ, "SPARK_SUBMIT_OPTS": options, "PYSPARK_SUBMIT_ARGS": "pyspark-shell"}
    try:
        done = subprocess.run([sys.executable, "-c", TRAINING_JOB], env=env, capture_output=True, text=True)
        if done.returncode or not partial.exists():
            raise RuntimeError(f"the Spark class archive was not written:\n{done.stderr[-3000:]}")
        partial.replace(path)
    finally:
        shutil.rmtree(partial.parent, ignore_errors=True)
    return path


def main() -> int:
    path = archive_path()
    print(path if path.exists() else build(path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
