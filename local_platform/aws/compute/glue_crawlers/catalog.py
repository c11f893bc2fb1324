"""Catalog entries of crawled folders: combined schemas, storage descriptors, what makes two differ (pure)."""

from __future__ import annotations

import dataclasses

from local_platform.aws.compute.glue_crawlers.layout import TablePlan
from local_platform.aws.compute.schema_inference import (
    FileSchema,
    SchemaError,
    merge_columns,
    render_columns,
)

FORMATS = {
    "csv": ("org.apache.hadoop.mapred.TextInputFormat", "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"),
    "json": ("org.apache.hadoop.mapred.TextInputFormat", "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"),
    "parquet": (
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    ),
}


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
        first.csv_layout,
        has_header=any(s.csv_layout.has_header for s in schemas),
        quoted=any(s.csv_layout.quoted for s in schemas),
    )
    return FileSchema(
        first.classification,
        merge_columns([s.columns for s in schemas]),
        sum(s.record_count for s in schemas),
        "gzip" if any(s.compression == "gzip" for s in schemas) else "none",
        layout,
    )


def storage_descriptor(schema: FileSchema, location: str, crawler_name: str, object_count: int, size: int) -> dict:
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
        parameters.update(
            delimiter=layout.delimiter, columnsOrdered="true", areColumnsQuoted=str(layout.quoted).lower()
        )
        if layout.has_header:
            parameters["skip.header.line.count"] = "1"
        serde = (
            {
                "SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde",
                "Parameters": {"separatorChar": layout.delimiter, "quoteChar": '"'},
            }
            if layout.quoted
            else {
                "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                "Parameters": {"field.delim": layout.delimiter},
            }
        )
    elif schema.classification == "json":
        serde = {
            "SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
            "Parameters": {"paths": ",".join(sorted(name for name, _ in columns))},
        }
    else:
        serde = {
            "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
            "Parameters": {"serialization.format": "1"},
        }
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


def reader_shape(descriptor: dict) -> tuple:
    """What makes two storage descriptors different for a reader (statistics are not)."""
    return (
        descriptor.get("Columns"),
        descriptor.get("Location"),
        descriptor.get("InputFormat"),
        descriptor.get("SerdeInfo"),
    )


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


def current_version(table) -> dict:
    """The TableInput of a moto FakeTable's current version."""
    return table.versions[str(max(int(version) for version in table.versions))]
