"""Upload the MWAA package to an environment's source bucket and update the environment:

    python -m deploy.push --environment NAME [--package dist/mwaa] [--endpoint-url URL]

1. The environment's source bucket comes from the environment itself (``SourceBucketArn``); before the first
   release, when the environment does not exist yet, from the shared stack (``AirflowSourceBucket``): the
   package is uploaded, and ``python -m deploy.stacks mwaa`` then creates the environment on it.
2. ``dags/`` is synced to the bucket's ``dags/`` prefix: changed files uploaded, removed files deleted
   (MWAA picks DAG changes up without an update).
3. ``plugins.zip`` and ``requirements.txt`` are uploaded; the bucket is versioned (MWAA requires it), so
   each upload has an object version. Unchanged content is not uploaded again.
4. Only when the plugins or requirements version changed (or the environment points elsewhere) is the
   environment updated, then waited for until ``AVAILABLE`` (``UPDATE_FAILED`` fails with MWAA's error).

Credentials are the caller's (boto3's default chain); ``--endpoint-url`` targets the local platform.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import boto3

from deploy.package import DEFAULT_OUT, Package

DAGS_PREFIX = "dags"
PLUGINS_KEY = "plugins.zip"
REQUIREMENTS_KEY = "requirements.txt"


class DeployError(RuntimeError):
    pass


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def sync_dags(s3, bucket: str, dags: Path, prefix: str = DAGS_PREFIX) -> dict[str, list[str]]:
    """Make ``s3://bucket/prefix/`` hold exactly ``dags``; returns the keys uploaded and deleted."""
    remote = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/"):
        remote.update({item["Key"]: item["ETag"].strip('"') for item in page.get("Contents", [])})
    local = {
        f"{prefix}/{path.relative_to(dags).as_posix()}": path for path in sorted(dags.rglob("*")) if path.is_file()
    }
    uploaded = [key for key, path in local.items() if remote.get(key) != _md5(path)]
    for key in uploaded:
        s3.upload_file(str(local[key]), bucket, key)
    deleted = sorted(set(remote) - set(local))
    for start in range(0, len(deleted), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in deleted[start : start + 1000]]})
    return {"uploaded": uploaded, "deleted": deleted}


def put_versioned(s3, bucket: str, key: str, path: Path) -> str:
    """Upload ``path`` unless the current object has the same content; return the object's version."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
        if head["ETag"].strip('"') == _md5(path) and head.get("VersionId") not in (None, "null"):
            return head["VersionId"]
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchKey"):
            raise
    version = s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes()).get("VersionId")
    if version in (None, "null"):
        raise DeployError(f"s3://{bucket} is not versioned: MWAA needs object versions (enable bucket versioning)")
    return version


def wait_until_available(mwaa, name: str, timeout_s: float, poll_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        environment = mwaa.get_environment(Name=name)["Environment"]
        status = environment["Status"]
        if status == "AVAILABLE":
            return environment
        if status in ("UPDATE_FAILED", "CREATE_FAILED", "UNAVAILABLE"):
            error = environment.get("LastUpdate", {}).get("Error", {})
            raise DeployError(f"environment {name} is {status}: {error.get('ErrorCode')} {error.get('ErrorMessage')}")
        if time.monotonic() > deadline:
            raise DeployError(f"environment {name} still {status} after {timeout_s:.0f}s")
        time.sleep(poll_s)


def deploy(
    session: boto3.session.Session,
    environment: str,
    built: Package,
    endpoint_url: str | None = None,
    timeout_s: float = 3600,
    poll_s: float = 30,
) -> dict:
    """The whole deploy (see the module docstring); returns what was done."""
    from botocore.config import Config

    # The local endpoint answers MWAA on its own address, not on botocore's "api." host prefix.
    mwaa = session.client("mwaa", endpoint_url=endpoint_url, config=Config(inject_host_prefix=not endpoint_url))
    s3 = session.client("s3", endpoint_url=endpoint_url)
    try:
        current = wait_until_available(mwaa, environment, timeout_s, poll_s)
    except mwaa.exceptions.ResourceNotFoundException:
        current = None
    if current is None:
        from deploy.stacks import stack_outputs

        bucket = stack_outputs("shared", endpoint_url=endpoint_url, region=session.region_name)["AirflowSourceBucket"]
    else:
        bucket = current["SourceBucketArn"].rsplit(":", 1)[-1]
    synced = sync_dags(s3, bucket, built.dags)
    wanted = {
        "DagS3Path": DAGS_PREFIX,
        "PluginsS3Path": PLUGINS_KEY,
        "PluginsS3ObjectVersion": put_versioned(s3, bucket, PLUGINS_KEY, built.plugins_zip),
        "RequirementsS3Path": REQUIREMENTS_KEY,
        "RequirementsS3ObjectVersion": put_versioned(s3, bucket, REQUIREMENTS_KEY, built.requirements),
    }
    if current is None:
        return {"bucket": bucket, **synced, "environment_updated": [], "environment_missing": True}
    changed = {key: value for key, value in wanted.items() if current.get(key) != value}
    if changed:
        mwaa.update_environment(Name=environment, **wanted)
        time.sleep(min(poll_s, 1.0))  # the update is accepted before its status reads UPDATING
        wait_until_available(mwaa, environment, timeout_s, poll_s)
    return {"bucket": bucket, **synced, "environment_updated": sorted(changed), "environment_missing": False}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--environment", required=True, help="the MWAA environment's name")
    parser.add_argument("--package", type=Path, default=DEFAULT_OUT, help="what `make mwaa-package` built")
    parser.add_argument("--endpoint-url", help="the local platform's AWS endpoint; omit for AWS")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)
    local = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"} if args.endpoint_url else {}
    session = boto3.session.Session(region_name=args.region or ("us-east-1" if args.endpoint_url else None), **local)
    built = Package(args.package, args.package.with_suffix(".zip"))
    result = deploy(session, args.environment, built, args.endpoint_url, poll_s=1 if args.endpoint_url else 30)
    if result["environment_missing"]:
        outcome = "does not exist yet: create it on this package with `python -m deploy.stacks mwaa`"
    elif result["environment_updated"]:
        outcome = f"updated ({', '.join(result['environment_updated'])})"
    else:
        outcome = "unchanged (DAG changes are picked up without an update)"
    print(
        f"s3://{result['bucket']}: {len(result['uploaded'])} DAG files uploaded, {len(result['deleted'])} deleted; "
        f"environment {args.environment} {outcome}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
