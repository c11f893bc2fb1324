"""Driving the local Athena over its API, as a pipeline does: start, wait, read results."""

from __future__ import annotations

import io
import time
import uuid

import pyarrow as pa
import pyarrow.parquet as pq

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


class Athena:
    """One test's view of the local Athena: its buckets, a unique suffix for databases, helpers."""

    def __init__(self, local_aws):
        self.suffix = uuid.uuid4().hex[:8]
        self.s3, self.glue, self.client = local_aws.client("s3"), local_aws.client("glue"), local_aws.client("athena")
        self.bucket, self.results = f"lake-{self.suffix}", f"results-{self.suffix}"
        for bucket in (self.bucket, self.results):
            self.s3.create_bucket(Bucket=bucket)
        self.output = f"s3://{self.results}/athena/"

    def db(self, name: str) -> str:
        return f"{name}_{self.suffix}"

    def start(self, sql: str, database: str | None = None, **extra) -> str:
        extra.setdefault("ResultConfiguration", {"OutputLocation": self.output})
        context = {"Database": database, "Catalog": "AwsDataCatalog"} if database else {}
        return self.client.start_query_execution(QueryString=sql, QueryExecutionContext=context, **extra)[
            "QueryExecutionId"
        ]

    def wait(self, query_id: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            execution = self.client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            if execution["Status"]["State"] in TERMINAL:
                return execution
            time.sleep(0.05)
        raise AssertionError(f"query {query_id} still {execution['Status']['State']} after {timeout}s")

    def run(self, sql: str, database: str | None = None, **extra) -> dict:
        """Run a statement that must succeed; its QueryExecution."""
        execution = self.wait(self.start(sql, database, **extra))
        assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
        return execution

    def fail(self, sql: str, database: str | None = None, **extra) -> dict:
        """Run a statement that must fail; its Status."""
        execution = self.wait(self.start(sql, database, **extra))
        assert execution["Status"]["State"] == "FAILED", execution["Status"]
        return execution["Status"]

    def rows(self, query_id: str) -> list[list[str | None]]:
        """Every row GetQueryResults returns (header first for queries), through the paginator."""
        rows = []
        for page in self.client.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
            rows += [[cell.get("VarCharValue") for cell in row["Data"]] for row in page["ResultSet"]["Rows"]]
        return rows

    def query(self, sql: str, database: str | None = None) -> list[list[str | None]]:
        """Data rows of a query (header dropped)."""
        return self.rows(self.run(sql, database)["QueryExecutionId"])[1:]

    def put(self, key: str, body: bytes | str) -> int:
        body = body.encode() if isinstance(body, str) else body
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        return len(body)

    def get(self, uri: str) -> bytes:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def keys(self, prefix: str, bucket: str | None = None) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket or self.bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read_parquet_prefix(self, prefix: str) -> pa.Table:
        tables = [
            pq.read_table(io.BytesIO(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()))
            for key in self.keys(prefix)
        ]
        return pa.concat_tables(tables)


def parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()
