"""State a crawler keeps beside moto's: its crawls, their outcome and metrics."""

from __future__ import annotations

import dataclasses
import json
import statistics
import threading
import uuid
from datetime import UTC, datetime

LOG_GROUP = "/aws-glue/crawlers"


class CrawlCancelled(Exception):
    pass


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
        info = {
            "Status": self.outcome,
            "LogGroup": self.log_group,
            "LogStream": self.log_stream,
            "MessagePrefix": self.message_prefix,
            "StartTime": self.start_time,
        }
        if self.error_message:
            info["ErrorMessage"] = self.error_message
        return info

    def as_dict(self) -> dict:
        crawl = {
            "CrawlId": self.crawl_id,
            "State": self.status,
            "StartTime": self.start_time,
            "LogGroup": self.log_group,
            "LogStream": self.log_stream,
            "MessagePrefix": self.message_prefix,
            "DPUHour": round(self.seconds / 3600, 6),
            "Summary": json.dumps(
                {
                    "TABLE": {
                        "ADD": {"Count": self.tables_created},
                        "UPDATE": {"Count": self.tables_updated},
                        "DELETE": {"Count": self.tables_deleted},
                    }
                }
            ),
        }
        if self.end_time:
            crawl["EndTime"] = self.end_time
        if self.error_message:
            crawl["ErrorMessage"] = self.error_message
        return crawl


def finished_crawls(crawler) -> list[CrawlRun]:
    return [run for run in crawler.crawls if run.end_time is not None]


def crawler_metrics(crawler) -> dict:
    """GetCrawlerMetrics of one crawler: the table counts are those of its last finished crawl."""
    finished = finished_crawls(crawler)
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
