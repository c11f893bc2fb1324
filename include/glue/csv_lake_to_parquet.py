"""Glue job: one day's billing CSV files -> Snappy Parquet partition ``dt=YYYY-MM-DD`` + quarantine + report.

Every CSV under ``--raw_uri`` is read as text records (RFC 4180: a quoted field may span lines), its
headers normalised to snake_case and matched by name to the declared schema (so column order and
spreadsheet-style headers do not matter), values trimmed, exact duplicate records dropped, then cast. A row
whose value cannot be cast, whose required value is missing, or that has more fields than its header, goes to
``--quarantine_uri`` with the reason; the rest are written under ``--output_uri``, replacing only the run's
``dt`` partition. A JSON report with the counts goes to ``--report_uri``.

Outcomes the DAG relies on:
- a file whose header lacks a required column, or reject rate (quarantined / distinct rows) above
  ``--max_reject_rate``: report and quarantine are written, the partition is left as it was, and the job
  fails with ``glue_io.DataError`` (the DAG fails at once, without retries, with this cause);
- no data rows at all (empty or header-only files): report with zero counts and ``status`` "empty",
  and the ``dt`` partition removed, since the partition always mirrors the day's raw files.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import glue_io
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

# The declared schema of the billing dataset: (column, Spark SQL type, required).
BILLING_SCHEMA = (
    ("invoice_id", "string", True),
    ("invoice_date", "date", True),
    ("customer_id", "string", True),
    ("customer_name", "string", False),
    ("product_code", "string", True),
    ("product_description", "string", False),
    ("category", "string", False),
    ("quantity_kg", "decimal(12,3)", True),
    ("unit_price", "decimal(12,2)", True),
    ("currency", "string", False),
    ("vat_rate", "decimal(5,3)", False),
    ("line_total", "decimal(14,2)", False),
    ("payment_status", "string", False),
    ("due_date", "date", False),
)
REJECT_REASON = "reject_reason"
STRUCTURE_ERROR = "structure_error"
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
COPIES = "copies"  # lines each distinct row stood for, so the rows read are counted without a second pass


def snake_case(header: str) -> str:
    """``' Invoice ID'``, ``'InvoiceDate'``, ``'VATRate'``, ``'Quantity (kg)'`` -> ``invoice_id``, ... ``quantity_kg``."""
    text = header.replace("\ufeff", "").strip()
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)  # VATRate -> VAT_Rate
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)  # invoiceDate -> invoice_Date
    return re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()


def normalise_headers(df: DataFrame) -> DataFrame:
    """Rename every column to snake_case; two headers meaning the same column is an error."""
    names = [name if name == glue_io.EXTRA_FIELDS else snake_case(name) for name in df.columns]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise glue_io.DataError(f"headers {df.columns} give duplicate columns after normalising: {clashes}")
    return df.toDF(*names)


def check_required_columns(df: DataFrame, source_file: str, schema=BILLING_SCHEMA) -> None:
    """A file whose header lacks a required column cannot give a single good row."""
    missing = [name for name, _, required in schema if required and name not in df.columns]
    if missing:
        raise glue_io.DataError(f"{source_file}: header {df.columns} lacks required column(s) {missing}")


def conform_to_schema(df: DataFrame, schema=BILLING_SCHEMA) -> DataFrame:
    """The declared columns in declared order, as trimmed text (blank -> null); absent ones are null; unknown ones
    dropped; ``structure_error`` says when the record had more fields than its header."""
    columns = []
    for name, _, _ in schema:
        if name in df.columns:
            trimmed = F.trim(F.col(name).cast("string"))
            columns.append(F.when(trimmed == "", None).otherwise(trimmed).alias(name))
        else:
            columns.append(F.lit(None).cast("string").alias(name))
    surplus = F.col(glue_io.EXTRA_FIELDS) if glue_io.EXTRA_FIELDS in df.columns else F.lit(None)
    return df.select(*columns, F.when(surplus.isNotNull(), F.lit("more fields than the header")).alias(STRUCTURE_ERROR))


def drop_exact_duplicates(df: DataFrame, schema=BILLING_SCHEMA) -> DataFrame:
    """One row per distinct line of data with the number of ``copies`` it had; of copies in several files,
    the first file by name is kept (so reruns give the same rows)."""
    return df.groupBy(*[name for name, _, _ in schema], STRUCTURE_ERROR).agg(
        F.min("source_file").alias("source_file"), F.count(F.lit(1)).alias(COPIES))


def cast_with_errors(df: DataFrame, schema=BILLING_SCHEMA) -> DataFrame:
    """Cast each declared column; ``reject_reason`` lists the record's structure error and every value that failed
    (null when none)."""
    errors = [F.col(STRUCTURE_ERROR)]
    typed = []
    for name, sql_type, required in schema:
        raw, value = F.col(name), F.col(name).cast(sql_type)
        if sql_type == "date":  # Spark's cast reads "2025" and "2025-01" as January 1st, "2025-01-15 25:99" as the 15th
            value = F.when(raw.rlike(ISO_DATE), value)
        # Spark decodes bytes that are not UTF-8 as U+FFFD: the value as sent is lost, so it cannot load.
        errors.append(F.when(raw.contains("\ufffd"), F.lit(f"{name}: not valid UTF-8")))
        errors.append(F.when(raw.isNotNull() & value.isNull() & ~raw.contains("\ufffd"),
                             F.concat(F.lit(f"{name}: cannot cast '"), raw, F.lit(f"' to {sql_type}"))))
        if required:
            errors.append(F.when(raw.isNull(), F.lit(f"{name}: required value missing")))
        typed.append(value.alias(name))
    reason = F.concat_ws("; ", F.array(*errors))
    others = [F.col(column) for column in df.columns
              if column not in {name for name, _, _ in schema} | {STRUCTURE_ERROR}]
    return df.select(*typed, *others, F.when(reason != "", reason).alias(REJECT_REASON),
                     *[F.col(name).alias(f"_raw_{name}") for name, _, _ in schema])


def split_good_and_quarantine(df: DataFrame, schema=BILLING_SCHEMA) -> tuple[DataFrame, DataFrame]:
    """(typed rows without errors, the rejected rows as they arrived, with ``reject_reason``)."""
    data = [name for name, _, _ in schema]
    raw = [f"_raw_{name}" for name in data]
    others = [column for column in df.columns if column not in set(data) | set(raw) | {REJECT_REASON, COPIES}]
    good = df.filter(F.col(REJECT_REASON).isNull()).select(*data, *others)
    rejected = df.filter(F.col(REJECT_REASON).isNotNull()).select(
        *[F.col(f"_raw_{name}").alias(name) for name in data], *others, REJECT_REASON)
    return good, rejected


def prepare_file(df: DataFrame, source_file: str, schema=BILLING_SCHEMA) -> DataFrame:
    """One raw file, as read (all text), to the declared columns plus the file it came from."""
    normalised = normalise_headers(df)
    check_required_columns(normalised, source_file, schema)
    return conform_to_schema(normalised, schema).withColumn("source_file", F.lit(source_file))


def empty_file(spark, schema=BILLING_SCHEMA) -> DataFrame:
    """A prepared file without rows (the day's files are all empty)."""
    names = [name for name, _, _ in schema] + [STRUCTURE_ERROR, "source_file"]
    return spark.createDataFrame([], ", ".join(f"`{name}` string" for name in names))


def transform(files: list[DataFrame], ingested_at: datetime, schema=BILLING_SCHEMA) -> DataFrame:
    """Prepared files -> their distinct rows cast, with reject_reason, raw values, copies and ingested_at."""
    combined = files[0]
    for frame in files[1:]:
        combined = combined.unionByName(frame)
    distinct = drop_exact_duplicates(combined, schema).withColumn("ingested_at", F.lit(ingested_at).cast("timestamp"))
    return cast_with_errors(distinct, schema)


def count_rows(cast: DataFrame) -> tuple[int, int]:
    """(rows read, distinct rows) of ``transform``'s result, in one pass."""
    read, distinct = cast.agg(F.sum(COPIES), F.count(F.lit(1))).first()
    return int(read or 0), int(distinct)


def report(read: int, distinct: int, quarantined: int, max_reject_rate: float, dt: str, files: list[str]) -> dict:
    written = distinct - quarantined
    reject_rate = round(quarantined / distinct, 6) if distinct else 0.0
    if not distinct:
        status = "empty"
    elif reject_rate > max_reject_rate:
        status = "rejected"
    else:
        status = "written"
    return {"dt": dt, "status": status, "files": files, "read": read, "written": written if status == "written" else 0,
            "quarantined": quarantined, "duplicates_dropped": read - distinct, "reject_rate": reject_rate,
            "max_reject_rate": max_reject_rate}


def main(argv: list[str]) -> dict:
    args = glue_io.resolve_args(argv, ["raw_uri", "output_uri", "quarantine_uri", "report_uri", "dt"],
                                {"max_reject_rate": "0.05"})
    dt, max_reject_rate = args["dt"], float(args["max_reject_rate"])
    datetime.strptime(dt, "%Y-%m-%d")  # a malformed date must not create a stray partition
    bucket, _ = glue_io.split_uri(args["raw_uri"])
    sources = sorted(f"s3://{bucket}/{key}" for key in glue_io.list_keys(args["raw_uri"])
                     if key.lower().endswith(".csv"))
    if not sources:
        raise FileNotFoundError(f"no .csv files under {args['raw_uri']}")
    spark = glue_io.spark_session("csv_lake_to_parquet")
    # Spark's default INT96 timestamps are legacy; microseconds read the same in Athena, pyarrow and pandas.
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    # Dates as they are (proleptic Gregorian, as Athena and pyarrow read them): Spark 3's default refuses to write
    # a date before 1582-10-15, so one far-past invoice_date would fail the whole day.
    spark.conf.set("spark.sql.parquet.datetimeRebaseModeInWrite", "CORRECTED")
    ingested_at = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    # One read per file: each file's header is normalised on its own, and source_file is the S3 URI
    # (input_file_name() would name the local staging copy).
    frames = {uri: glue_io.read_csv(spark, uri) for uri in sources}
    files = [prepare_file(frame, uri) for uri, frame in frames.items() if frame is not None] or [empty_file(spark)]
    cast = transform(files, ingested_at).cache()
    read, distinct = count_rows(cast)
    good, rejected = split_good_and_quarantine(cast)
    quarantined = rejected.count()
    result = report(read, distinct, quarantined, max_reject_rate, dt, sources)

    partition_uri = f"{args['output_uri'].rstrip('/')}/dt={dt}/"
    if quarantined:
        glue_io.write(rejected, args["quarantine_uri"], "csv", header="true")
    else:
        glue_io.delete_prefix(args["quarantine_uri"])
    if result["status"] == "written":
        glue_io.write(good.withColumn("dt", F.lit(dt)), args["output_uri"], "parquet", partition_by=["dt"],
                      compression="snappy")
    elif result["status"] == "empty":
        glue_io.delete_prefix(partition_uri)
    glue_io.write_json(args["report_uri"], result)
    if result["status"] == "rejected":
        raise glue_io.DataError(
            f"reject rate {result['reject_rate']:.2%} is above the maximum {max_reject_rate:.2%}: "
            f"{quarantined} of {distinct} rows quarantined to {args['quarantine_uri']}; "
            f"partition {partition_uri} left unchanged")
    return result


if __name__ == "__main__":
    glue_io.job_main(main)
