"""Check each DAG param's JSON schema once per process, in the local platform's processes.

Airflow validates a param's value against its schema whenever it resolves the param, and ``jsonschema.validate``
first checks the schema itself against its meta-schema, every time. Serializing a DAG resolves every param of
every task (to compare them with the DAG's): tweet_hashtags' ten params over 34 tasks were 688 schema checks and
0.16 s of CPU per serialization (0.02 s with each schema checked once), paid by the DAG processor on each parse and
by every ``dag.test()`` run (which serializes the whole bundle). ``check_schemas_once()`` remembers the schemas that passed the check; a value is
still validated against its schema each time, and a schema that fails the check fails every time. Only the local
platform's processes; MWAA runs Airflow as it is.
"""

from __future__ import annotations

import functools
import json
import re


def check_schemas_once() -> None:
    """Idempotent; every draft's validator class (jsonschema picks one by the schema's ``$schema``)."""
    from jsonschema import validators

    drafts = [getattr(validators, name) for name in dir(validators) if re.fullmatch(r"Draft\w+Validator", name)]
    for validator in drafts:
        check = validator.check_schema
        if getattr(check, "remembers_schemas", False):
            continue
        validator.check_schema = classmethod(_remembering(check.__func__))


def _remembering(check_schema):
    passed: set[str] = set()

    @functools.wraps(check_schema)
    def check_once(cls, schema, *args, **kwargs):
        key = json.dumps([cls.__name__, schema, repr(args), repr(sorted(kwargs.items()))], sort_keys=True, default=repr)
        if key not in passed:
            check_schema(cls, schema, *args, **kwargs)
            passed.add(key)

    check_once.remembers_schemas = True
    return check_once
