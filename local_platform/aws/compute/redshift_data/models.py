"""State of the Redshift Data API stand-in: statements and their queries, as moto's backend keeps them."""

from __future__ import annotations

import dataclasses
import re
import threading
import time

RUNNING = ("SUBMITTED", "PICKED", "STARTED")
STATE_LOCK = threading.RLock()  # guards every statement's state: request threads read what worker threads write


def standin_database_name(namespace: str, identifier: str, database: str) -> str:
    """The PostgreSQL database that stands in for ``database`` on a cluster or workgroup."""
    return re.sub(r"[^a-z0-9]", "_", f"{namespace}_rs_{identifier}_{database}".lower())[:63]


class StatementError(Exception):
    """A statement failed; the message is what DescribeStatement reports as ``Error``."""


@dataclasses.dataclass
class Query:
    """One SQL text and what running it produced: a whole ExecuteStatement, or one sub-statement of a batch."""

    id: str
    query_string: str
    created_at: float = dataclasses.field(default_factory=time.time)
    updated_at: float = dataclasses.field(default_factory=time.time)
    status: str = "SUBMITTED"
    error: str | None = None
    duration_ns: int = -1
    redshift_query_id: int = 0
    has_result_set: bool = False
    result_rows: int = -1
    result_size: int = -1
    columns: list[dict] = dataclasses.field(default_factory=list)
    records: list[list[dict]] = dataclasses.field(default_factory=list)

    def set_status(self, status: str, error: str | None = None) -> None:
        self.status, self.updated_at = status, time.time()
        if error is not None:
            self.error = error

    def describe(self) -> dict:
        data = {
            "Id": self.id,
            "QueryString": self.query_string,
            "Status": self.status,
            "CreatedAt": self.created_at,
            "UpdatedAt": self.updated_at,
            "Duration": self.duration_ns,
            "HasResultSet": self.has_result_set,
            "ResultRows": self.result_rows,
            "ResultSize": self.result_size,
            "RedshiftQueryId": self.redshift_query_id,
        }
        if self.error:
            data["Error"] = self.error
        return data


@dataclasses.dataclass
class Statement(Query):
    """What ExecuteStatement or BatchExecuteStatement submitted, with its sub-statements for a batch."""

    is_batch: bool = False
    sub_statements: list[Query] = dataclasses.field(default_factory=list)
    database: str = ""
    cluster_identifier: str | None = None
    workgroup_name: str | None = None
    db_user: str | None = None
    secret_arn: str | None = None
    statement_name: str | None = None
    parameters: list[dict] | None = None
    redshift_pid: int = 0
    cancel_requested: bool = False
    connection: object = None
    done: threading.Event = dataclasses.field(default_factory=threading.Event)

    @property
    def queries(self) -> list[Query]:
        return self.sub_statements if self.is_batch else [self]

    def identity(self) -> dict:
        data = {"Id": self.id, "CreatedAt": self.created_at, "Database": self.database}
        for key, value in (
            ("ClusterIdentifier", self.cluster_identifier),
            ("WorkgroupName", self.workgroup_name),
            ("DbUser", self.db_user),
            ("SecretArn", self.secret_arn),
        ):
            if value:
                data[key] = value
        return data

    def describe(self) -> dict:
        with STATE_LOCK:
            data = {**super().describe(), **self.identity(), "RedshiftPid": self.redshift_pid, "ResultFormat": "JSON"}
            if self.parameters:
                data["QueryParameters"] = self.parameters
            if self.is_batch:
                del data["QueryString"]
                data["SubStatements"] = [sub.describe() for sub in self.sub_statements]
            return data

    def listing(self) -> dict:
        with STATE_LOCK:
            data = {
                "Id": self.id,
                "Status": self.status,
                "CreatedAt": self.created_at,
                "UpdatedAt": self.updated_at,
                "IsBatchStatement": self.is_batch,
                "ResultFormat": "JSON",
            }
            if self.is_batch:
                data["QueryStrings"] = [sub.query_string for sub in self.sub_statements]
            else:
                data["QueryString"] = self.query_string
            for key, value in (
                ("StatementName", self.statement_name),
                ("SecretArn", self.secret_arn),
                ("QueryParameters", self.parameters),
            ):
                if value:
                    data[key] = value
            return data
