"""Parse botocore's model files once per process, not once per boto3 session.

Every Airflow AWS hook builds a boto3 session of its own, and each new session reads and parses the JSON models
it needs again (endpoints, partitions, the service's API: about 0.5 s of CPU for Glue). On MWAA each task is a
process of its own and pays that once; in the local platform's long-lived processes (``dag.test()`` running
every task of every run in one process, the local AWS server's crawlers, the warm Glue driver, the Airflow
processes whose forked tasks inherit it) it was paid again and again, and was the largest CPU cost of a small DAG
run. Sessions made after ``share_loaders()`` share one loader per data
path, as the clients of one session always do: same files, same results, parsed once.
"""

from __future__ import annotations

import functools


def share_loaders() -> None:
    """Idempotent; affects sessions created afterwards in this process."""
    import botocore.loaders
    import botocore.session

    if not isinstance(botocore.session.create_loader, functools._lru_cache_wrapper):
        botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)
