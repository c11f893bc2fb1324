"""Glue job: clean the scraped VN-Index history (raw CSV, the page's text) into typed rows.

Pure transforms first (tested with PySpark on the seed rows), then a thin ``main``:

    --run_date        the run's (first) trading day, YYYY-MM-DD
    --raw_uris        comma-separated raw CSV objects (s3://.../raw/vn_stock/dt=YYYY-MM-DD/YYYYMMDD.csv)
    --clean_uri       prefix for the cleaned CSV, partitioned by dt=YYYY-MM-DD (only those dates replaced)
    --quarantine_uri  where rejected rows and their ``reason`` go (replaced on each run; no objects when none)
    --report_uri      the job report read by the DAG (``glue_io.JobReport``), with the trading dates written

A trading date seen twice is no silent duplicate: the rows may differ, so the later ones are quarantined
("duplicate RECORDED_DATE") and the report's ``duplicates`` is always 0. The counts are observed while the clean
rows are written; the quarantine is written only when there are rows to put in it.
"""

from __future__ import annotations

import glue_io
from pyspark.sql import DataFrame, Observation, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

RAW_COLUMNS = [
    "RECORDED_DATE",
    "CLOSE_PRICE",
    "INDEX_CHANGE",
    "MACHED_VOLUME",
    "MACHED_AMOUNT",
    "SELF_DEALED_VOLUME",
    "SELF_DEALED_AMOUNT",
    "OPEN_PRICE",
    "HIGHEST_PRICE",
    "LOWEST_PRICE",
]
RAW_SCHEMA = T.StructType([T.StructField(name, T.StringType()) for name in RAW_COLUMNS])
CLEAN_COLUMNS = [
    "trading_date",
    "close_price",
    "change_value",
    "change_percent",
    "matched_volume",
    "matched_amount",
    "deal_volume",
    "deal_amount",
    "open_price",
    "high_price",
    "low_price",
]
# "-1.61(-0.15 %)": change in points, then in percent of the previous close.
CHANGE_PATTERN = r"^\s*([+-]?[0-9][0-9,]*(?:\.[0-9]+)?)\s*\(\s*([+-]?[0-9]+(?:\.[0-9]+)?)\s*%\s*\)\s*$"
NUMBER_PATTERN = r"^\s*[+-]?[0-9][0-9,]*(\.[0-9]+)?\s*$"
INTEGER_PATTERN = r"^\s*[+-]?[0-9][0-9,]*\s*$"  # a volume with decimals is not a volume
NO_RESULTS_TEXT = "KHÔNG CÓ KẾT QUẢ PHÙ HỢP"
PRICES = ["close_price", "open_price", "high_price", "low_price"]


def parse_date(column: str):
    """dd/MM/yyyy text -> date (null when it is not one)."""
    text = F.trim(F.col(column))
    return F.when(text.rlike(r"^\d{2}/\d{2}/\d{4}$"), F.to_date(text, "dd/MM/yyyy"))


def parse_number(column: str, spark_type: str = "double"):
    """Text with thousands separators ("740,255,909", "1,100.07") -> number (null when it is not one)."""
    text = F.trim(F.col(column))
    pattern = INTEGER_PATTERN if spark_type == "bigint" else NUMBER_PATTERN
    return F.when(text.rlike(pattern), F.regexp_replace(text, ",", "").cast(spark_type))


def parse_change(column: str):
    """``-1.61(-0.15 %)`` -> (change value, change percent) columns, null when the text does not match."""
    text = F.col(column)
    matches = text.rlike(CHANGE_PATTERN)
    value = F.when(matches, F.regexp_replace(F.regexp_extract(text, CHANGE_PATTERN, 1), ",", "").cast("double"))
    percent = F.when(matches, F.regexp_extract(text, CHANGE_PATTERN, 2).cast("double"))
    return value, percent


def raw_name(column: str) -> str:
    # Spark resolves names case-insensitively: CLOSE_PRICE would clash with close_price.
    return f"raw_{column}"


