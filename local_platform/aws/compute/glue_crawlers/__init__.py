"""Glue crawlers that crawl: ``StartCrawler`` infers the schemas under the S3 targets and writes the catalog.

moto 5.2.5 only records a crawl: the crawler stays RUNNING, ``LastCrawl.Status`` reads COMPLETED (AWS says
SUCCEEDED, which the provider's sensor waits for), no table is written, and ``UpdateCrawler`` and
``GetCrawlerMetrics`` do not exist. ``install`` replaces start/stop on the backend and the crawler's state
reporting, and adds the two missing actions. A crawl runs in a thread of the server: it lists the targets
over the local S3 endpoint, infers schemas (``schema_inference.py``) and writes the Glue catalog in-process.
Its log goes to ``<state_dir>/glue-crawlers/<crawler>.log`` and to CloudWatch Logs ``/aws-glue/crawlers``.

Table contract (what a pipeline author can rely on, here and on AWS for the simple layouts):
- One table per folder holding data files. Trailing ``key=value`` folders are Hive partitions of the
  folder above them, not tables. A data file directly under the include path makes a table named after the
  include path's last folder (the bucket's name for a bucket root).
- Table name = lower-case(TablePrefix + folder name) with every character outside [a-z0-9_] replaced by
  ``_`` (``toll-events`` -> ``toll_events``); a second folder with the same name gets ``_<8 hex>`` appended.
- ``Configuration`` ``{"Grouping": {"TableLevelConfiguration": N}}`` puts every table at absolute level N
  (the bucket is level 1); folders below it are partitions (``key=value`` or ``partition_<i>``).
- ``StorageDescriptor.Location`` = ``s3://bucket/path/to/folder/`` (trailing slash); partitions:
  ``.../key=value/``; partition keys are ``string`` columns; partitions carry their own columns.
- Columns: CSV header names (lower-cased) or ``col0, col1, ...`` when Glue's header rule says "no header"
  (first row all text and no non-text column below it; a file whose first row repeats the header of another
  CSV in the same folder is read with that header);
  JSON top-level keys (lower-cased); Parquet field names (lower-cased). Types: bigint, double, boolean, date,
  timestamp (``yyyy-MM-dd HH:mm:ss[.f]`` only), string; Parquet maps its own types (int, float, decimal(p,s),
  array<..>, struct<..>, map<..>); JSON integers are bigint, objects struct<..>, arrays array<..>.
- Files whose name starts with ``_`` or ``.`` (``_SUCCESS``, ``.crc``), empty objects and folder markers
  are skipped; S3Target ``Exclusions`` are Glue globs matched against the key relative to the include path.
- CSV and JSON are inferred from the first MiB of each file (whole lines; recordCount extrapolated), as
  Glue samples; Parquet from its footer. Files of one folder merge by column name (numbers widen, other
  conflicts become string) where AWS might split very different files into separate tables.
- A folder mixing formats (or CSV delimiters), a malformed JSON line, a corrupt Parquet or gzip file fails
  the whole crawl (``LastCrawl.Status`` FAILED with the file in ``ErrorMessage``) and writes nothing.
- SchemaChangePolicy: UpdateBehavior UPDATE_IN_DATABASE (default) rewrites a changed table (a new table
  version) and its partitions, LOG only adds what is new. DeleteBehavior for tables this crawler made whose
  folder is gone: DEPRECATE_IN_DATABASE (default) sets Parameters.DEPRECATED_BY_CRAWLER,
  DELETE_FROM_DATABASE deletes them (and partitions whose folder is gone), LOG keeps them.
- Not emulated: Schedule (crawls start only by StartCrawler), RecrawlPolicy (every crawl is a full one),
  custom Classifiers, targets other than S3Targets (the crawl fails saying so).
"""

from __future__ import annotations

from local_platform.aws.compute import ComputeConfig, patch
from local_platform.aws.compute.glue_crawlers import responses


def install(config: ComputeConfig) -> None:
    from moto.glue.models import FakeCrawler, GlueBackend
    from moto.glue.responses import GlueResponse

    responses.use(config, FakeCrawler.as_dict)
    FakeCrawler.status = property(responses.crawler_status)
    patch(FakeCrawler, responses.as_dict)
    patch(
        GlueBackend, responses.start_crawler, responses.stop_crawler, responses.delete_crawler, responses.update_crawler
    )
    patch(
        GlueResponse,
        update_crawler=responses.respond_update_crawler,
        get_crawler_metrics=responses.respond_get_crawler_metrics,
    )
