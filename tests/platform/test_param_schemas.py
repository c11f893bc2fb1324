"""``check_schemas_once``: a param schema is checked against its meta-schema once per process; values are still
validated every time, a bad schema still fails every time, and DAGs serialize exactly as before."""

from __future__ import annotations

import jsonschema
import pytest
from airflow.serialization.serialized_objects import DagSerialization

from local_platform.param_schemas import check_schemas_once
from tests.helpers.airflow_runs import load_dag

DRAFTS = (jsonschema.Draft202012Validator, jsonschema.Draft7Validator, jsonschema.Draft4Validator)


def serialized(dags) -> dict:
    return {dag.dag_id: DagSerialization.serialize_dag(dag) for dag in dags}


def test_dags_serialize_the_same_with_schemas_checked_once(airflow_db, monkeypatch):
    dags = [load_dag(dag_id) for dag_id in ("tweet_hashtags", "vn_stock", "retail_analytics")]
    check_schemas_once()
    once = serialized(dags)
    # jsonschema as it comes (this process may have run DAGs, which check schemas once, before this test)
    for draft in DRAFTS:
        monkeypatch.setattr(draft, "check_schema", classmethod(draft.check_schema.__func__.__wrapped__))

    assert serialized(dags) == once


def test_values_and_schemas_are_still_checked_every_time():
    check_schemas_once()
    layer = jsonschema.Draft202012Validator.check_schema.__func__
    check_schemas_once()  # idempotent: one layer, whatever the number of calls
    assert jsonschema.Draft202012Validator.check_schema.__func__ is layer and layer.remembers_schemas

    for _ in range(2):
        jsonschema.validate(5, {"type": "integer", "minimum": 1})
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(0, {"type": "integer", "minimum": 1})
        with pytest.raises(jsonschema.SchemaError):
            jsonschema.validate(5, {"type": "integer", "minimum": "one"})
