"""Redshift Data API that really runs SQL (replaces moto 5.2.5's redshiftdata, whose statements stay STARTED
forever and return canned rows).

Contract for pipeline authors:

- Each cluster or workgroup + database is stood in for by the PostgreSQL database
  ``standin_database_name(namespace, identifier, database)`` = ``{namespace}_rs_{identifier}_{database}``
  (lowercased, anything but ``[a-z0-9]`` -> ``_``, cut to 63 characters) on ``config.postgres_dsn``'s server,
  created on first use. Tests find it through that function and the server's namespace.
- A statement runs in a thread on its own connection (one Redshift session: ``#temp`` tables live until it
  ends; time zone UTC, DateStyle ISO, MDY as in Redshift; ``work_mem`` sized like a Redshift query slot's memory)
  as one transaction; a batch is one transaction over all its statements (``BEGIN``/
  ``COMMIT`` inside it behave as in Redshift, and ``TRUNCATE`` commits). Status goes SUBMITTED -> STARTED ->
  FINISHED, FAILED (``Error`` = PostgreSQL's message) or ABORTED (CancelStatement).
- SQL goes through :mod:`redshift_sql`: storage hints stripped, ``#temp`` tables, ``GETDATE()``/``SYSDATE``,
  ``VARCHAR(MAX)``; Redshift-only syntax it recognises but cannot translate fails naming it.
- ``COPY table [(cols)] FROM 's3://bucket/prefix'`` with ``IAM_ROLE``/``CREDENTIALS``/access keys (ignored),
  ``REGION``, and ``[FORMAT [AS]] CSV`` (``DELIMITER``, ``QUOTE``, ``NULL AS``, ``IGNOREHEADER n``), ``JSON
  'auto'``/``'auto ignorecase'`` (keys matched to column names) or ``PARQUET`` (columns by position), plus
  ``GZIP``, ``TIMEFORMAT``/``DATEFORMAT 'auto'``, ``COMPUPDATE``/``STATUPDATE``. Every object whose key starts
  with the prefix is loaded, read from the local S3. Anything else (MANIFEST, jsonpaths, AVRO, ...) fails.
- Not emulated: sessions (SessionId), EventBridge events (WithEvent is accepted and ignored), DbUser/SecretArn
  authorisation (ignored).
"""

from __future__ import annotations

from local_platform.aws.compute import ComputeConfig, patch
from local_platform.aws.compute.redshift_data import responses
from local_platform.aws.compute.redshift_data.models import standin_database_name
from local_platform.aws.compute.redshift_data.runner import Runner

__all__ = ["install", "standin_database_name"]


def install(config: ComputeConfig) -> None:
    """Make moto's Redshift Data API run statements on the PostgreSQL stand-in."""
    # pyarrow's first import in a statement's worker thread has crashed the process (a segfault in libarrow while
    # pyarrow.dataset initialised): import it here, on the main thread, once.
    import pyarrow.parquet  # noqa: F401
    from moto.redshiftdata.responses import RedshiftDataAPIServiceResponse

    responses.use_runner(Runner(config))
    patch(RedshiftDataAPIServiceResponse, *responses.HANDLERS)