def typed(raw: DataFrame) -> DataFrame:
    """Raw text columns (renamed raw_*) with the typed columns next to them (nulls where parsing failed)."""
    renamed = raw.select(*(F.col(column).alias(raw_name(column)) for column in RAW_COLUMNS))
    change_value, change_percent = parse_change(raw_name("INDEX_CHANGE"))
    return renamed.select(
        "*",
        parse_date(raw_name("RECORDED_DATE")).alias("trading_date"),
        parse_number(raw_name("CLOSE_PRICE")).alias("close_price"),
        change_value.alias("change_value"),
        change_percent.alias("change_percent"),
        parse_number(raw_name("MACHED_VOLUME"), "bigint").alias("matched_volume"),
        parse_number(raw_name("MACHED_AMOUNT")).alias("matched_amount"),
        parse_number(raw_name("SELF_DEALED_VOLUME"), "bigint").alias("deal_volume"),
        parse_number(raw_name("SELF_DEALED_AMOUNT")).alias("deal_amount"),
        parse_number(raw_name("OPEN_PRICE")).alias("open_price"),
        parse_number(raw_name("HIGHEST_PRICE")).alias("high_price"),
        parse_number(raw_name("LOWEST_PRICE")).alias("low_price"),
    )


# (raw column, the typed column it becomes): a raw value that does not parse is the row's reason.
_PARSED_FROM = [
    ("RECORDED_DATE", "trading_date"),
    ("CLOSE_PRICE", "close_price"),
    ("INDEX_CHANGE", "change_value"),
    ("MACHED_VOLUME", "matched_volume"),
    ("MACHED_AMOUNT", "matched_amount"),
    ("SELF_DEALED_VOLUME", "deal_volume"),
    ("SELF_DEALED_AMOUNT", "deal_amount"),
    ("OPEN_PRICE", "open_price"),
    ("HIGHEST_PRICE", "high_price"),
    ("LOWEST_PRICE", "low_price"),
]
NO_RESULTS = "no-results marker row"
HIGH_BELOW_LOW = "high_price below low_price"
DUPLICATE_DATE = "duplicate RECORDED_DATE"
# Every first reason a row can be quarantined for (the report counts rows per reason, values left out).
REASONS = (
    NO_RESULTS,
    *[f"unparseable {raw}" for raw, _ in _PARSED_FROM],
    *[f"{price} not positive" for price in PRICES],
    HIGH_BELOW_LOW,
    DUPLICATE_DATE,
)


def _rules():
    """(broken, reason as the report counts it, reason as the quarantine shows it) in the order they apply."""
    rules = [(F.upper(F.trim(F.col(raw_name("RECORDED_DATE")))) == NO_RESULTS_TEXT, NO_RESULTS, F.lit(NO_RESULTS))]
    for raw, parsed in _PARSED_FROM:
        text = F.coalesce(F.col(raw_name(raw)), F.lit("<empty>"))
        rules.append((F.col(parsed).isNull(), f"unparseable {raw}", F.concat(F.lit(f"unparseable {raw}: "), text)))
    rules += [(F.col(price) <= 0, f"{price} not positive", F.lit(f"{price} not positive")) for price in PRICES]
    rules.append((F.col("high_price") < F.col("low_price"), HIGH_BELOW_LOW, F.lit(HIGH_BELOW_LOW)))
    return rules


def _first(rules, pick):
    chosen = F.lit(None).cast("string")
    for rule in reversed(rules):
        chosen = F.when(rule[0], pick(rule)).otherwise(chosen)
    return chosen


def checked(raw: DataFrame) -> DataFrame:
    """Typed rows with ``reason`` (the first rule broken, with the value; null when clean) and ``first_reason``
    (the same rule as the report counts it). One row per trading date: a date seen twice keeps its first row and
    quarantines the others."""
    rules = _rules()
    rows = typed(raw).withColumns(
        {"reason": _first(rules, lambda rule: rule[2]), "first_reason": _first(rules, lambda rule: F.lit(rule[1]))}
    )
    first = Window.partitionBy("trading_date").orderBy(F.monotonically_increasing_id())
    repeated = F.col("reason").isNull() & (F.row_number().over(first) > 1)
    return rows.withColumns(
        {
            "reason": F.when(repeated, F.lit(DUPLICATE_DATE)).otherwise(F.col("reason")),
            "first_reason": F.when(repeated, F.lit(DUPLICATE_DATE)).otherwise(F.col("first_reason")),
        }
    )


