"""Query executions: their state (QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED), statistics and results,
and the worker threads that run them (a few at a time; the rest wait QUEUED, as Athena queues)."""

from __future__ import annotations

import dataclasses
import json
import logging
import queue
import threading
import time
import uuid

from local_platform.aws.compute import ComputeConfig
from local_platform.aws.compute.athena.catalog import Catalog, folder, split_s3_uri
from local_platform.aws.compute.athena.engine import Cancelled, Outcome, QueryRun, statement_type
from local_platform.aws.compute.athena.errors import AthenaQueryError
from local_platform.aws.compute.athena.results import ResultSet

log = logging.getLogger("local_platform.aws.athena")

WORKERS = 4  # queries running at once; later ones stay QUEUED
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
ENGINE_VERSION = {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}
LOCK = threading.RLock()  # request threads read what worker threads write


@dataclasses.dataclass
class QueryExecution:
    query: str
    workgroup: str
    output_location: str  # s3://.../<id>.csv (or .txt for DDL), as Athena reports it
    database: str | None = None
    catalog: str | None = None
    parameters: list[str] | None = None
    result_configuration: dict = dataclasses.field(default_factory=dict)
    id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    state: str = "QUEUED"
    state_change_reason: str | None = None
    athena_error: dict | None = None
    submitted: float = dataclasses.field(default_factory=time.time)
    started: float | None = None
    completed: float | None = None
    data_scanned: int = 0
    manifest_location: str | None = None
    result: ResultSet | None = None
    run: QueryRun | None = None
    done: threading.Event = dataclasses.field(default_factory=threading.Event)

    def __post_init__(self):
        self.statement_type, self.substatement_type = statement_type(self.query)

    @property
    def status(self) -> str:  # what moto's own handlers (GetQueryRuntimeStatistics) read
        return self.state

    def finish(self, state: str, reason: str | None = None, error: dict | None = None) -> None:
        with LOCK:
            if self.state in TERMINAL:
                return
            self.state, self.state_change_reason, self.athena_error = state, reason, error
            self.completed = time.time()
        self.done.set()

    def describe(self) -> dict:
        with LOCK:
            status = {"State": self.state, "SubmissionDateTime": self.submitted}
            if self.completed:
                status["CompletionDateTime"] = self.completed
            if self.state_change_reason:
                status["StateChangeReason"] = self.state_change_reason
            if self.athena_error:
                status["AthenaError"] = self.athena_error
            end = self.completed or time.time()
            queued = (self.started or end) - self.submitted
            engine = end - self.started if self.started else 0.0
            statistics = {
                "EngineExecutionTimeInMillis": int(engine * 1000),
                "DataScannedInBytes": self.data_scanned,
                "TotalExecutionTimeInMillis": int((end - self.submitted) * 1000),
                "QueryQueueTimeInMillis": int(queued * 1000),
                "ServicePreProcessingTimeInMillis": 0,
                "QueryPlanningTimeInMillis": 0,
                "ServiceProcessingTimeInMillis": 0,
                "ResultReuseInformation": {"ReusedPreviousResult": False},
            }
            if self.manifest_location:
                statistics["DataManifestLocation"] = self.manifest_location
            context = {key: value for key, value in (("Database", self.database), ("Catalog", self.catalog)) if value}
            described = {
                "QueryExecutionId": self.id,
                "Query": self.query,
                "StatementType": self.statement_type,
                "SubstatementType": self.substatement_type,
                "ResultConfiguration": {**self.result_configuration, "OutputLocation": self.output_location},
                "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
                "QueryExecutionContext": context,
                "Status": status,
                "Statistics": statistics,
                "WorkGroup": self.workgroup,
                "EngineVersion": ENGINE_VERSION,
            }
            if self.parameters:
                described["ExecutionParameters"] = self.parameters
            return described


class Runner:
    """Runs executions in worker threads of the server process; one per server, made by ``install``."""

    def __init__(self, config: ComputeConfig):
        self.config = config
        self.queue: queue.Queue = queue.Queue()
        for number in range(WORKERS):  # daemon threads: a server that stops does not wait for its queries
            threading.Thread(target=self._work, name=f"athena-{number}", daemon=True).start()

    def submit(self, execution: QueryExecution, account_id: str, region: str) -> None:
        self.queue.put((execution, account_id, region))

    def _work(self) -> None:
        while True:
            self._run(*self.queue.get())

    def stop(self, execution: QueryExecution) -> None:
        with LOCK:
            if execution.state in TERMINAL:
                return
            run = execution.run
        execution.finish("CANCELLED", "Query cancelled by user")
        if run is not None:
            run.cancel()

    def _run(self, execution: QueryExecution, account_id: str, region: str) -> None:
        with LOCK:
            if execution.state != "QUEUED":
                return
            execution.state, execution.started = "RUNNING", time.time()
            catalog = Catalog(account_id, region)
            run = QueryRun(
                catalog,
                self.config.state_dir / "athena" / execution.id,
                execution.id,
                execution.query,
                execution.database,
                execution.catalog,
                execution.parameters,
                execution.output_location,
            )
            execution.run = run
        try:
            if not catalog.bucket_exists(execution.output_location):
                bucket = split_s3_uri(execution.output_location)[0]
                raise AthenaQueryError("GENERIC_USER_ERROR", f"Unable to verify/create output bucket {bucket}")
            outcome = run.run()
            with LOCK:
                execution.data_scanned = run.data_scanned
            self._write_outputs(catalog, execution, outcome)
            with LOCK:
                execution.result = outcome.result
                execution.statement_type, execution.substatement_type = (
                    outcome.statement_type,
                    outcome.substatement_type,
                )
            execution.finish("SUCCEEDED")
        except Cancelled:
            execution.finish("CANCELLED", "Query cancelled by user")
        except AthenaQueryError as exc:
            with LOCK:
                execution.data_scanned = run.data_scanned
            execution.finish("FAILED", exc.reason, exc.athena_error())
        except Exception as exc:  # a bug here must still end the query, never leave it RUNNING
            log.exception("query %s crashed", execution.id)
            error = AthenaQueryError("GENERIC_INTERNAL_ERROR", f"{type(exc).__name__}: {exc}")
            execution.finish("FAILED", error.reason, error.athena_error())
        finally:
            with LOCK:
                execution.run = None
            log.info(
                "athena query %s %s%s (%d bytes scanned)",
                execution.id,
                execution.state,
                f": {execution.state_change_reason}" if execution.state_change_reason else "",
                execution.data_scanned,
            )

    @staticmethod
    def _write_outputs(catalog: Catalog, execution: QueryExecution, outcome: Outcome) -> None:
        """The result file at OutputLocation, its ``.metadata``, and for writes the data manifest."""
        result = outcome.result
        body = result.text() if execution.output_location.endswith(".txt") else result.csv()
        catalog.put(execution.output_location, body)
        catalog.put(
            execution.output_location + ".metadata",
            json.dumps({"ColumnInfo": result.column_info, "UpdateCount": result.update_count}).encode(),
        )
        if outcome.substatement_type in ("CREATE_TABLE_AS_SELECT", "INSERT", "UNLOAD"):
            manifest = folder(execution.output_location.rsplit("/", 1)[0]) + f"{execution.id}-manifest.csv"
            catalog.put(manifest, "".join(uri + "\n" for uri in outcome.written).encode())
            with LOCK:
                execution.manifest_location = manifest
