"""One crawl: list the targets, infer their schemas, write the catalog, log it."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from local_platform.aws.compute.glue_crawlers.catalog import (
    CrawledFolder,
    CrawledTable,
    combine_schemas,
    current_version,
    reader_shape,
)
from local_platform.aws.compute.glue_crawlers.layout import (
    TablePlan,
    is_data_object,
    is_excluded,
    parse_s3_path,
    plan_tables,
)
from local_platform.aws.compute.glue_crawlers.models import LOG_GROUP, CrawlCancelled, CrawlRun
from local_platform.aws.compute.schema_inference import (
    SAMPLE_BYTES,
    FileSchema,
    SchemaError,
    infer_folder_schemas,
    needs_whole_object,
)

if TYPE_CHECKING:
    from local_platform.aws.compute import ComputeConfig

STOPPING_SECONDS = 0.5  # AWS spends a while in STOPPING after a crawl; callers may rely on seeing it
CATALOG_LOCK = threading.Lock()  # crawls of different crawlers may write the same database


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
        self.log(
            f"Crawl finished: {outcome}"
            + (f": {run.error_message}" if run.error_message else "")
            + f" (tables created {run.tables_created}, updated {run.tables_updated}, deleted {run.tables_deleted})"
        )
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
        tables: list[CrawledTable] = []
        planned: set[str] = set()  # every table with objects, readable or not: none of them is retired
        for target in targets.get("S3Targets") or []:
            bucket, prefix = parse_s3_path(target["Path"])
            objects = self._list(s3, bucket, prefix, target.get("Exclusions") or [])
            self.log(f"{target['Path']}: {len(objects)} data objects")
            for plan in plan_tables(bucket, prefix, sorted(objects), crawler.table_prefix or "", table_level):
                planned.add(plan.name)
                crawled = self._infer(s3, bucket, plan, objects)
                if crawled is not None:
                    tables.append(crawled)
        if self.run_info.cancel.is_set():
            raise CrawlCancelled
        with CATALOG_LOCK:
            self._write_catalog(tables, planned)

    def _s3(self):
        import boto3

        session = boto3.session.Session(region_name=self.backend.region_name)
        return session.client("s3", endpoint_url=self.config.endpoint_url)

    def _list(self, s3, bucket: str, prefix: str, exclusions: list[str]) -> dict[str, int]:
        list_prefix = f"{prefix}/" if prefix else ""
        objects = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=list_prefix):
            for item in page.get("Contents", []):
                relative = item["Key"][len(list_prefix) :]
                if is_data_object(relative, item["Size"]) and not is_excluded(relative, exclusions):
                    objects[item["Key"]] = item["Size"]
        return objects

    def _infer(self, s3, bucket: str, plan: TablePlan, sizes: dict[str, int]) -> CrawledTable | None:
        """The table's schema from its readable objects; None when it has none (the catalog is left as it is)."""
        files = []
        for key in plan.files:
            if self.run_info.cancel.is_set():
                raise CrawlCancelled
            files.append((f"s3://{bucket}/{key}", self._read(s3, bucket, key, sizes[key]), sizes[key]))
        inference = infer_folder_schemas(files)
        for reason in inference.unreadable.values():
            self.log(f"WARN Skipped an object no classifier can read: {reason}")
        by_partition: dict[tuple[str, ...], list[tuple[str, FileSchema]]] = {}
        for key, values in plan.files.items():
            schema = inference.schemas.get(f"s3://{bucket}/{key}")
            if schema is not None:
                by_partition.setdefault(values, []).append((key, schema))
        if not by_partition:
            self.log(f"WARN {plan.location}: no readable objects; table {plan.name} left as it is")
            return None
        partitions = {
            values: CrawledFolder(
                combine_schemas(plan.partitions.get(values, plan.location), [schema for _, schema in read]),
                len(read),
                sum(sizes[key] for key, _ in read),
            )
            for values, read in by_partition.items()
        }
        table = CrawledFolder(
            combine_schemas(plan.location, [p.schema for p in partitions.values()]),
            sum(p.object_count for p in partitions.values()),
            sum(p.size for p in partitions.values()),
        )
        self.log(
            f"{plan.location}: table {plan.name}, {table.schema.classification}, "
            f"{len(table.schema.columns)} columns, {len(plan.partitions)} partitions"
            + (f", {len(inference.unreadable)} objects skipped" if inference.unreadable else "")
        )
        return CrawledTable(plan, table, partitions)

    @staticmethod
    def _read(s3, bucket: str, key: str, size: int) -> bytes:
        """The object, or only its first SAMPLE_BYTES when that is all inference reads."""
        if size <= SAMPLE_BYTES:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        head = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{SAMPLE_BYTES - 1}")["Body"].read()
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read() if needs_whole_object(key, head) else head

    def _write_catalog(self, tables: list[CrawledTable], planned: set[str]) -> None:
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
                "Name": plan.name,
                "Owner": "owner",
                "Retention": 0,
                "TableType": "EXTERNAL_TABLE",
                "StorageDescriptor": descriptor,
                "Parameters": dict(descriptor["Parameters"]),
                "PartitionKeys": [{"Name": key, "Type": "string"} for key in plan.partition_keys],
            }
            existing = database.tables.get(plan.name)
            changed = False
            if existing is None:
                backend.create_table(crawler.database_name, plan.name, table_input)
                run.tables_created += 1
                self.log(f"Created table {plan.name}")
            else:
                current = current_version(existing)
                if (
                    reader_shape(current.get("StorageDescriptor") or {}) != reader_shape(descriptor)
                    or current.get("PartitionKeys") != table_input["PartitionKeys"]
                ):
                    if update:
                        table_input["Parameters"] = {**(current.get("Parameters") or {}), **table_input["Parameters"]}
                        backend.update_table(crawler.database_name, plan.name, table_input)
                        changed = True
                    else:
                        self.log(f"Table {plan.name} changed; UpdateBehavior LOG leaves the catalog as it is")
            table = database.tables[plan.name]
            for values, folder in crawled.partitions.items():
                if values:
                    changed |= self._write_partition(
                        table, values, folder.descriptor(plan.partitions[values], crawler.name), update
                    )
            if existing is not None and policy.get("DeleteBehavior") == "DELETE_FROM_DATABASE":
                for partition in list(table.partitions.values()):
                    if tuple(partition.values) not in crawled.partitions:
                        table.delete_partition(partition.values)
                        changed = True
            if changed and existing is not None:
                run.tables_updated += 1
                self.log(f"Updated table {plan.name}")
        self._retire_missing_tables(database, planned, policy)

    def _write_partition(self, table, values: tuple[str, ...], descriptor: dict, update: bool) -> bool:
        partition_input = {
            "Values": list(values),
            "StorageDescriptor": descriptor,
            "Parameters": dict(descriptor["Parameters"]),
        }
        existing = table.partitions.get(str(list(values)))
        if existing is None:
            table.create_partition(partition_input)
            return True
        if update and reader_shape(existing.partition_input.get("StorageDescriptor") or {}) != reader_shape(descriptor):
            table.update_partition(list(values), partition_input)
            return True
        return False

    def _retire_missing_tables(self, database, crawled: set[str], policy: dict) -> None:
        """Tables this crawler made under its include paths whose folders are gone, per DeleteBehavior."""
        behavior = policy.get("DeleteBehavior", "DEPRECATE_IN_DATABASE")
        roots = tuple(
            "s3://{}/{}".format(*parse_s3_path(t["Path"])).rstrip("/") + "/"
            for t in (self.crawler.targets or {}).get("S3Targets") or []
        )
        for name, table in list(database.tables.items()):
            current = current_version(table)
            location = (current.get("StorageDescriptor") or {}).get("Location") or ""
            params = current.get("Parameters") or {}
            if (
                name in crawled
                or params.get("UPDATED_BY_CRAWLER") != self.crawler.name
                or not location.startswith(roots)
            ):
                continue
            if behavior == "DELETE_FROM_DATABASE":
                self.backend.delete_table(database.name, name)
                self.run_info.tables_deleted += 1
                self.log(f"Deleted table {name}: {location} has no data any more")
            elif behavior == "DEPRECATE_IN_DATABASE" and "DEPRECATED_BY_CRAWLER" not in params:
                self.backend.update_table(
                    database.name,
                    name,
                    {**current, "Parameters": {**params, "DEPRECATED_BY_CRAWLER": self.crawler.name}},
                )
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
        logs.put_log_events(
            LOG_GROUP, self.crawler.name, [{"timestamp": now, "message": line} for line in self.log_lines]
        )
