"""Glue job: one day's billing CSV files -> Snappy Parquet partition ``dt=YYYY-MM-DD`` + quarantine + report.

Every CSV under ``--raw_uri`` is read as text records (RFC 4180: a quoted field may span lines), its
headers normalised to snake_case and matched by name to the declared schema (so column order and
spreadsheet-style headers do not matter), values trimmed, exact duplicate records dropped, then cast. A row
whose value cannot be cast, whose required value is missing, or that has more fields than its header, goes to
``--quarantine_uri`` with its ``reason`` (every problem of the row); the rest are written under
``--output_uri``, replacing only the ``dt=<--run_date>`` partition. The job report (``glue_io.JobReport``: read,
loaded, quarantined, duplicates, quarantine_reasons by each row's first problem) goes to ``--report_uri``.

Outcomes the DAG relies on:
- a file whose header lacks a required column, or reject rate (quarantined / distinct rows) above
  ``--max_reject_rate``: report (``status`` "rejected", the good rows counted as ``held_back``) and quarantine
  are written, the partition is left as it was, and the job fails with ``glue_io.DataError`` (the DAG fails at
  once, without retries, with this cause);
- no data rows at all (empty or header-only files): report with zero counts and ``status`` "empty",
  and the ``dt`` partition removed, since the partition always mirrors the day's raw files.

Passes over the data: one, staging the good rows while the report's counts are observed (the counts then decide
whether the staged files replace the partition); a second only to write the quarantine, when there is one, while
its rows are tallied by reason.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import glue_io
from pyspark.sql import DataFrame, Observation
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
REASON = "reason"  # every problem of a quarantined row, in the quarantine file
FIRST_REASON = "first_reason"  # its first problem without the value, as the report counts it
STRUCTURE_ERROR = "structure_error"
MORE_FIELDS = "more fields than the header"
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
    return df.select(*columns, F.when(surplus.isNotNull(), F.lit(MORE_FIELDS)).alias(STRUCTURE_ERROR))


def drop_exact_duplicates(df: DataFrame, source_files: list[str], schema=BILLING_SCHEMA) -> DataFrame:
    """One row per distinct line of data with the number of ``copies`` it had; of copies in several files (the
    ``source_files`` in ``df``), the first file by name is kept (so reruns give the same rows). Files are compared
    by their place among the names sorted: the minimum of a number lets Spark group the rows by hashing them,
    where a minimum of text makes it sort every row, twice. The rows are spread by their values before grouping,
    so that all the grouping runs in parallel even for a file read by one task (one whose records span lines,
    ``glue_io.spans_lines``), which would otherwise also pre-aggregate its rows, alone, when nearly all are
    distinct."""
    names = sorted(source_files)
    rank = F.create_map(*[F.lit(part) for position, name in enumerate(names) for part in (name, position)])
    keys = [*[name for name, _, _ in schema], STRUCTURE_ERROR]
    return (
        df.withColumn("source_file", rank[F.col("source_file")])  # a number, not a file name, through the shuffle
        .repartition(*keys)
        .groupBy(*keys)
        .agg(F.min("source_file").alias("source_file"), F.count(F.lit(1)).alias(COPIES))
        .withColumn("source_file", F.array(*[F.lit(name) for name in names])[F.col("source_file")])
    )


def cannot_cast(name: str, sql_type: str) -> str:
    return f"{name}: cannot cast to {sql_type}"


def missing_value(name: str) -> str:
    return f"{name}: required value missing"


def not_utf8(name: str) -> str:
    return f"{name}: not valid UTF-8"


def reasons(schema=BILLING_SCHEMA) -> tuple[str, ...]:
    """Every first reason a row can be quarantined for, in the order the checks run."""
    per_column = [
        [not_utf8(name), cannot_cast(name, sql_type)] + ([missing_value(name)] if required else [])
        for name, sql_type, required in schema
    ]
    return (MORE_FIELDS, *[reason for column in per_column for reason in column])


def typed_value(raw, sql_type: str):
    """``raw`` text cast to ``sql_type`` (null when it cannot be)."""
    value = raw.cast(sql_type)
    if sql_type == "date":  # Spark's cast reads "2025" and "2025-01" as January 1st, "2025-01-15 25:99" as the 15th
        value = F.when(raw.rlike(ISO_DATE), value)
    return value


def cast_with_errors(df: DataFrame, schema=BILLING_SCHEMA) -> DataFrame:
    """Cast each declared column; ``reason`` lists the record's structure error and every value that failed
    (null when none), ``first_reason`` names the first of them without its value. Each value is cast once, in a
    projection of its own that the checks then read: written as one projection, Spark computes it inside the
    dedupe's aggregate, where it does not share a cast between the value and the checks of it (a decimal parsed
    twice)."""
    data = [name for name, _, _ in schema]
    others = [column for column in df.columns if column not in {*data, STRUCTURE_ERROR}]
    cast = df.select(
        *[typed_value(F.col(name), sql_type).alias(name) for name, sql_type, _ in schema],
        *others,
        STRUCTURE_ERROR,
        *[F.col(name).alias(f"_raw_{name}") for name in data],
    )
    errors = [F.col(STRUCTURE_ERROR)]
    kinds = [F.when(F.col(STRUCTURE_ERROR).isNotNull(), F.lit(MORE_FIELDS))]
    for name, sql_type, required in schema:
        raw, value = F.col(f"_raw_{name}"), F.col(name)
        # Spark decodes bytes that are not UTF-8 as U+FFFD: the value as sent is lost, so it cannot load.
        garbled = raw.contains("\ufffd")
        errors.append(F.when(garbled, F.lit(not_utf8(name))))
        kinds.append(F.when(garbled, F.lit(not_utf8(name))))
        failed = raw.isNotNull() & value.isNull() & ~garbled
        errors.append(F.when(failed, F.concat(F.lit(f"{name}: cannot cast '"), raw, F.lit(f"' to {sql_type}"))))
        kinds.append(F.when(failed, F.lit(cannot_cast(name, sql_type))))
        if required:
            errors.append(F.when(raw.isNull(), F.lit(missing_value(name))))
            kinds.append(F.when(raw.isNull(), F.lit(missing_value(name))))
    reason = F.concat_ws("; ", F.array(*errors))
    return cast.select(
        *data,
        *others,
        F.when(reason != "", reason).alias(REASON),
        F.coalesce(*kinds).alias(FIRST_REASON),
        *[f"_raw_{name}" for name in data],
    )


def _others(df: DataFrame, schema) -> list[str]:
    data = {name for name, _, _ in schema}
    return [
        column
        for column in df.columns
        if column not in data | {f"_raw_{name}" for name in data} | {REASON, FIRST_REASON, COPIES}
    ]


def good_rows(df: DataFrame, schema=BILLING_SCHEMA) -> DataFrame:
    """The typed rows without errors. A row has a first reason exactly when it has any, so the full ``reason``
    text is not needed here: drop it before this (and before observing counts) and it is never built."""
    return df.filter(F.col(FIRST_REASON).isNull()).select(*[name for name, _, _ in schema], *_others(df, schema))


def quarantined_rows(df: DataFrame, schema=BILLING_SCHEMA) -> DataFrame:
    """The rejected rows as they arrived, with ``reason`` and ``first_reason`` (which ``glue_io.write_quarantine``
    tallies and does not write)."""
    return df.filter(F.col(FIRST_REASON).isNotNull()).select(
        *[F.col(f"_raw_{name}").alias(name) for name, _, _ in schema], *_others(df, schema), REASON, FIRST_REASON
    )


def split_good_and_quarantine(df: DataFrame, schema=BILLING_SCHEMA) -> tuple[DataFrame, DataFrame]:
    """(``good_rows``, ``quarantined_rows``)."""
    return good_rows(df, schema), quarantined_rows(df, schema)


def prepare_file(df: DataFrame, source_file: str, schema=BILLING_SCHEMA) -> DataFrame:
    """One raw file, as read (all text), to the declared columns plus the file it came from."""
    normalised = normalise_headers(df)
    check_required_columns(normalised, source_file, schema)
    return conform_to_schema(normalised, schema).withColumn("source_file", F.lit(source_file))


def empty_file(spark, schema=BILLING_SCHEMA) -> DataFrame:
    """A prepared file without rows (the day's files are all empty)."""
    names = [name for name, _, _ in schema] + [STRUCTURE_ERROR, "source_file"]
    return spark.createDataFrame([], ", ".join(f"`{name}` string" for name in names))


def transform(files: dict[str, DataFrame], ingested_at: datetime, schema=BILLING_SCHEMA) -> DataFrame:
    """{source file: its ``prepare_file`` frame} -> the distinct rows cast, with reason, first_reason, raw values,
    copies and ingested_at."""
    frames = list(files.values())
    combined = frames[0]
    for frame in frames[1:]:
        combined = combined.unionByName(frame)
    distinct = drop_exact_duplicates(combined, list(files), schema).withColumn(
        "ingested_at", F.lit(ingested_at).cast("timestamp")
    )
    return cast_with_errors(distinct, schema)


def report_counts() -> list:
    """The report's counts as aggregates over ``transform``'s rows: rows read (the copies each distinct row stood
    for), distinct rows, and the quarantined ones."""
    return [
        F.sum(COPIES).alias("read"),
        F.count(F.lit(1)).alias("distinct"),
        glue_io.quarantined_count(F.col(FIRST_REASON)),
    ]


def counted(counts: dict) -> tuple[int, int, int]:
    """(rows read, distinct rows, quarantined rows) from ``report_counts``' values."""
    return int(counts["read"] or 0), int(counts["distinct"] or 0), int(counts["quarantined"] or 0)


def count_rows(cast: DataFrame, schema=BILLING_SCHEMA) -> tuple[int, int, int, dict[str, int]]:
    """``counted`` of ``transform``'s result and the quarantined rows by first reason, in one aggregate (the job
    observes the same while writing its output and its quarantine)."""
    counts = cast.agg(*report_counts(), *glue_io.reason_tallies(F.col(FIRST_REASON), reasons(schema))).first()
    return (*counted(counts.asDict()), glue_io.tallied_reasons(counts.asDict(), reasons(schema)))


def load_status(distinct: int, quarantined: int, max_reject_rate: float) -> str:
    """The run's outcome: "empty" without rows, "rejected" when the reject rate is above the maximum, else
    "loaded"."""
    if not distinct:
        return "empty"
    return "rejected" if quarantined / distinct > max_reject_rate else "loaded"


def report(
    read: int,
    distinct: int,
    quarantined: int,
    quarantine_reasons: dict[str, int],
    max_reject_rate: float,
    run_date: str,
    files: list[str],
) -> glue_io.JobReport:
    """The job report: ``status`` "loaded", "empty", or "rejected" (reject rate above the maximum: nothing is
    written, and the good rows are counted as ``held_back``)."""
    reject_rate = round(quarantined / distinct, 6) if distinct else 0.0
    status = load_status(distinct, quarantined, max_reject_rate)
    good = distinct - quarantined
    return glue_io.JobReport(
        run_date=run_date,
        read=read,
        loaded=good if status != "rejected" else 0,
        quarantined=quarantined,
        duplicates=read - distinct,
        held_back=good if status == "rejected" else 0,
        quarantine_reasons=quarantine_reasons,
        details={"status": status, "files": files, "reject_rate": reject_rate, "max_reject_rate": max_reject_rate},
    )


def spark_session():
    spark = glue_io.spark_session("csv_lake_to_parquet")
    # Spark's default INT96 timestamps are legacy; microseconds read the same in Athena, pyarrow and pandas.
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    # Dates as they are (proleptic Gregorian, as Athena and pyarrow read them): Spark 3's default refuses to write
    # a date before 1582-10-15, so one far-past invoice_date would fail the whole day.
    spark.conf.set("spark.sql.parquet.datetimeRebaseModeInWrite", "CORRECTED")
    return spark


def stage_good_rows(cast: DataFrame, output_uri: str, run_date: str) -> tuple[glue_io.StagedOutput, Observation]:
    """The one pass over the data: ``transform``'s good rows staged as Snappy Parquet for the ``dt=run_date``
    partition while the report's counts (``report_counts``) are observed; the counts then decide whether the staged
    files replace the partition (``load_status``)."""
    counts = Observation("csv_lake_report")
    good = good_rows(cast.drop(REASON).observe(counts, *report_counts()))
    staged = glue_io.stage(good, output_uri, "parquet", partition={"dt": run_date}, compression="snappy")
    return staged, counts


def main(argv: list[str]) -> dict:
    args = glue_io.resolve_args(
        argv, ["raw_uri", "output_uri", "quarantine_uri", "report_uri", "run_date"], {"max_reject_rate": "0.05"}
    )
    run_date, max_reject_rate = args["run_date"], float(args["max_reject_rate"])
    datetime.strptime(run_date, "%Y-%m-%d")  # a malformed date must not create a stray partition
    bucket, _ = glue_io.split_uri(args["raw_uri"])
    sources = sorted(
        f"s3://{bucket}/{key}" for key in glue_io.list_keys(args["raw_uri"]) if key.lower().endswith(".csv")
    )
    if not sources:
        raise FileNotFoundError(f"no .csv files under {args['raw_uri']}")
    spark = spark_session()
    ingested_at = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    # One read per file: each file's header is normalised on its own, and source_file is the S3 URI
    # (input_file_name() would name the local staging copy).
    frames = {uri: glue_io.read_csv(spark, uri) for uri in sources}
    files = {uri: prepare_file(frame, uri) for uri, frame in frames.items() if frame is not None}
    cast = transform(files or {"": empty_file(spark)}, ingested_at)
    staged, counts = stage_good_rows(cast, args["output_uri"], run_date)
    read, distinct, quarantined = counted(counts.get)
    status = load_status(distinct, quarantined, max_reject_rate)
    partition_uri = f"{args['output_uri'].rstrip('/')}/dt={run_date}/"
    if status == "loaded":
        staged.publish()
    else:
        staged.discard()
    if status == "empty":
        glue_io.delete_prefix(partition_uri)
    tallies = glue_io.write_quarantine(
        quarantined_rows(cast), args["quarantine_uri"], quarantined, reasons(), FIRST_REASON, "csv"
    )
    result = report(read, distinct, quarantined, tallies, max_reject_rate, run_date, sources)
    written = glue_io.write_report(args["report_uri"], result)
    if status == "rejected":
        raise glue_io.DataError(
            f"reject rate {result.details['reject_rate']:.2%} is above the maximum {max_reject_rate:.2%}: "
            f"{result.quarantined} of {result.read - result.duplicates} rows quarantined to "
            f"{args['quarantine_uri']}; partition {partition_uri} left unchanged"
        )
    return written


if __name__ == "__main__":
    glue_io.job_main(main)
