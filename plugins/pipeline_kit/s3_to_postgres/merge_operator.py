"""The Airflow operator: one CSV object in S3, streamed into ``load.load_csv``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator

from pipeline_kit.s3_to_postgres.columns import Column, SurrogateKey, as_columns
from pipeline_kit.s3_to_postgres.load import Slice, Target, load_csv
from pipeline_kit.settings import run_date_of

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

CHUNK_BYTES = 1 << 20


class SourceFileMissing(AirflowException):
    """The S3 object to load does not exist (retried: a producer may still be writing it)."""


def s3_chunks(s3_hook, bucket: str, keys: Sequence[str]) -> Iterator[bytes]:
    """The objects' bytes as ONE CSV: the first object whole, then each other object without its header line
    (objects holding the same table, e.g. the partitions of a range). Each object ends with a line break."""
    for index, key in enumerate(keys):
        # The hook's client, not a boto3 resource: no second service model to load for one GET.
        body = s3_hook.get_conn().get_object(Bucket=bucket, Key=key)["Body"]
        try:
            chunks = body.iter_chunks(CHUNK_BYTES)
            last = b""
            for chunk in _without_header(chunks) if index else chunks:
                if chunk:
                    last = chunk
                    yield chunk
            if last and not last.endswith(b"\n"):
                yield b"\n"
        finally:
            body.close()


def _without_header(chunks: Iterator[bytes]) -> Iterator[bytes]:
    pending = b""
    for chunk in chunks:
        pending += chunk
        cut = pending.find(b"\n")
        if cut >= 0:
            yield pending[cut + 1 :]
            yield from chunks
            return


class S3ToPostgresMergeOperator(BaseOperator):
    """Load one CSV object from S3 into a PostgreSQL table keyed by ``key_columns`` (see ``load``): malformed rows
    quarantined in ``<table>_rejects`` with their reasons, the rest merged in one transaction.

    :param table: ``schema.table``; it must exist with a unique constraint on ``key_columns``.
    :param columns: ``Column`` objects or ``(name, pg_type[, nullable, source])`` tuples, in target terms;
        default: the table's own columns, types and nullability (header names = column names).
    :param surrogate_key: generate this key column for sources without one (see ``SurrogateKey``).
    :param slice_column: a date column of the target holding the run's logical date: each run then owns its
        slice of the table, which mirrors the run's file (see ``Slice``).
    :param max_reject_rate: fail (target untouched, quarantine kept) when quarantined/read exceeds it.
    :param fail_on_empty: fail instead of loading nothing when the object has no data rows.
    :param logical_date: the run's day (YYYY-MM-DD); default: ``pipeline_kit.settings.run_date_of`` the run.
    :return: counts ``{"read", "loaded", "quarantined", "inserted", "updated", "unchanged", ...}`` and the
        ``path`` the file took (``typed``: a clean file; ``checked``: row by row, see ``load``).
    """

    template_fields: Sequence[str] = ("s3_bucket", "s3_key", "table", "logical_date", "max_reject_rate")
    ui_color = "#c8e6f5"

    def __init__(
        self,
        *,
        s3_bucket: str,
        s3_key: str,
        postgres_conn_id: str,
        table: str,
        key_columns: Sequence[str],
        columns: Sequence[Column | tuple] | None = None,
        surrogate_key: SurrogateKey | None = None,
        slice_column: str | None = None,
        max_reject_rate: float | str | None = None,
        fail_on_empty: bool = False,
        aws_conn_id: str | None = "aws_default",
        logical_date: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.s3_bucket = s3_bucket
        self.s3_key = s3_key
        self.postgres_conn_id = postgres_conn_id
        self.table = table
        self.columns = None if columns is None else as_columns(columns)
        self.key_columns = list(key_columns)
        self.surrogate_key = surrogate_key
        self.slice_column = slice_column
        self.max_reject_rate = max_reject_rate
        self.fail_on_empty = fail_on_empty
        self.aws_conn_id = aws_conn_id
        self.logical_date = logical_date

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        source_key = f"s3://{self.s3_bucket}/{self.s3_key}"
        s3 = S3Hook(aws_conn_id=self.aws_conn_id)
        if not s3.check_for_key(self.s3_key, self.s3_bucket):
            raise SourceFileMissing(f"{source_key} does not exist; nothing to load into {self.table}")
        rate = None if self.max_reject_rate in (None, "", "None") else float(self.max_reject_rate)
        run_day = self.logical_date or run_date_of(context).strftime("%Y-%m-%d")
        run_slice = Slice(self.slice_column, "date", run_day) if self.slice_column else None
        target = Target(self.table, self.columns, self.key_columns, self.surrogate_key, run_slice)
        conn = PostgresHook(postgres_conn_id=self.postgres_conn_id).get_conn()
        try:
            return load_csv(
                conn,
                s3_chunks(s3, self.s3_bucket, [self.s3_key]),
                target=target,
                source_key=source_key,
                logical_date=run_day,
                max_reject_rate=rate,
                fail_on_empty=self.fail_on_empty,
                log=self.log,
            )
        finally:
            conn.close()
