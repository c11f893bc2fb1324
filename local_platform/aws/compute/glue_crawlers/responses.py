"""Request handling: moto's crawler backend methods and the actions it lacks, as the local crawls run them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from local_platform.aws.compute.glue_crawlers.crawl import CATALOG_LOCK, Crawl
from local_platform.aws.compute.glue_crawlers.models import CrawlRun, crawler_metrics, finished_crawls

if TYPE_CHECKING:
    from local_platform.aws.compute import ComputeConfig

UPDATABLE = {  # UpdateCrawler parameter -> FakeCrawler attribute
    "Role": "role",
    "DatabaseName": "database_name",
    "Description": "description",
    "Targets": "targets",
    "Schedule": "schedule",
    "Classifiers": "classifiers",
    "TablePrefix": "table_prefix",
    "SchemaChangePolicy": "schema_change_policy",
    "RecrawlPolicy": "recrawl_policy",
    "LineageConfiguration": "lineage_configuration",
    "Configuration": "configuration",
    "CrawlerSecurityConfiguration": "crawler_security_configuration",
}


_config: ComputeConfig | None = None  # given by install
_moto_as_dict = None


def use(config: ComputeConfig, moto_as_dict) -> None:
    global _config, _moto_as_dict
    _config, _moto_as_dict = config, moto_as_dict


def as_dict(self) -> dict:
    data = _moto_as_dict(self)
    finished = finished_crawls(self)
    data.pop("LastCrawl", None)
    if finished:
        data["LastCrawl"] = finished[-1].last_crawl()
    data["CrawlElapsedTime"] = int(self.crawls[-1].seconds * 1000) if self.status != "READY" else 0
    return data


def start_crawler(self, name: str) -> None:
    crawler = self.get_crawler(name)
    with CATALOG_LOCK:
        if crawler.status != "READY":
            raise _exceptions().CrawlerRunningException(f"Crawler with name {name} has already started")
        run = CrawlRun(name)
        crawler.crawls.append(run)
        crawler.__dict__["local_state"] = "RUNNING"
    crawl = Crawl(_config, self, crawler, run)
    threading.Thread(target=crawl.run, name=f"crawler-{name}", daemon=True).start()


def stop_crawler(self, name: str) -> None:
    crawler = self.get_crawler(name)
    if crawler.status != "RUNNING":
        raise _exceptions().CrawlerNotRunningException(f"Crawler with name {name} isn't running")
    crawler.crawls[-1].cancel.set()
    crawler.__dict__["local_state"] = "STOPPING"


def delete_crawler(self, name: str) -> None:
    if self.get_crawler(name).status != "READY":
        raise _exceptions().CrawlerRunningException(f"Crawler with name {name} is running and cannot be deleted")
    del self.crawlers[name]


def update_crawler(self, name: str, changes: dict) -> None:
    crawler = self.get_crawler(name)
    if crawler.status != "READY":
        raise _exceptions().CrawlerRunningException(f"Crawler with name {name} is running and cannot be updated")
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


def crawler_status(self) -> str:
    return self.__dict__.get("local_state", "READY")


def _exceptions():
    from moto.glue import exceptions

    return exceptions
