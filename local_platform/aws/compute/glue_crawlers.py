"""Glue crawlers that crawl: ``StartCrawler`` infers the schemas under the S3 targets and writes the catalog.

moto 5.2.5 only records a crawl: the crawler stays RUNNING, ``LastCrawl.Status`` reads COMPLETED (AWS says
SUCCEEDED, which the provider's sensor waits for), no table is written, and ``UpdateCrawler`` and
``GetCrawlerMetrics`` do not exist. ``install`` replaces start/stop on the backend and the crawler's state
reporting, and adds the two missing actions. A crawl runs in a thread of the server: it lists the targets
over the local S3 endpoint, infers schemas (``schema_inference.py``) and writes the Glue catalog in-process.
Its log goes to ``<state_dir>/glue-crawlers/<crawler>.log`` and to CloudWatch Logs ``/aws-glue/crawlers``.

Table contract (what a pipeline author can rely on, here and on AWS for the simple layouts):
- One table per folder holding data files. Trailing ``key=value`` folders are Hive partitions of the
  folder above them, not tables. A data file directly under the include path makes a table named after the
  include path's last folder (the bucket's name for a bucket root).
- Table name = lower-case(TablePrefix + folder name) with every character outside [a-z0-9_] replaced by
  ``_`` (``toll-events`` -> ``toll_events``); a second folder with the same name gets ``_<8 hex>`` appended.
- ``Configuration`` ``{"Grouping": {"TableLevelConfiguration": N}}`` puts every table at absolute level N
  (the bucket is level 1); folders below it are partitions (``key=value`` or ``partition_<i>``).
- ``StorageDescriptor.Location`` = ``s3://bucket/path/to/folder/`` (trailing slash); partitions:
  ``.../key=value/``; partition keys are ``string`` columns; partitions carry their own columns.
- Columns: CSV header names (lower-cased) or ``col0, col1, ...`` when Glue's header rule says "no header"
  (first row all text and no non-text column below it; a file whose first row repeats the header of another
  CSV in the same folder is read with that header);
  JSON top-level keys (lower-cased); Parquet field names (lower-cased). Types: bigint, double, boolean, date,
  timestamp (``yyyy-MM-dd HH:mm:ss[.f]`` only), string; Parquet maps its own types (int, float, decimal(p,s),
  array<..>, struct<..>, map<..>); JSON integers are bigint, objects struct<..>, arrays array<..>.
- Files whose name starts with ``_`` or ``.`` (``_SUCCESS``, ``.crc``), empty objects and folder markers
  are skipped; S3Target ``Exclusions`` are Glue globs matched against the key relative to the include path.
- CSV and JSON are inferred from the first MiB of each file (whole lines; recordCount extrapolated), as
  Glue samples; Parquet from its footer. Files of one folder merge by column name (numbers widen, other
  conflicts become string) where AWS might split very different files into separate tables.
- A folder mixing formats (or CSV delimiters), a malformed JSON line, a corrupt Parquet or gzip file fails
  the whole crawl (``LastCrawl.Status`` FAILED with the file in ``ErrorMessage``) and writes nothing.
- SchemaChangePolicy: UpdateBehavior UPDATE_IN_DATABASE (default) rewrites a changed table (a new table
  version) and its partitions, LOG only adds what is new. DeleteBehavior for tables this crawler made whose
  folder is gone: DEPRECATE_IN_DATABASE (default) sets Parameters.DEPRECATED_BY_CRAWLER,
  DELETE_FROM_DATABASE deletes them (and partitions whose folder is gone), LOG keeps them.
- Not emulated: Schedule (crawls start only by StartCrawler), RecrawlPolicy (every crawl is a full one),
  custom Classifiers, targets other than S3Targets (the crawl fails saying so).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from local_platform.aws.compute.schema_inference import (
    SAMPLE_BYTES,
    FileSchema,
    SchemaError,
    infer_folder_schemas,
    merge_columns,
    needs_whole_object,
    render_columns,
)

if TYPE_CHECKING:
    from local_platform.aws.compute import ComputeConfig

STOPPING_SECONDS = 0.5  # AWS spends a while in STOPPING after a crawl; callers may rely on seeing it
LOG_GROUP = "/aws-glue/crawlers"
FORMATS = {
    "csv": ("org.apache.hadoop.mapred.TextInputFormat", "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"),
    "json": ("org.apache.hadoop.mapred.TextInputFormat", "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"),
    "parquet": ("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"),
}
_CATALOG_LOCK = threading.Lock()  # crawls of different crawlers may write the same database


class CrawlCancelled(Exception):
    pass


# ---- layout: which objects make which tables (pure) --------------------------------------------


@dataclasses.dataclass
class TablePlan:
    name: str
    location: str  # s3://bucket/folder/
    partition_keys: list[str]
    files: dict[str, tuple[str, ...]]  # object key -> its partition values
    partitions: dict[tuple[str, ...], str]  # partition values -> location


def parse_s3_path(path: str) -> tuple[str, str]:
    """(bucket, prefix without surrounding slashes) of an S3 include path."""
    bucket, _, prefix = path.removeprefix("s3://").removeprefix("s3a://").partition("/")
    return bucket, prefix.strip("/")


def glob_to_regex(pattern: str) -> re.Pattern:
    """Glue's exclude-pattern glob: ``*`` stays within a folder, ``**`` crosses folders, ``?``, ``[!..]``, ``{a,b}``."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1:end]
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = end
        elif char == "{":
            end = pattern.find("}", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                out.append("(?:" + "|".join(re.escape(alt) for alt in pattern[i + 1:end].split(",")) + ")")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out))