def good_rows(rows: DataFrame) -> DataFrame:
    """Clean rows with CLEAN_COLUMNS + dt."""
    return rows.where(F.col("reason").isNull()).select(
        *CLEAN_COLUMNS, F.date_format("trading_date", "yyyy-MM-dd").alias("dt")
    )


def quarantined_rows(rows: DataFrame) -> DataFrame:
    """The rejected rows as they were scraped, with their ``reason`` and ``first_reason`` (which
    ``glue_io.write_quarantine`` tallies and does not write)."""
    return rows.where(F.col("reason").isNotNull()).select(
        *(F.col(raw_name(column)).alias(column) for column in RAW_COLUMNS), "reason", "first_reason"
    )


def clean(raw: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(clean rows with CLEAN_COLUMNS + dt, rejected raw rows with a ``reason``)."""
    rows = checked(raw)
    return good_rows(rows), quarantined_rows(rows)


def report_counts() -> list:
    """The report's counts over ``checked`` rows, to observe while the clean rows are written."""
    trading_date = F.when(F.col("reason").isNull(), F.date_format("trading_date", "yyyy-MM-dd"))
    return [
        F.count(F.lit(1)).alias("read"),
        # As text: an observed array reaches Python as a Java object (PySpark 3.5), which failed every run.
        F.concat_ws(",", F.collect_set(trading_date)).alias("trading_dates"),
        glue_io.quarantined_count(F.col("first_reason")),
    ]


def report(
    observed: dict, quarantine_reasons: dict[str, int], run_date: str, details: dict | None = None
) -> glue_io.JobReport:
    """The job report from the counts of ``report_counts`` and the quarantine's rows by first reason."""
    read, quarantined = int(observed["read"]), int(observed["quarantined"] or 0)
    return glue_io.JobReport(
        run_date=run_date,
        read=read,
        loaded=read - quarantined,
        quarantined=quarantined,
        duplicates=0,
        quarantine_reasons=quarantine_reasons,
        details={
            "trading_dates": sorted(filter(None, (observed["trading_dates"] or "").split(","))),
            **(details or {}),
        },
    )


def summarize(rows: DataFrame, run_date: str) -> glue_io.JobReport:
    """The report of ``checked`` rows in one aggregate (the job observes the same counts while writing its output
    and its quarantine)."""
    observed = rows.agg(*report_counts(), *glue_io.reason_tallies(F.col("first_reason"), REASONS)).first().asDict()
    return report(observed, glue_io.tallied_reasons(observed, REASONS), run_date)


def main(argv: list[str]) -> dict:
    args = glue_io.resolve_args(argv, ["run_date", "raw_uris", "clean_uri", "quarantine_uri", "report_uri"])
    spark = glue_io.spark_session("vn_stock_clean")
    uris = [uri.strip() for uri in args["raw_uris"].split(",") if uri.strip()]
    # The scraper writes RFC 4180 CSV (a quote in a value is doubled); Spark's default escape is a backslash.
    rows = checked(glue_io.read(spark, uris, "csv", schema=RAW_SCHEMA, header="true", encoding="UTF-8", escape='"'))
    counts = Observation("vn_stock_report")
    glue_io.write(
        good_rows(rows.observe(counts, *report_counts())), args["clean_uri"], "csv", partition_by=["dt"], header="true"
    )
    observed = counts.get
    tallies = glue_io.write_quarantine(
        quarantined_rows(rows), args["quarantine_uri"], int(observed["quarantined"]), REASONS, "first_reason", "csv"
    )
    details = {"clean_uri": args["clean_uri"], "quarantine_uri": args["quarantine_uri"]}
    result = report(observed, tallies, args["run_date"], details)
    return glue_io.write_report(args["report_uri"], result)


if __name__ == "__main__":
    glue_io.job_main(main)
