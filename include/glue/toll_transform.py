"""Glue job: one day's landed toll transactions -> typed, deduplicated rows staged for the Redshift load.

Reads every file of the day's landing partition as text lines. Lines are strict JSON (the current
generator) or Python dict literals with single quotes (files written by the original generator), both read by
Spark's own JSON parser (literals: single quotes allowed, ``None``/``True``/``False`` as JSON's words; nothing
is ever evaluated). Bad records go to quarantine with a reason; duplicates of a ``transaction_id`` are dropped
(the first one by file name and position wins); the rest are staged.

One pass over the landed files in the common case: the report's counts are observed while the staged rows are
written; the quarantine is written (a second, shuffle-free pass, tallying its rows by reason) only when there is
something to put in it.

    --run_date 2026-11-23 --landing_uri s3://.../landing/toll/dt=2026-11-23/
    --staging_uri s3://.../staging/toll/dt=2026-11-23/ --quarantine_uri s3://.../quarantine/toll/dt=2026-11-23/
    --report_uri s3://.../reports/toll/dt=2026-11-23/report.json [--staging_format csv|parquet]
"""

from __future__ import annotations

import functools
import operator

import glue_io
from pyspark.sql import DataFrame, Observation, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

RAW_FIELDS = (
    "transaction_id",
    "transaction_date",
    "toll_booth",
    "vehicle_make",
    "vehicle_category",
    "transaction_amount",
)
# Column order of toll_table: the staged files and the COPY column list follow it.
STAGED_COLUMNS = (
    "transaction_id",
    "transaction_date",
    "toll_booth",
    "vehicle_make",
    "vehicle_category",
    "transaction_amount",
    "landing_date",
)
QUARANTINE_COLUMNS = ("source_file", "line", "reason", "landing_date")
# What toll_table's columns hold (include/sql/toll_plaza/create_toll_table.sql): a value beyond them would fail
# the day's COPY, so its record is quarantined instead.
MAX_LENGTHS = {"toll_booth": 64, "vehicle_make": 64, "vehicle_category": 128}
MAX_AMOUNT = 99_999_999.99  # DECIMAL(10, 2)
_CORRUPT = "_corrupt_record"
# Every field is read as text (numbers keep their literal digits) and typed by ``validate``.
_RAW_SCHEMA = T.StructType(
    [T.StructField(name, T.StringType()) for name in RAW_FIELDS] + [T.StructField(_CORRUPT, T.StringType())]
)
_STRICT_JSON = {"allowSingleQuotes": "false", "mode": "PERMISSIVE", "columnNameOfCorruptRecord": _CORRUPT}
_DICT_LITERAL = {**_STRICT_JSON, "allowSingleQuotes": "true"}
# Python's words for null and booleans where a value starts (after ':', ',' or '['), as JSON spells them.
_PYTHON_WORDS = {"None": "null", "True": "true", "False": "false"}
UNPARSEABLE = "unparseable: neither a JSON object nor a dict literal"
# Every reason a record can be quarantined for, first match wins (the report counts rows per reason).
REASONS = (
    "not valid UTF-8",
    UNPARSEABLE,
    "missing transaction_id",
    "transaction_id is not a positive integer",
    "missing transaction_date",
    "transaction_date is not a valid yyyy/mm/dd or ISO date",
    "missing toll_booth",
    "missing vehicle_category",
    "missing transaction_amount",
    "transaction_amount is not a number",
    "transaction_amount is not positive",
    "transaction_amount out of range for DECIMAL(10, 2)",
    *[f"{name} is not text" for name in MAX_LENGTHS],
    *[f"{name} longer than {limit} characters" for name, limit in MAX_LENGTHS.items()],
)


def with_source(lines: DataFrame) -> DataFrame:
    """Text lines of the landed files -> (source_file, position, line), blank lines dropped."""
    return (
        lines.withColumn("source_file", F.element_at(F.split(F.input_file_name(), "/"), -1))
        .withColumn("position", F.monotonically_increasing_id())
        .withColumnRenamed("value", "line")
        .where(F.trim("line") != "")
    )


def _as_json_words(line):
    """A dict literal's None/True/False as null/true/false wherever a value starts (never inside a quoted value
    that merely contains ``: None``, since only lines strict JSON rejected are rewritten)."""
    for word, json_word in _PYTHON_WORDS.items():
        line = F.regexp_replace(line, rf"([:\[,]\s*){word}(\s*[,\]}}])", rf"$1{json_word}$2")
    return line


def _ends_an_object(line):
    """The line ends with ``}`` and whitespace at most (tested without a regex for most lines)."""
    return line.endswith("}") | line.rlike(r"\}\s*$")


def _is_object(record):
    return record.isNotNull() & record[_CORRUPT].isNull()


def parse_lines(lines: DataFrame) -> DataFrame:
    """(source_file, position, line) -> the raw fields as text, plus ``parsed`` (false when unreadable). A line
    strict JSON reads is taken as it is; only the others are read again as a dict literal, in the same pass."""
    strict = F.from_json("line", _RAW_SCHEMA, _STRICT_JSON)
    literal = F.from_json(_as_json_words(F.col("line")), _RAW_SCHEMA, _DICT_LITERAL)
    record = F.when(_is_object(strict), strict).otherwise(literal)
    return lines.withColumn("record", record).select(
        "source_file",
        "position",
        "line",
        *[F.col(f"record.{name}").alias(name) for name in RAW_FIELDS],
        # Spark's JSON reader stops after the first object: "{...} trailing words" must not pass as that object.
        (_is_object(F.col("record")) & _ends_an_object(F.col("line"))).alias("parsed"),
    )


