"""Glue job: one day's landed toll transactions -> typed, deduplicated rows staged for the Redshift load.

Reads every file of the day's landing partition as text lines. Lines are strict JSON (the current
generator) or Python dict literals with single quotes (files written by the original generator, parsed
with ``ast.literal_eval``, never ``eval``). Bad records go to quarantine with a reason; duplicates of a
``transaction_id`` are dropped (the first one by file name and position wins); the rest are staged.

    --run_date 2026-11-23 --landing_uri s3://.../landing/toll/dt=2026-11-23/
    --staging_uri s3://.../staging/toll/dt=2026-11-23/ --quarantine_uri s3://.../quarantine/toll/dt=2026-11-23/
    --report_uri s3://.../reports/toll/dt=2026-11-23/report.json [--staging_format csv|parquet]
"""

from __future__ import annotations

import ast
import json
import sys

import glue_io
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

RAW_FIELDS = ("transaction_id", "transaction_date", "toll_booth", "vehicle_make", "vehicle_category",
              "transaction_amount")
# Column order of toll_table: the staged files and the COPY column list follow it.
STAGED_COLUMNS = ("transaction_id", "transaction_date", "toll_booth", "vehicle_make", "vehicle_category",
                  "transaction_amount", "landing_date")
# What toll_table's columns hold (include/sql/toll_plaza/create_toll_table.sql): a value beyond them would fail
# the day's COPY, so its record is quarantined instead.
MAX_LENGTHS = {"toll_booth": 64, "vehicle_make": 64, "vehicle_category": 128}
MAX_AMOUNT = 99_999_999.99  # DECIMAL(10, 2)
QUARANTINE_COLUMNS = ("source_file", "line", "reason", "landing_date")
_CORRUPT = "_corrupt_record"
# Every field is read as text (numbers keep their literal digits) and typed by ``validate``.
_RAW_SCHEMA = T.StructType([T.StructField(name, T.StringType()) for name in RAW_FIELDS]
                           + [T.StructField(_CORRUPT, T.StringType())])
_STRICT_JSON = {"allowSingleQuotes": "false", "mode": "PERMISSIVE", "columnNameOfCorruptRecord": _CORRUPT}


def literal_to_json(line: str | None) -> str | None:
    """A Python dict literal as strict JSON text, or None when the line is not one."""
    if line is None:
        return None
    try:
        value = ast.literal_eval(line.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return None  # e.g. set or bytes values, which JSON cannot carry


def _shipped_by_value(function):
    """Spark's Python workers import a UDF's module by name; when this script was imported (tests, not
    Glue's ``__main__``) they may not find it, so its functions travel pickled by value instead."""
    if function.__module__ != "__main__":
        from pyspark import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[function.__module__])
    return function


def with_source(lines: DataFrame) -> DataFrame:
    """Text lines of the landed files -> (source_file, position, line), blank lines dropped."""
    return (
        lines.withColumn("source_file", F.element_at(F.split(F.input_file_name(), "/"), -1))
        .withColumn("position", F.monotonically_increasing_id())
        .withColumnRenamed("value", "line")
        .where(F.trim("line") != "")
    )


def parse_lines(lines: DataFrame) -> DataFrame:
    """(source_file, position, line) -> the raw fields as text, plus ``parsed`` (false when unreadable)."""
    attempted = lines.withColumn("record", F.from_json("line", _RAW_SCHEMA, _STRICT_JSON))
    # Spark's JSON reader stops after the first object: "{...} trailing words" must not pass as that object.
    is_json_object = (F.col("record").isNotNull() & F.col(f"record.{_CORRUPT}").isNull()
                      & F.col("line").rlike(r"\}\s*$"))
    strict = attempted.where(is_json_object)
    # Only the lines strict JSON could not read pay for the Python round trip.
    to_json = F.udf(_shipped_by_value(literal_to_json), T.StringType())
    legacy = (
        attempted.where(~is_json_object)
        .withColumn("as_json", to_json("line"))
        .withColumn("record", F.from_json("as_json", _RAW_SCHEMA, _STRICT_JSON))
        .drop("as_json")
    )
    return strict.unionByName(legacy).select(
        "source_file", "position", "line",
        *[F.col(f"record.{name}").alias(name) for name in RAW_FIELDS],
        (F.col("record").isNotNull() & F.col(f"record.{_CORRUPT}").isNull()).alias("parsed"),
    )


def _parse_date(text):
    """yyyy/mm/dd (original generator) or ISO yyyy-mm-dd[Thh:mm...]; impossible dates become null."""
    parts = F.regexp_extract(text, r"^\s*(\d{4})[-/](\d{2})[-/](\d{2})(?:[T ].*)?$", 0)
    return F.when(parts != "", F.make_date(
        F.regexp_extract(text, r"^\s*(\d{4})", 1).cast("int"),
        F.regexp_extract(text, r"^\s*\d{4}[-/](\d{2})", 1).cast("int"),
        F.regexp_extract(text, r"^\s*\d{4}[-/]\d{2}[-/](\d{2})", 1).cast("int"),
    ))


