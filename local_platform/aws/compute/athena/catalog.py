"""The Glue Data Catalog and S3 as a query sees them, read and written in-process through moto's backends.

The extension runs inside the moto server, so tables, partitions and objects are reached directly (no HTTP and
no DuckDB S3 access, which has no network here): objects are copied into a query's scratch folder for DuckDB.
"""

from __future__ import annotations

import dataclasses
import threading
import urllib.parse
from pathlib import Path

from local_platform.aws.compute.athena.errors import AthenaQueryError

CATALOG_LOCK = threading.RLock()  # queries of different threads write the same databases and tables

PARQUET = (
    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
)
TEXT = (
    "org.apache.hadoop.mapred.TextInputFormat",
    "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
)
ORC = (
    "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
    "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
    "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
)
AVRO = (
    "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
    "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
    "org.apache.hadoop.hive.serde2.avro.AvroSerDe",
)
OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
JSON_SERDES = (
    "org.openx.data.jsonserde.JsonSerDe",
    "org.apache.hive.hcatalog.data.JsonSerDe",
    "org.apache.hadoop.hive.serde2.JsonSerDe",
)
STORED_AS = {"PARQUET": PARQUET, "TEXTFILE": TEXT, "ORC": ORC, "AVRO": AVRO}


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key prefix) of ``s3://bucket/prefix``; the prefix keeps a trailing slash if it had one."""
    if not uri.startswith(("s3://", "s3a://", "s3n://")):
        raise AthenaQueryError("INVALID_TABLE_PROPERTY", f"'{uri}' is not an s3:// location")
    bucket, _, prefix = uri.split("://", 1)[1].partition("/")
    return bucket, prefix


def folder(uri: str) -> str:
    return uri if uri.endswith("/") else uri + "/"


def is_data_key(relative: str, size: int) -> bool:
    """Objects a Hive table reads: not folder markers, not empty, no path part starting with ``_`` or ``.``."""
    return (
        size > 0
        and not relative.endswith("/")
        and not relative.endswith("_$folder$")
        and not any(part.startswith(("_", ".")) for part in relative.split("/"))
    )


_HIVE_UNSAFE = set("\"#%'*/:=?\\\x7f{[]^")


def escape_partition_value(value: str) -> str:
    """Hive's FileUtils.escapePathName: a partition value as it appears in a ``key=value`` folder name."""
    return "".join(f"%{ord(c):02X}" if c in _HIVE_UNSAFE or ord(c) < 0x20 else c for c in value)


def partition_path(keys: list[str], values: tuple[str, ...]) -> str:
    return "".join(f"{key}={escape_partition_value(value)}/" for key, value in zip(keys, values, strict=True))


@dataclasses.dataclass
class Partition:
    values: tuple[str, ...]
    location: str


@dataclasses.dataclass
class Table:
    """A Glue table as the engine needs it (current version)."""

    database: str
    name: str
    columns: list[tuple[str, str]]  # (name, Hive type)
    partition_keys: list[tuple[str, str]]
    location: str | None
    input_format: str
    output_format: str
    serde: str
    serde_parameters: dict[str, str]
    parameters: dict[str, str]
    table_type: str

    @property
    def qualified(self) -> str:
        return f"awsdatacatalog.{self.database}.{self.name}"

    @property
    def all_columns(self) -> list[tuple[str, str]]:
        return self.columns + self.partition_keys

    @property
    def storage(self) -> str:
        """parquet | orc | json | csv (OpenCSVSerde) | text (LazySimpleSerDe) | the SerDe we cannot read."""
        serde, input_format = self.serde or "", self.input_format or ""
        if "parquet" in serde.lower() or "parquet" in input_format.lower():
            return "parquet"
        if "orc" in serde.lower() or "orc" in input_format.lower():
            return "orc"
        if serde in JSON_SERDES:
            return "json"
        if serde == OPEN_CSV_SERDE:
            return "csv"
        if serde == TEXT[2] or (not serde and input_format == TEXT[0]):
            return "text"
        return serde or input_format or "unknown"

    @classmethod
    def from_glue(cls, database: str, fake_table) -> Table:
        current = fake_table.versions[str(max(int(v) for v in fake_table.versions))]
        descriptor = current.get("StorageDescriptor") or {}
        serde = descriptor.get("SerdeInfo") or {}
        return cls(
            database=database,
            name=fake_table.name,
            columns=[(c["Name"].lower(), c["Type"].lower()) for c in descriptor.get("Columns") or []],
            partition_keys=[(c["Name"].lower(), c["Type"].lower()) for c in current.get("PartitionKeys") or []],
            location=descriptor.get("Location"),
            input_format=descriptor.get("InputFormat") or "",
            output_format=descriptor.get("OutputFormat") or "",
            serde=serde.get("SerializationLibrary") or "",
            serde_parameters=dict(serde.get("Parameters") or {}),
            parameters=dict(current.get("Parameters") or {}),
            table_type=current.get("TableType") or "EXTERNAL_TABLE",
        )


