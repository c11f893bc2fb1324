"""I/O for our Glue scripts: job arguments, the Spark session, and S3 reads and writes.

On AWS Glue this is thin: ``awsglue`` resolves arguments and Spark reads ``s3://`` natively.
Where ``AWS_ENDPOINT_URL`` names a local endpoint (the local platform), Spark has no S3 connector
offline, so reads download the objects to a scratch folder first and writes upload what Spark
wrote. Scripts call only these functions, so the same script runs in both places.

Ship it to Glue with ``--extra-py-files s3://.../glue_io.py``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
import uuid
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

_SCRATCH = None


class DataError(ValueError):
    """The job's input cannot be processed as it is (too many bad rows, a header without a required column, ...).
    Retrying the same input fails the same way: the DAG fails the run at once with this message (the run's
    ``ErrorMessage`` on AWS Glue and locally names this class), instead of retrying as for infrastructure."""


def is_local() -> bool:
    return bool(os.environ.get("AWS_ENDPOINT_URL"))


def resolve_args(argv: list[str], names: list[str], optional: dict[str, str] | None = None) -> dict[str, str]:
    """Glue's ``--name value`` arguments; ``optional`` gives defaults for names that may be absent."""
    optional = optional or {}
    try:
        from awsglue.utils import getResolvedOptions
    except ImportError:
        getResolvedOptions = None
    present = {arg[2:] for arg in argv if arg.startswith("--")}
    wanted = list(names) + [name for name in optional if name in present]
    if getResolvedOptions is not None:
        resolved = getResolvedOptions(argv, wanted)
    else:
        resolved = {}
        for index, arg in enumerate(argv):
            if arg.startswith("--") and arg[2:] in wanted:
                if index + 1 >= len(argv):
                    raise ValueError(f"job argument {arg} has no value")
                resolved[arg[2:]] = argv[index + 1]
        missing = [name for name in names if name not in resolved]
        if missing:
            raise ValueError(f"missing job arguments: {', '.join('--' + name for name in missing)}")
    return {**optional, **resolved}


def spark_session(app_name: str):
    """Glue's Spark session on AWS; a local one (UTC, few shuffle partitions) elsewhere."""
    try:
        from awsglue.context import GlueContext
        from pyspark.context import SparkContext
    except ImportError:
        from pyspark.sql import SparkSession

        return (
            SparkSession.builder.master(os.environ.get("SPARK_MASTER", "local[2]"))
            .appName(app_name)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
            .config("spark.ui.enabled", "false")
            # Shuffle files stay on this machine's disk (its page cache, mostly): compressing them only costs CPU.
            .config("spark.shuffle.compress", "false")
            .getOrCreate()
        )
    spark = GlueContext(SparkContext.getOrCreate()).spark_session
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    return spark