def is_excluded(relative_key: str, exclusions: list[str]) -> bool:
    return any(glob_to_regex(pattern).fullmatch(relative_key) for pattern in exclusions)


def is_data_object(relative_key: str, size: int) -> bool:
    """Skip folder markers, empty objects and Hadoop's hidden files (``_SUCCESS``, ``.part.crc``, ``_temporary/``)."""
    return size > 0 and not relative_key.endswith("/") and not any(
        part.startswith(("_", ".")) for part in relative_key.split("/"))


def table_name(prefix: str, folder: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", (prefix + folder).lower())


def plan_tables(bucket: str, prefix: str, keys: list[str], table_prefix: str = "",
                table_level: int | None = None) -> list[TablePlan]:
    """Group the data objects under one include path into tables and partitions (see the module's contract)."""
    root = [bucket, *filter(None, prefix.split("/"))]
    groups: dict[tuple[str, ...], dict[str, list[tuple[str, str]]]] = {}
    for key in keys:
        folders = [bucket, *key.split("/")[:-1]]
        if table_level:
            if len(folders) < table_level:
                raise SchemaError(f"s3://{bucket}/{key} lies above TableLevelConfiguration {table_level}")
            table_folders, partition_folders = folders[:table_level], folders[table_level:]
        else:
            split = len(folders)
            while split > len(root) and "=" in folders[split - 1]:
                split -= 1
            table_folders, partition_folders = folders[:split], folders[split:]
        partition = [(*f.split("=", 1),) if "=" in f else (f"partition_{i}", f) for i, f in enumerate(partition_folders)]
        groups.setdefault(tuple(table_folders), {})[key] = [(name, unquote(value)) for name, value in partition]

    plans: list[TablePlan] = []
    for folders, files in sorted(groups.items()):
        location = "s3://" + "/".join(folders) + "/"
        key_sets = {tuple(name for name, _ in partition) for partition in files.values()}
        if len(key_sets) > 1:
            raise SchemaError(f"{location}: inconsistent partition folders {sorted(key_sets)}")
        plan = TablePlan(table_name(table_prefix, folders[-1]), location, list(key_sets.pop()), {}, {})
        for key, partition in files.items():
            values = tuple(value for _, value in partition)
            plan.files[key] = values
            if values:
                plan.partitions[values] = location + "".join(f"{f}/" for f in key.split("/")[-1 - len(values):-1])
        plans.append(plan)
    return _dedupe_names(plans)


def _dedupe_names(plans: list[TablePlan]) -> list[TablePlan]:
    """The shallowest folder keeps a name; deeper namesakes get a suffix from their location."""
    seen: set[str] = set()
    for plan in sorted(plans, key=lambda p: (p.location.count("/"), p.location)):
        if plan.name in seen:
            plan.name = f"{plan.name}_{hashlib.md5(plan.location.encode()).hexdigest()[:8]}"
        seen.add(plan.name)
    return plans


# ---- catalog entries (pure) ---------------------------------------------------------------------


def combine_schemas(location: str, schemas: list[FileSchema]) -> FileSchema:
    """One table's schema from its files; incompatible formats in one folder are an error, as a crawl failure."""
    formats = sorted({schema.classification for schema in schemas})
    if len(formats) > 1:
        raise SchemaError(f"{location}: mixed data formats in one folder ({', '.join(formats)})")
    layouts = {schema.csv_layout.delimiter for schema in schemas if schema.csv_layout}
    if len(layouts) > 1:
        raise SchemaError(f"{location}: CSV files with different delimiters {sorted(layouts)}")
    first = schemas[0]
    layout = first.csv_layout and dataclasses.replace(
        first.csv_layout, has_header=any(s.csv_layout.has_header for s in schemas),
        quoted=any(s.csv_layout.quoted for s in schemas))
    return FileSchema(first.classification, merge_columns([s.columns for s in schemas]),
                      sum(s.record_count for s in schemas),
                      "gzip" if any(s.compression == "gzip" for s in schemas) else "none", layout)


def storage_descriptor(schema: FileSchema, location: str, crawler_name: str, object_count: int,
                       size: int) -> dict:
    """The StorageDescriptor a Glue crawler writes for this format (also used as the table's Parameters)."""
    input_format, output_format = FORMATS[schema.classification]
    columns = render_columns(schema.columns)
    parameters = {
        "classification": schema.classification,
        "compressionType": schema.compression,
        "typeOfData": "file",
        "objectCount": str(object_count),
        "recordCount": str(schema.record_count),
        "sizeKey": str(size),
        "averageRecordSize": str(size // max(schema.record_count, 1)),
        "UPDATED_BY_CRAWLER": crawler_name,
        "CrawlerSchemaDeserializerVersion": "1.0",
        "CrawlerSchemaSerializerVersion": "1.0",
    }
    if schema.classification == "csv":
        layout = schema.csv_layout
        parameters.update(delimiter=layout.delimiter, columnsOrdered="true",
                          areColumnsQuoted=str(layout.quoted).lower())
        if layout.has_header:
            parameters["skip.header.line.count"] = "1"
        serde = ({"SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde",
                  "Parameters": {"separatorChar": layout.delimiter, "quoteChar": '"'}} if layout.quoted else
                 {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                  "Parameters": {"field.delim": layout.delimiter}})
    elif schema.classification == "json":
        serde = {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
                 "Parameters": {"paths": ",".join(sorted(name for name, _ in columns))}}
    else:
        serde = {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                 "Parameters": {"serialization.format": "1"}}
    return {
        "Columns": [{"Name": name, "Type": glue_type} for name, glue_type in columns],
        "Location": location,
        "InputFormat": input_format,
        "OutputFormat": output_format,
        "Compressed": schema.compression != "none",
        "NumberOfBuckets": -1,
        "SerdeInfo": serde,
        "BucketColumns": [],
        "SortColumns": [],
        "Parameters": parameters,
        "StoredAsSubDirectories": False,
    }


def _shape(descriptor: dict) -> tuple:
    """What makes two storage descriptors different for a reader (statistics are not)."""
    return (descriptor.get("Columns"), descriptor.get("Location"), descriptor.get("InputFormat"),
            descriptor.get("SerdeInfo"))


@dataclasses.dataclass
class CrawledFolder:
    """A table's or partition's combined schema and object statistics."""

    schema: FileSchema
    object_count: int
    size: int

    def descriptor(self, location: str, crawler_name: str) -> dict:
        return storage_descriptor(self.schema, location, crawler_name, self.object_count, self.size)


@dataclasses.dataclass
class CrawledTable:
    plan: TablePlan
    table: CrawledFolder
    partitions: dict[tuple[str, ...], CrawledFolder]  # () holds the files of an unpartitioned table


def _current(table) -> dict:
    """The TableInput of a moto FakeTable's current version."""
    return table.versions[str(max(int(version) for version in table.versions))]


# ---- moto patches --------------------------------------------------------------------------------


CRAWL_STATES = {None: "RUNNING", "SUCCEEDED": "COMPLETED", "FAILED": "FAILED", "CANCELLED": "STOPPED"}


@dataclasses.dataclass
class CrawlRun:
    """One crawl. Kept in moto's ``FakeCrawler.crawls`` in place of its FakeCrawl, so ListCrawls reports it."""

    crawler_name: str
    crawl_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    start_time: datetime = dataclasses.field(default_factory=lambda: datetime.now(UTC))
    end_time: datetime | None = None
    outcome: str | None = None  # LastCrawl.Status: SUCCEEDED | FAILED | CANCELLED, once finished
    error_message: str | None = None
    tables_created: int = 0
    tables_updated: int = 0
    tables_deleted: int = 0
    cancel: threading.Event = dataclasses.field(default_factory=threading.Event)

    @property
    def seconds(self) -> float:
        return ((self.end_time or datetime.now(UTC)) - self.start_time).total_seconds()

    @property
    def status(self) -> str:
        """The crawl's State as ListCrawls reports it (and filters on)."""
        return CRAWL_STATES[self.outcome]

    # moto's FakeCrawler.as_dict reads these off its last crawl
    log_group = LOG_GROUP

    @property
    def log_stream(self) -> str:
        return self.crawler_name

    @property
    def message_prefix(self) -> str:
        return self.crawl_id

    def advance(self) -> None:
        """moto's ListCrawls advances its simulated crawls; a real one moves by itself."""

    def last_crawl(self) -> dict:
        info = {"Status": self.outcome, "LogGroup": self.log_group, "LogStream": self.log_stream,
                "MessagePrefix": self.message_prefix, "StartTime": self.start_time}
        if self.error_message:
            info["ErrorMessage"] = self.error_message
        return info

    def as_dict(self) -> dict:
        crawl = {"CrawlId": self.crawl_id, "State": self.status, "StartTime": self.start_time,
                 "LogGroup": self.log_group, "LogStream": self.log_stream, "MessagePrefix": self.message_prefix,
                 "DPUHour": round(self.seconds / 3600, 6),
                 "Summary": json.dumps({"TABLE": {"ADD": {"Count": self.tables_created},
                                                  "UPDATE": {"Count": self.tables_updated},
                                                  "DELETE": {"Count": self.tables_deleted}}})}
        if self.end_time:
            crawl["EndTime"] = self.end_time
        if self.error_message:
            crawl["ErrorMessage"] = self.error_message
        return crawl


def _finished(crawler) -> list[CrawlRun]:
    return [run for run in crawler.crawls if run.end_time is not None]


def crawler_metrics(crawler) -> dict:
    """GetCrawlerMetrics of one crawler: the table counts are those of its last finished crawl."""
    finished = _finished(crawler)
    last = finished[-1] if finished else CrawlRun(crawler.name, end_time=datetime.now(UTC))
    return {
        "CrawlerName": crawler.name,
        "TimeLeftSeconds": 0.0,
        "StillEstimating": False,
        "LastRuntimeSeconds": last.seconds if finished else 0.0,
        "MedianRuntimeSeconds": statistics.median(run.seconds for run in finished) if finished else 0.0,
        "TablesCreated": last.tables_created,
        "TablesUpdated": last.tables_updated,
        "TablesDeleted": last.tables_deleted,
    }


def install(config: ComputeConfig) -> None:
    from moto.glue.exceptions import CrawlerNotRunningException, CrawlerRunningException
    from moto.glue.models import FakeCrawler, GlueBackend
    from moto.glue.responses import GlueResponse

    original_as_dict = FakeCrawler.as_dict

    def as_dict(self) -> dict:
        data = original_as_dict(self)
        finished = _finished(self)
        data.pop("LastCrawl", None)
        if finished:
            data["LastCrawl"] = finished[-1].last_crawl()
        data["CrawlElapsedTime"] = int(self.crawls[-1].seconds * 1000) if self.status != "READY" else 0
        return data

    def start_crawler(self, name: str) -> None:
        crawler = self.get_crawler(name)
        with _CATALOG_LOCK:
            if crawler.status != "READY":
                raise CrawlerRunningException(f"Crawler with name {name} has already started")
            run = CrawlRun(name)
            crawler.crawls.append(run)
            crawler.__dict__["local_state"] = "RUNNING"
        crawl = Crawl(config, self, crawler, run)
        threading.Thread(target=crawl.run, name=f"crawler-{name}", daemon=True).start()

    def stop_crawler(self, name: str) -> None:
        crawler = self.get_crawler(name)
        if crawler.status != "RUNNING":
            raise CrawlerNotRunningException(f"Crawler with name {name} isn't running")
        crawler.crawls[-1].cancel.set()
        crawler.__dict__["local_state"] = "STOPPING"

    def delete_crawler(self, name: str) -> None:
        if self.get_crawler(name).status != "READY":
            raise CrawlerRunningException(f"Crawler with name {name} is running and cannot be deleted")
        del self.crawlers[name]

    def update_crawler(self, name: str, changes: dict) -> None:
        crawler = self.get_crawler(name)
        if crawler.status != "READY":
            raise CrawlerRunningException(f"Crawler with name {name} is running and cannot be updated")
        for param, attribute in UPDATABLE.items():
            if param in changes:
                setattr(crawler, attribute, changes[param])
        crawler.version += 1
        crawler.last_updated = datetime.now(UTC)

    def respond_update_crawler(self):
        from moto.core.responses import EmptyResult

        self.glue_backend.update_crawler(self.parameters["Name"], self.parameters)
        return EmptyResult()

    def respond_get_crawler_metrics(self):
        from moto.core.responses import ActionResult

        backend = self.glue_backend
        names = self.parameters.get("CrawlerNameList") or list(backend.crawlers)
        metrics = [crawler_metrics(backend.crawlers[name]) for name in names if name in backend.crawlers]
        return ActionResult({"CrawlerMetricsList": metrics})

    FakeCrawler.status = property(lambda self: self.__dict__.get("local_state", "READY"))
    FakeCrawler.as_dict = as_dict
    GlueBackend.start_crawler = start_crawler
    GlueBackend.stop_crawler = stop_crawler
    GlueBackend.delete_crawler = delete_crawler
    GlueBackend.update_crawler = update_crawler
    GlueResponse.update_crawler = respond_update_crawler
    GlueResponse.get_crawler_metrics = respond_get_crawler_metrics


UPDATABLE = {  # UpdateCrawler parameter -> FakeCrawler attribute
    "Role": "role", "DatabaseName": "database_name", "Description": "description", "Targets": "targets",
    "Schedule": "schedule", "Classifiers": "classifiers", "TablePrefix": "table_prefix",
    "SchemaChangePolicy": "schema_change_policy", "RecrawlPolicy": "recrawl_policy",
    "LineageConfiguration": "lineage_configuration", "Configuration": "configuration",
    "CrawlerSecurityConfiguration": "crawler_security_configuration",
}


class Crawl:
    """One crawl of one crawler, run in a thread of the server."""

    def __init__(self, config: ComputeConfig, backend, crawler, run: CrawlRun):
        self.config, self.backend, self.crawler, self.run_info = config, backend, crawler, run
        self.log_lines: list[str] = []

    def run(self) -> None:
        run = self.run_info
        self.log(f"Crawl started for crawler {self.crawler.name}")
        try:
            self.crawl()
            outcome = "SUCCEEDED"
        except CrawlCancelled:
            outcome = "CANCELLED"
        except SchemaError as exc:
            outcome, run.error_message = "FAILED", str(exc)
        except Exception as exc:  # noqa: BLE001  (any error ends the crawl FAILED, as on AWS)
            outcome, run.error_message = "FAILED", f"{type(exc).__name__}: {exc}"
        self.log(f"Crawl finished: {outcome}" + (f": {run.error_message}" if run.error_message else "") +
                 f" (tables created {run.tables_created}, updated {run.tables_updated}, deleted {run.tables_deleted})")
        self.crawler.__dict__["local_state"] = "STOPPING"
        time.sleep(STOPPING_SECONDS)
        run.outcome = outcome
        run.end_time = datetime.now(UTC)
        self.crawler.__dict__["local_state"] = "READY"
        self.flush_log()

    # -- the crawl itself --

    def crawl(self) -> None:
        crawler = self.crawler
        targets = crawler.targets or {}
        unsupported = sorted(kind for kind, items in targets.items() if items and kind != "S3Targets")
        if unsupported:
            raise SchemaError(f"only S3Targets are crawled locally, not {', '.join(unsupported)}")
        table_level = (json.loads(crawler.configuration or "{}").get("Grouping") or {}).get("TableLevelConfiguration")
        s3 = self._s3()
        tables = []  # (plan, table schema, {partition values: schema}, object count, bytes)
        for target in targets.get("S3Targets") or []:
            bucket, prefix = parse_s3_path(target["Path"])
            objects = self._list(s3, bucket, prefix, target.get("Exclusions") or [])
            self.log(f"{target['Path']}: {len(objects)} data objects")
            for plan in plan_tables(bucket, prefix, sorted(objects), crawler.table_prefix or "", table_level):
                tables.append(self._infer(s3, bucket, plan, objects))
        if self.run_info.cancel.is_set():
            raise CrawlCancelled
        with _CATALOG_LOCK:
            self._write_catalog(tables)

    def _s3(self):
        import boto3

        session = boto3.session.Session(region_name=self.backend.region_name)
        return session.client("s3", endpoint_url=self.config.endpoint_url)

    def _list(self, s3, bucket: str, prefix: str, exclusions: list[str]) -> dict[str, int]:
        list_prefix = f"{prefix}/" if prefix else ""
        objects = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=list_prefix):
            for item in page.get("Contents", []):
                relative = item["Key"][len(list_prefix):]
                if is_data_object(relative, item["Size"]) and not is_excluded(relative, exclusions):
                    objects[item["Key"]] = item["Size"]
        return objects

    def _infer(self, s3, bucket: str, plan: TablePlan, sizes: dict[str, int]) -> CrawledTable:
        files = []
        for key in plan.files:
            if self.run_info.cancel.is_set():
                raise CrawlCancelled
            files.append((f"s3://{bucket}/{key}", self._read(s3, bucket, key, sizes[key]), sizes[key]))
        by_partition: dict[tuple[str, ...], list[FileSchema]] = {}
        for values, schema in zip(plan.files.values(), infer_folder_schemas(files), strict=True):
            by_partition.setdefault(values, []).append(schema)
        partitions = {}
        for values, schemas in by_partition.items():
            keys = [key for key, partition in plan.files.items() if partition == values]
            partitions[values] = CrawledFolder(combine_schemas(plan.partitions.get(values, plan.location), schemas),
                                               len(keys), sum(sizes[key] for key in keys))
        table = CrawledFolder(combine_schemas(plan.location, [p.schema for p in partitions.values()]),
                              len(plan.files), sum(p.size for p in partitions.values()))
        self.log(f"{plan.location}: table {plan.name}, {table.schema.classification}, "
                 f"{len(table.schema.columns)} columns, {len(plan.partitions)} partitions")
        return CrawledTable(plan, table, partitions)

    @staticmethod
    def _read(s3, bucket: str, key: str, size: int) -> bytes:
        """The object, or only its first SAMPLE_BYTES when that is all inference reads."""
        if size <= SAMPLE_BYTES:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        head = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{SAMPLE_BYTES - 1}")["Body"].read()
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read() if needs_whole_object(key, head) else head

    def _write_catalog(self, tables) -> None:
        from moto.glue.exceptions import DatabaseNotFoundException

        crawler, backend, run = self.crawler, self.backend, self.run_info
        policy = crawler.schema_change_policy or {}
        update = policy.get("UpdateBehavior", "UPDATE_IN_DATABASE") == "UPDATE_IN_DATABASE"
        try:
            database = backend.get_database(crawler.database_name)
        except DatabaseNotFoundException:
            database = backend.create_database(crawler.database_name, {"Name": crawler.database_name})
            self.log(f"Created database {crawler.database_name}")
        for crawled in tables:
            plan = crawled.plan
            descriptor = crawled.table.descriptor(plan.location, crawler.name)
            table_input = {
                "Name": plan.name, "Owner": "owner", "Retention": 0, "TableType": "EXTERNAL_TABLE",
                "StorageDescriptor": descriptor, "Parameters": dict(descriptor["Parameters"]),
                "PartitionKeys": [{"Name": key, "Type": "string"} for key in plan.partition_keys],
            }
            existing = database.tables.get(plan.name)
            changed = False
            if existing is None:
                backend.create_table(crawler.database_name, plan.name, table_input)
                run.tables_created += 1
                self.log(f"Created table {plan.name}")
            else:
                current = _current(existing)
                if (_shape(current.get("StorageDescriptor") or {}) != _shape(descriptor)
                        or current.get("PartitionKeys") != table_input["PartitionKeys"]):
                    if update:
                        table_input["Parameters"] = {**(current.get("Parameters") or {}), **table_input["Parameters"]}
                        backend.update_table(crawler.database_name, plan.name, table_input)
                        changed = True
                    else:
                        self.log(f"Table {plan.name} changed; UpdateBehavior LOG leaves the catalog as it is")
            table = database.tables[plan.name]
            for values, folder in crawled.partitions.items():
                if values:
                    changed |= self._write_partition(table, values, folder.descriptor(
                        plan.partitions[values], crawler.name), update)
            if existing is not None and policy.get("DeleteBehavior") == "DELETE_FROM_DATABASE":
                for partition in list(table.partitions.values()):
                    if tuple(partition.values) not in crawled.partitions:
                        table.delete_partition(partition.values)
                        changed = True
            if changed and existing is not None:
                run.tables_updated += 1
                self.log(f"Updated table {plan.name}")
        self._retire_missing_tables(database, {crawled.plan.name for crawled in tables}, policy)

    def _write_partition(self, table, values: tuple[str, ...], descriptor: dict, update: bool) -> bool:
        partition_input = {"Values": list(values), "StorageDescriptor": descriptor,
                           "Parameters": dict(descriptor["Parameters"])}
        existing = table.partitions.get(str(list(values)))
        if existing is None:
            table.create_partition(partition_input)
            return True
        if update and _shape(existing.partition_input.get("StorageDescriptor") or {}) != _shape(descriptor):
            table.update_partition(list(values), partition_input)
            return True
        return False

    def _retire_missing_tables(self, database, crawled: set[str], policy: dict) -> None:
        """Tables this crawler made under its include paths whose folders are gone, per DeleteBehavior."""
        behavior = policy.get("DeleteBehavior", "DEPRECATE_IN_DATABASE")
        roots = tuple("s3://{}/{}".format(*parse_s3_path(t["Path"])).rstrip("/") + "/"
                      for t in (self.crawler.targets or {}).get("S3Targets") or [])
        for name, table in list(database.tables.items()):
            current = _current(table)
            location = (current.get("StorageDescriptor") or {}).get("Location") or ""
            params = current.get("Parameters") or {}
            if (name in crawled or params.get("UPDATED_BY_CRAWLER") != self.crawler.name
                    or not location.startswith(roots)):
                continue
            if behavior == "DELETE_FROM_DATABASE":
                self.backend.delete_table(database.name, name)
                self.run_info.tables_deleted += 1
                self.log(f"Deleted table {name}: {location} has no data any more")
            elif behavior == "DEPRECATE_IN_DATABASE" and "DEPRECATED_BY_CRAWLER" not in params:
                self.backend.update_table(database.name, name, {
                    **current, "Parameters": {**params, "DEPRECATED_BY_CRAWLER": self.crawler.name}})
                self.log(f"Deprecated table {name}: {location} has no data any more")

    # -- logging --

    def log(self, message: str) -> None:
        self.log_lines.append(f"{datetime.now(UTC).isoformat()} [{self.run_info.crawl_id}] {message}")

    def flush_log(self) -> None:
        path = Path(self.config.state_dir) / "glue-crawlers" / f"{self.crawler.name}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as handle:
            handle.write("\n".join(self.log_lines) + "\n")
        self._to_cloudwatch()

    def _to_cloudwatch(self) -> None:
        from moto.logs.models import logs_backends

        logs = logs_backends[self.backend.account_id][self.backend.region_name]
        logs.ensure_log_group(LOG_GROUP)
        logs.ensure_log_stream(LOG_GROUP, self.crawler.name)
        now = int(time.time() * 1000)
        logs.put_log_events(LOG_GROUP, self.crawler.name,
                            [{"timestamp": now, "message": line} for line in self.log_lines])
