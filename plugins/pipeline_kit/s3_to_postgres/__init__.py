"""Fast, idempotent S3 CSV -> PostgreSQL load: stream the file's records into ``COPY``, typed as the target when
the file is clean, else checked set-wise in the database; quarantine malformed rows with their reasons, merge the
rest in one transaction.

- ``records``: the CSV's structure in one streaming pass (pure Python), each field's format checked on the way;
- ``columns``: target columns, their format rules and the SQL that checks each;
- ``load``: the transaction (typed or checked path, quarantine, merge, counts);
- ``merge_operator``: the Airflow operator over an S3 object (not ``operator.py``: Airflow imports every file of
  the plugins folder by its bare name, which would shadow the standard library's ``operator``).

The Amazon and Postgres providers have no operator that streams an object into ``COPY`` and merges with a
row-level quarantine, hence this one.
"""

from pipeline_kit.s3_to_postgres.columns import Column, SurrogateKey, as_columns
from pipeline_kit.s3_to_postgres.load import BadHeader, EmptySource, Slice, Target, TooManyRejects, load_csv
from pipeline_kit.s3_to_postgres.merge_operator import S3ToPostgresMergeOperator, SourceFileMissing, s3_chunks

__all__ = [
    "BadHeader",
    "Column",
    "EmptySource",
    "S3ToPostgresMergeOperator",
    "Slice",
    "SourceFileMissing",
    "SurrogateKey",
    "Target",
    "TooManyRejects",
    "as_columns",
    "load_csv",
    "s3_chunks",
]