def split_uri(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    if parts.scheme not in ("s3", "s3a"):
        raise ValueError(f"not an S3 URI: {uri}")
    return parts.netloc, parts.path.lstrip("/")


def _s3():
    import boto3

    return boto3.client("s3")


def _scratch() -> Path:
    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = Path(tempfile.mkdtemp(prefix="glue-io-"))
    return _SCRATCH


def list_keys(uri: str) -> list[str]:
    """Keys of the objects under ``uri`` (a prefix or one key), skipping Spark's marker files."""
    bucket, prefix = split_uri(uri)
    keys = []
    for page in _s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return [key for key in keys if not Path(key).name.startswith(("_", "."))]


def _whole_objects():
    """Transfers to and from the local server (moto) in one request per object: moto reads a whole object for each
    ranged GET, so boto3's 8 MB parts copied a 174 MB object 22 times (6.3 s; one GET 0.7 s), and it stores and
    joins the parts of a multipart upload (a 60 MB staged file 2.7 s; one PUT 1.5 s)."""
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(multipart_threshold=1 << 62)


def _download(uri: str) -> str:
    bucket, prefix = split_uri(uri)
    keys = list_keys(uri)
    if not keys:
        raise FileNotFoundError(f"no objects under {uri}")
    target = Path(tempfile.mkdtemp(dir=_scratch(), prefix="in-"))
    client = _s3()
    single_object = keys == [prefix]
    for key in keys:
        relative = Path(key).name if single_object else key[len(prefix) :].lstrip("/")
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(bucket, key, str(path), Config=_whole_objects())
    return str(target / Path(prefix).name) if single_object else str(target)


def local_path(uri: str) -> str:
    """A path Spark can read for ``uri``: the URI itself on AWS, a downloaded copy locally."""
    return _download(uri) if is_local() else uri


def read(spark, uri: str | list[str], fmt: str, schema=None, **options):
    """Read one URI or a list of them in ``fmt`` (csv, json, parquet, text)."""
    uris = [uri] if isinstance(uri, str) else list(uri)
    paths = [local_path(item) for item in uris]
    reader = spark.read.format(fmt).options(**options)
    if schema is not None:
        reader = reader.schema(schema)
    return reader.load(paths)


EXTRA_FIELDS = "_extra_fields"
_RECORD_TEXT = "_record_text"  # a CSV record's text, where Spark keeps it
_HEADER_BYTES = 1 << 16


def read_csv_header(uri: str) -> list[str]:
    """The field names of one CSV object's first record (empty: the object is empty)."""
    bucket, key = split_uri(uri)
    body = _s3().get_object(Bucket=bucket, Key=key)["Body"]  # streamed: only the first bytes are read
    try:
        return csv_header(body)
    finally:
        body.close()


def csv_header(stream) -> list[str]:
    """The field names of the first record in a binary ``stream`` of CSV (empty: no bytes)."""
    import csv
    import io

    text = stream.read(_HEADER_BYTES).decode("utf-8-sig", errors="replace")
    return next(csv.reader(io.StringIO(text, newline="")), [])  # lines end in \n, \r\n or \r alone


def read_csv(spark, uri: str):
    """One CSV object as text columns named by its header (``read_csv_records``); None for an empty object."""
    header = read_csv_header(uri)
    return read_csv_records(spark, uri, header) if header else None


def read_csv_records(spark, uri: str, header: list[str]):
    """The records of a CSV file with this ``header``, as text columns named by it, read the way RFC 4180 writes
    CSV: quoted fields may hold delimiters, doubled quotes and line breaks (one record, not several). A record with
    more fields than the header keeps the surplus in ``EXTRA_FIELDS`` (non-null), so the caller can quarantine it;
    a record with fewer fields reads with its missing trailing values empty.
    Spark reads a file split by lines, in parallel, unless ``spans_lines`` says it must read it whole."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    fields = [f"_c{i}" for i in range(len(header))]
    path = local_path(uri)
    frame = (
        spark.read.schema(StructType([StructField(name, StringType()) for name in [*fields, _RECORD_TEXT]]))
        .options(header="true", enforceSchema="true", escape='"', mode="PERMISSIVE")
        .options(columnNameOfCorruptRecord=_RECORD_TEXT, multiLine=spans_lines(spark, path))
        .csv(path)
    )
    # Spark keeps the text of a record whose field count is not the header's. Only those are parsed again, with one
    # field more, to find a surplus one: a wider schema would make Spark raise and catch an error for every
    # record of the right width (2.2 s per million).
    with_surplus = ", ".join(f"`_c{i}` string" for i in range(len(header) + 1))
    record = F.col(_RECORD_TEXT)
    surplus = F.when(record.isNotNull(), F.from_csv(record, with_surplus, {"escape": '"'})[f"_c{len(header)}"])
    return frame.select(*fields, surplus).toDF(*header, EXTRA_FIELDS)


# A line that is whole records: each field quoted and closed on the line (doubled quotes inside) or without quotes.
_WHOLE_RECORDS_LINE = r'^(?:"(?:[^"]++|"")*+"|[^",]*+)(?:,(?:"(?:[^"]++|"")*+"|[^",]*+))*+$'
# A blank line that is not empty: read whole, it is a record (of blank values); read by lines, Spark skips it.
_BLANK_LINE = r"^[\x00-\x20]+$"


def spans_lines(spark, path: str) -> bool:
    """Whether Spark must read the CSV file at ``path`` whole (``multiLine``, one task per file) to keep its
    records: a line holds a quote that is not a whole quoted field (a quoted line break, or a stray quote that
    Spark's reader would take as one), or a blank line. Any other file reads to the same rows line by line, split
    across tasks. Finding out reads the text once more, unparsed: on 1M rows 0.6 s, where reading whole cost 4 s."""
    from pyspark.sql import functions as F

    line = F.col("value")
    # The regexes run only on lines that may need them: with a quote, or starting with a blank (a byte below "!").
    # Both tests look at bytes: instr and substring count characters, which cost more than the rest of the pass.
    suspect = (line.contains('"') & ~line.rlike(_WHOLE_RECORDS_LINE)) | ((line < "!") & line.rlike(_BLANK_LINE))
    return spark.read.text(path).agg(F.count_if(suspect)).first()[0] > 0


class StagedOutput:
    """Rows written where no reader looks yet (locally a scratch folder; on AWS ``_staging-<id>/`` under the
    target's partitions, a prefix Athena and Spark skip; removed before the job ends): ``publish`` puts them in place of what they replace,
    ``discard`` drops them. A job that must decide after writing (its counts observed during the write) writes
    once instead of counting first and writing after."""

    def __init__(self, uri: str, location: str, partitioned: bool):
        self.uri, self.location, self.partitioned = uri, location, partitioned

    def publish(self) -> None:
        """Replace ``uri`` (with partitions: only the partitions written) with the staged files."""
        bucket, prefix = split_uri(self.uri)
        prefix = prefix.rstrip("/")
        if not is_local():
            _, staged_prefix = split_uri(self.location)
            files = {key[len(staged_prefix) :]: key for key in list_keys(self.location)}
            self._replace(
                bucket,
                prefix,
                files,
                lambda key, target: _s3().copy_object(
                    Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": key}
                ),
            )
            delete_prefix(self.location)
            return
        staged = Path(self.location)
        files = {
            path.relative_to(staged).as_posix(): path
            for path in staged.rglob("*")
            if path.is_file() and not path.name.endswith(".crc") and path.name != "_SUCCESS"
        }
        config = _whole_objects()
        self._replace(
            bucket, prefix, files, lambda path, target: _s3().upload_file(str(path), bucket, target, Config=config)
        )

    def _replace(self, bucket: str, prefix: str, files: dict, put) -> None:
        if self.partitioned:
            folders = sorted({relative.rpartition("/")[0] for relative in files})
            targets = [f"s3://{bucket}/{prefix}/{folder}/" for folder in folders]
        else:
            targets = [f"s3://{bucket}/{prefix}/"]
        for target in targets:
            delete_prefix(target)
        for relative, source in files.items():
            put(source, f"{prefix}/{relative}")

    def discard(self) -> None:
        if is_local():
            shutil.rmtree(self.location, ignore_errors=True)
        else:
            delete_prefix(self.location)


def stage(
    df,
    uri: str,
    fmt: str,
    partition_by: list[str] | None = None,
    partition: dict[str, str] | None = None,
    **options,
) -> StagedOutput:
    """Write ``df`` for ``uri`` without replacing anything yet (see ``StagedOutput``). ``partition_by`` names the
    partition columns of ``df``; ``partition`` ({column: value}) says instead that every row belongs to one
    partition, written under ``column=value/`` as ``partition_by`` would, without sorting the rows by constants
    first as Spark does for ``partitionBy``."""
    writer = df.write.format(fmt).mode("overwrite").options(**options)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    partitioned = bool(partition_by or partition)
    if is_local():
        location = str(Path(tempfile.mkdtemp(dir=_scratch(), prefix="out-")) / "data")
    elif partitioned:  # beside the partitions it replaces
        location = f"{uri.rstrip('/')}/_staging-{uuid.uuid4().hex}/"
    else:  # beside the prefix it replaces, which publish empties first
        location = f"{uri.rstrip('/')}_staging-{uuid.uuid4().hex}/"
    folder = "/".join(f"{column}={value}" for column, value in (partition or {}).items())
    writer.save(f"{location.rstrip('/')}/{folder}" if folder else location)
    return StagedOutput(uri, location, partitioned=partitioned)


def write(df, uri: str, fmt: str, partition_by: list[str] | None = None, **options) -> None:
    """Overwrite ``uri`` with ``df``; with ``partition_by``, only the partitions ``df`` contains."""
    if not is_local():
        writer = df.write.format(fmt).mode("overwrite").options(**options)
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.save(uri)
        return
    stage(df, uri, fmt, partition_by, **options).publish()


def delete_prefix(uri: str) -> int:
    """Delete every object under ``uri``; return how many were deleted."""
    bucket, prefix = split_uri(uri)
    client = _s3()
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend({"Key": item["Key"]} for item in page.get("Contents", []))
    for start in range(0, len(keys), 1000):
        client.delete_objects(Bucket=bucket, Delete={"Objects": keys[start : start + 1000]})
    return len(keys)


def write_json(uri: str, payload: dict) -> None:
    """Write a small JSON document (a job report the DAG reads back)."""
    bucket, key = split_uri(uri)
    _s3().put_object(Bucket=bucket, Key=key, Body=json.dumps(payload, indent=2, default=str).encode())


@dataclasses.dataclass(frozen=True)
class JobReport:
    """What every job reports, in one vocabulary (the PostgreSQL load uses the same words):

    - ``read``: records read; ``loaded``: rows written to the job's output; ``quarantined``: rows set aside with
      a reason; ``duplicates``: copies dropped because an earlier row already stood for them; ``held_back``:
      good rows not written because the batch as a whole was refused (too many rejects; 0 otherwise);
    - ``quarantine_reasons``: {reason: rows}, each quarantined row counted once, under its first reason.

    The report refuses to exist when its counts do not add up: read = loaded + quarantined + duplicates +
    held_back, and the reasons sum to ``quarantined``. ``details`` carries what is particular to a job
    (its output locations, status, files, ...), written beside the counts."""

    run_date: str
    read: int
    loaded: int
    quarantined: int
    duplicates: int
    quarantine_reasons: dict[str, int]
    held_back: int = 0
    details: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        date.fromisoformat(self.run_date)  # a malformed date must not name a report or a partition
        counts = {name: getattr(self, name) for name in ("read", "loaded", "quarantined", "duplicates", "held_back")}
        if any(value < 0 for value in counts.values()):
            raise ValueError(f"negative count in job report: {counts}")
        if self.read != self.loaded + self.quarantined + self.duplicates + self.held_back:
            raise ValueError(
                f"job report does not add up: read {self.read} != loaded {self.loaded} + quarantined "
                f"{self.quarantined} + duplicates {self.duplicates} + held_back {self.held_back}"
            )
        if sum(self.quarantine_reasons.values()) != self.quarantined:
            raise ValueError(
                f"quarantine reasons {self.quarantine_reasons} do not sum to {self.quarantined} quarantined rows"
            )
        clash = set(self.details) & {field.name for field in dataclasses.fields(self)}
        if clash:
            raise ValueError(f"details may not redefine the report's own fields: {sorted(clash)}")

    def as_dict(self) -> dict:
        counts = {
            field.name: getattr(self, field.name) for field in dataclasses.fields(self) if field.name != "details"
        }
        return {**counts, "quarantine_reasons": dict(sorted(self.quarantine_reasons.items())), **self.details}


def quarantined_count(reason):
    """The aggregate counting the rows with a ``reason`` (as ``quarantined``), for a job's main pass to observe; the
    rows are tallied by reason only where they are written (``write_quarantine``)."""
    from pyspark.sql import functions as F

    return F.count(reason).alias("quarantined")


def reason_tallies(reason, reasons: tuple[str, ...]) -> list:
    """Aggregates counting, for each of a job's known ``reasons``, the rows whose first reason (the column
    ``reason``) it is; a reason missing from ``reasons`` makes the report fail to add up, loudly."""
    from pyspark.sql import functions as F

    return [F.count(F.when(reason == text, 1)).alias(f"reason_{index}") for index, text in enumerate(reasons)]


def tallied_reasons(observed: dict, reasons: tuple[str, ...]) -> dict[str, int]:
    """{reason: rows} from what ``reason_tallies`` observed, reasons without rows left out."""
    tallies = {text: int(observed[f"reason_{index}"] or 0) for index, text in enumerate(reasons)}
    return {text: rows for text, rows in tallies.items() if rows}


def write_quarantine(
    rows, uri: str, count: int, reasons: tuple[str, ...], first_reason: str = "reason", fmt: str = "json"
) -> dict[str, int]:
    """The one way jobs set rows aside: ``uri`` holds exactly this run's quarantined ``rows`` (each with its
    ``reason``, ``count`` of them), in ``fmt``. An empty quarantine is no objects at all under ``uri`` (an earlier
    run's are removed), never an empty file, so a listing tells at once whether a day had bad rows.

    Returns {first reason: rows}, tallied over the ``reasons`` while the rows are written, from the column
    ``first_reason`` (not written unless it is ``reason``): a run without quarantine pays for no tally."""
    from pyspark.sql import Observation

    if "reason" not in rows.columns:
        raise ValueError(f"quarantined rows need a 'reason' column, got {rows.columns}")
    if not count:
        delete_prefix(uri)
        return {}
    tallies = Observation("quarantine_reasons")
    observed = rows.observe(tallies, *reason_tallies(rows[first_reason], reasons))
    options = {"header": "true"} if fmt == "csv" else {}
    write(observed if first_reason == "reason" else observed.drop(first_reason), uri, fmt, **options)
    return tallied_reasons(tallies.get, reasons)


def write_report(uri: str, report: JobReport) -> dict:
    """Write the job's report where the DAG reads it; return it as written (also printed to the job's log)."""
    payload = report.as_dict()
    write_json(uri, payload)
    print(json.dumps(payload, default=str))
    return payload


def cleanup() -> None:
    global _SCRATCH
    if _SCRATCH is not None:
        shutil.rmtree(_SCRATCH, ignore_errors=True)
        _SCRATCH = None


def job_main(run) -> None:
    """Run ``run(sys.argv)``, then remove the scratch folder that local staging used."""
    try:
        run(sys.argv)
    finally:
        cleanup()