@dataclasses.dataclass
class S3Object:
    bucket: str
    key: str
    size: int

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class Catalog:
    """Glue and S3 of one account and region, in-process."""

    def __init__(self, account_id: str, region: str):
        from moto.glue.models import glue_backends
        from moto.s3.models import s3_backends

        self.glue = glue_backends[account_id][region]
        self.s3 = s3_backends[account_id]["aws"]

    # -- databases --

    def _database(self, name: str):
        return self.glue.databases.get(name) or next(
            (db for key, db in self.glue.databases.items() if key.lower() == name.lower()), None
        )

    def database_exists(self, name: str) -> bool:
        return self._database(name) is not None

    def database_names(self) -> list[str]:
        return sorted(self.glue.databases)

    def create_database(self, name: str, database_input: dict) -> None:
        with CATALOG_LOCK:
            self.glue.create_database(name, {"Name": name, **database_input})

    def drop_database(self, name: str) -> None:
        with CATALOG_LOCK:
            self.glue.delete_database(self._database(name).name)

    def table_names(self, database: str) -> list[str]:
        db = self._database(database)
        return sorted(db.tables) if db else []

    # -- tables --

    def _fake_table(self, database: str, name: str):
        db = self._database(database)
        if db is None:
            return None
        return db.tables.get(name) or next((t for key, t in db.tables.items() if key.lower() == name.lower()), None)

    def table(self, database: str, name: str) -> Table | None:
        fake = self._fake_table(database, name)
        return None if fake is None else Table.from_glue(self._database(database).name, fake)

    def create_table(self, database: str, name: str, table_input: dict) -> None:
        with CATALOG_LOCK:
            self.glue.create_table(self._database(database).name, name, {"Name": name, **table_input})

    def drop_table(self, database: str, name: str) -> None:
        with CATALOG_LOCK:
            self.glue.delete_table(self._database(database).name, self._fake_table(database, name).name)

    def partitions(self, table: Table) -> list[Partition]:
        fake = self._fake_table(table.database, table.name)
        found = []
        for partition in list(fake.partitions.values()):
            descriptor = partition.partition_input.get("StorageDescriptor") or {}
            location = descriptor.get("Location") or folder(table.location or "") + partition_path(
                [k for k, _ in table.partition_keys], tuple(partition.values)
            )
            found.append(Partition(tuple(partition.values), location))
        return found

    def add_partition(self, table: Table, values: tuple[str, ...], location: str) -> bool:
        """Register a partition (with the table's storage); False if it already exists."""
        from moto.glue.exceptions import PartitionAlreadyExistsException

        fake = self._fake_table(table.database, table.name)
        current = fake.versions[str(max(int(v) for v in fake.versions))]
        descriptor = {**(current.get("StorageDescriptor") or {}), "Location": location}
        with CATALOG_LOCK:
            try:
                fake.create_partition({"Values": list(values), "StorageDescriptor": descriptor, "Parameters": {}})
            except PartitionAlreadyExistsException:
                return False
        return True

    def drop_partition(self, table: Table, values: tuple[str, ...]) -> bool:
        from moto.glue.exceptions import PartitionNotFoundException

        fake = self._fake_table(table.database, table.name)
        with CATALOG_LOCK:
            try:
                fake.delete_partition(list(values))
            except PartitionNotFoundException:
                return False
        return True

    # -- S3 --

    def _bucket(self, name: str):
        from moto.s3.exceptions import MissingBucket

        try:
            return self.s3.get_bucket(name)
        except MissingBucket:
            return None

    def list_data_objects(self, location: str) -> list[S3Object]:
        """The objects a table or partition at ``location`` reads (recursively, hidden files skipped)."""
        bucket_name, prefix = split_s3_uri(folder(location))
        bucket = self._bucket(bucket_name)
        if bucket is None:
            return []
        keys, _, _, _ = self.s3.list_objects(bucket, prefix, None, None, None)
        return [
            S3Object(bucket_name, key.name, key.size) for key in keys if is_data_key(key.name[len(prefix) :], key.size)
        ]

    def has_objects(self, location: str) -> bool:
        bucket_name, prefix = split_s3_uri(folder(location))
        bucket = self._bucket(bucket_name)
        if bucket is None:
            return False
        keys, _, _, _ = self.s3.list_objects(bucket, prefix, None, None, 1)
        return bool(list(keys))

    def fetch(self, obj: S3Object, destination: Path) -> None:
        key = self.s3.get_object(obj.bucket, obj.key)
        destination.write_bytes(key.value)

    def put(self, uri: str, body: bytes) -> None:
        bucket, key = split_s3_uri(uri)
        if self._bucket(bucket) is None:
            raise AthenaQueryError("GENERIC_USER_ERROR", f"Bucket '{bucket}' of {uri} does not exist")
        self.s3.put_object(bucket, key, body)

    def bucket_exists(self, uri: str) -> bool:
        return self._bucket(split_s3_uri(uri)[0]) is not None


def unquote_partition_value(value: str) -> str:
    return urllib.parse.unquote(value)