def _parse_date(text):
    """yyyy/mm/dd (original generator) or ISO yyyy-mm-dd[Thh:mm...]; impossible dates become null."""
    day = F.regexp_extract(text, r"^\s*(\d{4}[-/]\d{2}[-/]\d{2})(?:[T ].*)?$", 1)
    return F.when(
        day != "",
        F.make_date(*[F.substring(day, start, length).cast("int") for start, length in ((1, 4), (6, 2), (9, 2))]),
    )


def validate(parsed: DataFrame, landing_date: str) -> DataFrame:
    """Cast to the table's types; ``reason`` names the first problem of a bad record (null when good)."""
    typed = parsed.select(
        "source_file",
        "position",
        "line",
        "parsed",
        *[F.trim(F.col(name)).alias(f"raw_{name}") for name in RAW_FIELDS],
        F.when(F.trim("transaction_id").rlike(r"^\d{1,18}$"), F.trim("transaction_id").cast("bigint")).alias(
            "transaction_id"
        ),
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
        functools.reduce(
            operator.or_,
            [F.col(name).contains("\ufffd") for name in ["line", *[f"raw_{field}" for field in RAW_FIELDS]]],
        ),
        ~F.col("parsed"),
        F.col("raw_transaction_id").isNull(),
        F.col("transaction_id").isNull() | (F.col("transaction_id") <= 0),
        F.col("raw_transaction_date").isNull(),
        F.col("transaction_date").isNull(),
        F.coalesce(F.col("toll_booth"), F.lit("")) == "",
        F.coalesce(F.col("vehicle_category"), F.lit("")) == "",
        F.col("raw_transaction_amount").isNull(),
        amount.isNull() | F.isnan(amount) | (amount == float("inf")),
        amount <= 0,
        amount > MAX_AMOUNT,
        # A JSON array or object where text belongs is read as its JSON text.
        *[F.col(name).rlike(r"^[\[{]") for name in MAX_LENGTHS],
        *[F.length(name) > limit for name, limit in MAX_LENGTHS.items()],
    ]
    reason = F.lit(None).cast("string")
    for failed, message in reversed(list(zip(checks, REASONS, strict=True))):
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


def report_counts() -> list:
    """The report's counts as aggregates over ``transform``'s rows, to observe while they are written."""
    return [
        F.count(F.lit(1)).alias("read"),
        F.sum(F.when(F.col("duplicate"), 1).otherwise(0)).alias("duplicates"),
        glue_io.quarantined_count(F.col("reason")),
    ]


def job_report(
    run_date: str, observed: dict, quarantine_reasons: dict[str, int], details: dict | None = None
) -> glue_io.JobReport:
    """The job report from the counts of ``report_counts`` and the quarantine's rows by reason; JobReport checks
    that they add up."""
    read, quarantined, duplicates = (int(observed[name] or 0) for name in ("read", "quarantined", "duplicates"))
    return glue_io.JobReport(
        run_date=run_date,
        read=read,
        loaded=read - quarantined - duplicates,
        quarantined=quarantined,
        duplicates=duplicates,
        quarantine_reasons=quarantine_reasons,
        details=details or {},
    )


def summarize(marked: DataFrame, run_date: str) -> glue_io.JobReport:
    """The report of ``transform``'s rows in one aggregate (the job observes the same counts while writing its
    output and its quarantine)."""
    observed = marked.agg(*report_counts(), *glue_io.reason_tallies(F.col("reason"), REASONS)).first().asDict()
    return job_report(run_date, observed, glue_io.tallied_reasons(observed, REASONS))


def transform(lines: DataFrame, landing_date: str) -> DataFrame:
    """Text lines of the landed files -> every record typed, with ``reason`` and ``duplicate`` flags."""
    return mark_duplicates(validate(parse_lines(with_source(lines)), landing_date))


def main(argv: list[str]) -> dict:
    args = glue_io.resolve_args(
        argv,
        ["run_date", "landing_uri", "staging_uri", "quarantine_uri", "report_uri"],
        optional={"staging_format": "csv"},
    )
    spark = glue_io.spark_session("toll_transform")
    validated = validate(parse_lines(with_source(glue_io.read(spark, args["landing_uri"], "text"))), args["run_date"])
    marked = mark_duplicates(validated)
    counts = Observation("toll_report")
    # RFC 4180 quoting (a quote doubled, as Redshift's COPY ... CSV reads it), not Spark's default backslash.
    options = {"header": "true", "escape": '"'} if args["staging_format"] == "csv" else {}
    glue_io.write(
        staged_rows(marked.observe(counts, *report_counts())), args["staging_uri"], args["staging_format"], **options
    )
    observed = counts.get
    # Quarantined rows never depend on the duplicate check: read again without its shuffle, and only if any.
    tallies = glue_io.write_quarantine(
        quarantined_rows(validated), args["quarantine_uri"], int(observed["quarantined"]), REASONS
    )
    report = job_report(
        args["run_date"],
        observed,
        tallies,
        {
            "staging_uri": args["staging_uri"],
            "staging_format": args["staging_format"],
            "quarantine_uri": args["quarantine_uri"],
        },
    )
    return glue_io.write_report(args["report_uri"], report)


if __name__ == "__main__":
    glue_io.job_main(main)
