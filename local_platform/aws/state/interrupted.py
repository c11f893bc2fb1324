"""Work that was running when the server stopped ends FAILED after a restore, saying why.

The processes and threads of the compute extensions (a Glue job's script, a crawl, a Redshift Data
statement) die with the server; their saved records would otherwise report RUNNING forever, and a
crawler would refuse to start again. Each rule reads the compute extension's attributes defensively:
without the extension (or with an older one) it changes nothing it does not recognise.
A new extension that keeps work in flight on moto's models adds its rule here.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

MESSAGE = "Interrupted: the local AWS server stopped while this was running (state restored from its last snapshot)"
GLUE_RUNNING = ("STARTING", "RUNNING", "STOPPING", "WAITING")
REDSHIFT_DATA_RUNNING = ("SUBMITTED", "PICKED", "STARTED")


def settle(services: dict[str, list]) -> Counter:
    """Mark interrupted work in restored backends; return what was marked, by kind."""
    settled: Counter[str] = Counter()
    for backend in services.get("glue", []):
        settled["Glue job runs"] += _glue_job_runs(backend)
        settled["Glue crawls"] += _glue_crawls(backend)
    for backend in services.get("redshiftdata", []):
        settled["Redshift Data statements"] += _redshift_data(backend)
    return +settled


def _glue_job_runs(backend) -> int:
    from moto.core.utils import utcnow

    count = 0
    for job in list(getattr(backend, "jobs", {}).values()):
        for run in list(getattr(job, "job_runs", [])):
            if run.__dict__.get("_status") not in GLUE_RUNNING:
                continue
            run._transitions = []  # moto would otherwise move it on to SUCCEEDED
            run.status = "FAILED"
            run.completed_on = run.modified_on = utcnow()
            local = getattr(run, "local_run", None)
            if local is not None:
                local.error_message = MESSAGE
                local.process = None
            else:
                run.error_message = MESSAGE
            count += 1
    return count


def _glue_crawls(backend) -> int:
    count = 0
    for crawler in list(getattr(backend, "crawlers", {}).values()):
        if crawler.__dict__.get("local_state", "READY") == "READY":
            continue
        crawler.__dict__["local_state"] = "READY"
        crawls = getattr(crawler, "crawls", None) or []
        last = crawls[-1] if crawls else None
        if last is not None and getattr(last, "end_time", "absent") is None:
            last.outcome, last.error_message, last.end_time = "FAILED", MESSAGE, datetime.now(UTC)
        count += 1
    return count


def _redshift_data(backend) -> int:
    count = 0
    for statement in list(getattr(backend, "statements", {}).values()):
        queries = getattr(statement, "queries", None)
        if getattr(statement, "status", None) not in REDSHIFT_DATA_RUNNING or queries is None:
            continue
        for query in queries:
            if query.status in REDSHIFT_DATA_RUNNING:
                query.set_status("FAILED", MESSAGE)
        if statement.is_batch and statement.status in REDSHIFT_DATA_RUNNING:
            statement.set_status("FAILED", MESSAGE)
        statement.connection = None
        done = getattr(statement, "done", None)
        if done is not None:
            done.set()
        count += 1
    return count