def validate(parsed: DataFrame, landing_date: str) -> DataFrame:
    """Cast to the table's types; ``reason`` names the first problem of a bad record (null when good)."""
    typed = parsed.select(
        "source_file", "position", "line", "parsed",
        *[F.trim(F.col(name)).alias(f"raw_{name}") for name in RAW_FIELDS],
        F.when(F.trim("transaction_id").rlike(r"^\d{1,18}$"), F.trim("transaction_id").cast("bigint"))
        .alias("transaction_id"),
        _parse_date(F.col("transaction_date")).alias("transaction_date"),
        F.trim("toll_booth").alias("toll_booth"),
        F.trim("vehicle_make").alias("vehicle_make"),
        F.trim("vehicle_category").alias("vehicle_category"),
        F.trim("transaction_amount").cast("double").alias("transaction_amount"),
        F.lit(landing_date).cast("date").alias("landing_date"),
    )
    amount = F.col("transaction_amount")
    checks = [
        # Bytes that are not UTF-8 reach the fields as U+FFFD: the value as sent is lost.
        (F.concat_ws("", "line", *[f"raw_{name}" for name in RAW_FIELDS]).contains("\ufffd"), "not valid UTF-8"),
        (~F.col("parsed"), "unparseable: neither a JSON object nor a dict literal"),
        (F.col("raw_transaction_id").isNull(), "missing transaction_id"),
        (F.col("transaction_id").isNull() | (F.col("transaction_id") <= 0),
         "transaction_id is not a positive integer"),
        (F.col("raw_transaction_date").isNull(), "missing transaction_date"),
        (F.col("transaction_date").isNull(), "transaction_date is not a valid yyyy/mm/dd or ISO date"),
        (F.coalesce(F.col("toll_booth"), F.lit("")) == "", "missing toll_booth"),
        (F.coalesce(F.col("vehicle_category"), F.lit("")) == "", "missing vehicle_category"),
        (F.col("raw_transaction_amount").isNull(), "missing transaction_amount"),
        (amount.isNull() | F.isnan(amount) | (amount == float("inf")), "transaction_amount is not a number"),
        (amount <= 0, "transaction_amount is not positive"),
        (amount > MAX_AMOUNT, "transaction_amount out of range for DECIMAL(10, 2)"),
        # A JSON array or object where text belongs is read as its JSON text.
        *[(F.col(name).rlike(r"^[\[{]"), f"{name} is not text") for name in MAX_LENGTHS],
        *[(F.length(name) > limit, f"{name} longer than {limit} characters") for name, limit in MAX_LENGTHS.items()],
    ]
    reason = F.lit(None).cast("string")
    for failed, message in reversed(checks):
        reason = F.when(failed, F.lit(message)).otherwise(reason)
    return typed.withColumn("reason", reason).drop(*[f"raw_{name}" for name in RAW_FIELDS])


def mark_duplicates(validated: DataFrame) -> DataFrame:
    """Flag every good record after the first of its transaction_id (by file name, then position)."""
    first_wins = Window.partitionBy("transaction_id").orderBy("source_file", "position")
    rank = F.when(F.col("reason").isNull(), F.row_number().over(first_wins))
    return validated.withColumn("duplicate", F.coalesce(rank > 1, F.lit(False)))


def staged_rows(marked: DataFrame) -> DataFrame:
    return marked.where(F.col("reason").isNull() & ~F.col("duplicate")).select(*STAGED_COLUMNS)


def quarantined_rows(marked: DataFrame) -> DataFrame:
    return marked.where(F.col("reason").isNotNull()).select(*QUARANTINE_COLUMNS)


def summarize(marked: DataFrame) -> dict:
    """The job report's counts: read = staged + quarantined + duplicates."""
    totals = marked.agg(
        F.count(F.lit(1)).alias("read"),
        F.sum(F.when(F.col("reason").isNotNull(), 1).otherwise(0)).alias("quarantined"),
        F.sum(F.when(F.col("duplicate"), 1).otherwise(0)).alias("duplicates"),
    ).first()
    read, quarantined, duplicates = (int(totals[name] or 0) for name in ("read", "quarantined", "duplicates"))
    reasons = {row["reason"]: row["count"] for row in
               marked.where(F.col("reason").isNotNull()).groupBy("reason").count().collect()}
    return {"read": read, "staged": read - quarantined - duplicates, "quarantined": quarantined,
            "duplicates": duplicates, "quarantine_reasons": reasons}


def transform(lines: DataFrame, landing_date: str) -> DataFrame:
    """Text lines of the landed files -> every record typed, with ``reason`` and ``duplicate`` flags."""
    return mark_duplicates(validate(parse_lines(with_source(lines)), landing_date))


def main(argv: list[str]) -> None:
    args = glue_io.resolve_args(
        argv, ["run_date", "landing_uri", "staging_uri", "quarantine_uri", "report_uri"],
        optional={"staging_format": "csv"},
    )
    spark = glue_io.spark_session("toll_transform")
    marked = transform(glue_io.read(spark, args["landing_uri"], "text"), args["run_date"]).cache()
    options = {"header": "true"} if args["staging_format"] == "csv" else {}
    glue_io.write(staged_rows(marked), args["staging_uri"], args["staging_format"], **options)
    glue_io.write(quarantined_rows(marked), args["quarantine_uri"], "json")
    report = {"run_date": args["run_date"], **summarize(marked), "staging_uri": args["staging_uri"],
              "staging_format": args["staging_format"], "quarantine_uri": args["quarantine_uri"]}
    glue_io.write_json(args["report_uri"], report)
    print(json.dumps(report))


if __name__ == "__main__":
    glue_io.job_main(main)
