"""MWAA's REST-JSON API over HTTP: routes, request parsing and responses as botocore's ``mwaa`` client expects."""

from __future__ import annotations

import json
import re
from datetime import datetime

from werkzeug.wrappers import Request, Response

from local_platform.aws.mwaa.models import MwaaError, ValidationException, mwaa_backend

SIGNING_NAME = "airflow"  # botocore signs MWAA requests for "airflow"
ENVIRONMENT = re.compile(r"^/environments/(?P<name>[^/]+)/?$")
CREDENTIAL_SCOPE = re.compile(r"Credential=(?P<key>[^/]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/")


def signing_service(environ: dict) -> str | None:
    match = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match.group("service") if match else None


def application(environ, start_response):
    """The WSGI application the local server hands every request signed for ``airflow``."""
    request = Request(environ)
    try:
        response = _dispatch(request)
    except MwaaError as exc:
        response = _json({"message": exc.message}, exc.status, {"x-amzn-ErrorType": exc.code})
    return response(environ, start_response)


def _dispatch(request: Request) -> Response:
    match = CREDENTIAL_SCOPE.search(request.headers.get("Authorization", ""))
    region = match.group("region") if match else "us-east-1"
    backend = mwaa_backend(_account_id(match.group("key") if match else ""), region)
    path, method = request.path, request.method
    if path.rstrip("/") == "/environments" and method == "GET":
        return _list(backend, request)
    found = ENVIRONMENT.match(path)
    if not found:
        raise ValidationException(f"No MWAA operation for {method} {path}")
    name = found.group("name")
    if method == "PUT":
        environment = backend.create_environment(name, _body(request))
        return _json({"Arn": environment.arn})
    if method == "GET":
        return _json({"Environment": backend.get_environment(name).describe()})
    if method == "PATCH":
        environment = backend.update_environment(name, _body(request))
        return _json({"Arn": environment.arn})
    if method == "DELETE":
        backend.delete_environment(name)
        return _json({})
    raise ValidationException(f"No MWAA operation for {method} {path}")


def _list(backend, request: Request) -> Response:
    names = backend.list_environments()
    max_results = int(request.args.get("MaxResults") or 25)
    start = int(request.args.get("NextToken") or 0)
    page = names[start : start + max_results]
    result = {"Environments": page}
    if start + max_results < len(names):
        result["NextToken"] = str(start + max_results)
    return _json(result)


def _body(request: Request) -> dict:
    raw = request.get_data(as_text=True)
    try:
        return json.loads(raw) if raw else {}
    except ValueError as exc:
        raise ValidationException(f"Request body is not JSON: {exc}") from exc


def _json(payload: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(payload, default=_timestamp), status=status, headers=headers or {}, content_type="application/json"
    )


def _timestamp(value):
    if isinstance(value, datetime):
        return value.timestamp()  # rest-json timestamps are epoch seconds
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _account_id(access_key: str) -> str:
    import os

    from moto.iam.models import get_account_id_from

    return os.environ.get("MOTO_ACCOUNT_ID") or get_account_id_from(access_key)
