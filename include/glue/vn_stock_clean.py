"""Glue job: clean the scraped VN-Index history (raw CSV, the page's text) into typed rows.

Pure transforms first (tested with PySpark on the seed rows), then a thin ``main``:

    --raw_uris     comma-separated raw CSV objects (s3://.../raw/vn_stock/dt=YYYY-MM-DD/YYYYMMDD.csv)
    --clean_uri    prefix for the cleaned CSV, partitioned by dt=YYYY-MM-DD (only those dates replaced)
    --rejects_uri  where rejected rows and their reasons go (replaced on each run)
    --report_uri   JSON report read by the DAG: counts, trading dates, reject reasons
"""

from __future__ import annotations

import glue_io
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

RAW_COLUMNS = [
    "RECORDED_DATE", "CLOSE_PRICE", "INDEX_CHANGE", "MACHED_VOLUME", "MACHED_AMOUNT",
    "SELF_DEALED_VOLUME", "SELF_DEALED_AMOUNT", "OPEN_PRICE", "HIGHEST_PRICE", "LOWEST_PRICE",
]
RAW_SCHEMA = T.StructType([T.StructField(name, T.StringType()) for name in RAW_COLUMNS])
CLEAN_COLUMNS = [
    "trading_date", "close_price", "change_value", "change_percent", "matched_volume", "matched_amount",
    "deal_volume", "deal_amount", "open_price", "high_price", "low_price",
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


def reject_reason():
    """The first rule a typed row breaks, or null when it is clean."""
    unparsed = [
        ("RECORDED_DATE", "trading_date"), ("CLOSE_PRICE", "close_price"), ("INDEX_CHANGE", "change_value"),
        ("MACHED_VOLUME", "matched_volume"), ("MACHED_AMOUNT", "matched_amount"),
        ("SELF_DEALED_VOLUME", "deal_volume"), ("SELF_DEALED_AMOUNT", "deal_amount"),
        ("OPEN_PRICE", "open_price"), ("HIGHEST_PRICE", "high_price"), ("LOWEST_PRICE", "low_price"),
    ]
    reason = F.when(F.upper(F.trim(F.col(raw_name("RECORDED_DATE")))) == NO_RESULTS_TEXT,
                    F.lit("no-results marker row"))
    for raw, parsed in unparsed:
        text = F.coalesce(F.col(raw_name(raw)), F.lit("<empty>"))
        reason = reason.when(F.col(parsed).isNull(), F.concat(F.lit(f"unparseable {raw}: "), text))
    for price in PRICES:
        reason = reason.when(F.col(price) <= 0, F.lit(f"{price} not positive"))
    return reason.when(F.col("high_price") < F.col("low_price"), F.lit("high_price below low_price"))


def clean(raw: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(clean rows with CLEAN_COLUMNS + dt, rejected raw rows with a ``reason``). One row per trading date:
    a date seen twice keeps its first row and rejects the others."""
    checked = typed(raw).withColumn("reason", reject_reason())
    first = Window.partitionBy("trading_date").orderBy(F.monotonically_increasing_id())
    checked = checked.withColumn(
        "reason",
        F.when(F.col("reason").isNull() & (F.row_number().over(first) > 1), F.lit("duplicate RECORDED_DATE"))
        .otherwise(F.col("reason")),
    )
    good = (checked.where(F.col("reason").isNull())
            .select(*CLEAN_COLUMNS, F.date_format("trading_date", "yyyy-MM-dd").alias("dt")))
    rejected = checked.where(F.col("reason").isNotNull()).select(
        *(F.col(raw_name(column)).alias(column) for column in RAW_COLUMNS), "reason")
    return good, rejected


def report(good: DataFrame, rejected: DataFrame, input_rows: int) -> dict:
    reasons = {row["reason"]: row["count"] for row in rejected.groupBy("reason").count().collect()}
    dates = sorted(row["dt"] for row in good.select("dt").distinct().collect())
    return {
        "input_rows": input_rows,
        "clean_rows": good.count(),
        "rejected_rows": sum(reasons.values()),
        "reject_reasons": reasons,
        "trading_dates": dates,
    }


def main(argv: list[str]) -> None:
    args = glue_io.resolve_args(argv, ["raw_uris", "clean_uri", "rejects_uri", "report_uri"])
    spark = glue_io.spark_session("vn_stock_clean")
    uris = [uri.strip() for uri in args["raw_uris"].split(",") if uri.strip()]
    # The scraper writes RFC 4180 CSV (a quote in a value is doubled); Spark's default escape is a backslash.
    raw = glue_io.read(spark, uris, "csv", schema=RAW_SCHEMA, header="true", encoding="UTF-8", escape='"').cache()
    good, rejected = clean(raw)
    good, rejected = good.cache(), rejected.cache()
    summary = report(good, rejected, raw.count())
    glue_io.write(good, args["clean_uri"], "csv", partition_by=["dt"], header="true")
    glue_io.delete_prefix(args["rejects_uri"])
    if summary["rejected_rows"]:
        glue_io.write(rejected.coalesce(1), args["rejects_uri"], "csv", header="true")
    glue_io.write_json(args["report_uri"], {**summary, "clean_uri": args["clean_uri"]})


if __name__ == "__main__":
    glue_io.job_main(main)
