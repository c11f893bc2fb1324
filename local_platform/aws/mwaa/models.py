"""Amazon MWAA environments: state and behaviour (moto 5.2.5 has no MWAA at all).

An environment is a record, not a running Airflow: it goes CREATING -> AVAILABLE, UPDATING -> AVAILABLE and
DELETING -> gone after ``TRANSITION_SECONDS`` (``LOCAL_MWAA_TRANSITION_SECONDS``, default 1; AWS takes 20 to
30 minutes). What AWS checks before accepting a change is checked here too, against the other moto backends:
the execution role exists in IAM; the source bucket exists and has versioning enabled; the DAG folder holds at
least one object; plugins, requirements and startup script exist, in the given object version if one is
given. ``LastUpdate`` records each update's status (PENDING while UPDATING, then SUCCESS), time and source.
"""

from __future__ import annotations

import copy
import os
import re
import threading
import time
import uuid
from datetime import UTC, datetime

TRANSITION_SECONDS = float(os.environ.get("LOCAL_MWAA_TRANSITION_SECONDS", "1"))
DEFAULT_AIRFLOW_VERSION = "3.3.1"
NAME = re.compile(r"^[a-zA-Z][0-9a-zA-Z_-]{0,79}$")
LOG_MODULES = {  # LoggingConfiguration member -> the log group's suffix on AWS
    "DagProcessingLogs": "DAGProcessing",
    "SchedulerLogs": "Scheduler",
    "TaskLogs": "Task",
    "WebserverLogs": "WebServer",
    "WorkerLogs": "Worker",
}
# The members CreateEnvironment accepts besides Name, and those UpdateEnvironment may change.
CREATE_FIELDS = (
    "ExecutionRoleArn",
    "SourceBucketArn",
    "DagS3Path",
    "NetworkConfiguration",
    "PluginsS3Path",
    "PluginsS3ObjectVersion",
    "RequirementsS3Path",
    "RequirementsS3ObjectVersion",
    "StartupScriptS3Path",
    "StartupScriptS3ObjectVersion",
    "AirflowConfigurationOptions",
    "EnvironmentClass",
    "MaxWorkers",
    "KmsKey",
    "AirflowVersion",
    "LoggingConfiguration",
    "WeeklyMaintenanceWindowStart",
    "Tags",
    "WebserverAccessMode",
    "MinWorkers",
    "Schedulers",
    "EndpointManagement",
    "MinWebservers",
    "MaxWebservers",
)
UPDATE_FIELDS = (
    "ExecutionRoleArn",
    "AirflowConfigurationOptions",
    "AirflowVersion",
    "DagS3Path",
    "EnvironmentClass",
    "LoggingConfiguration",
    "MaxWorkers",
    "MinWorkers",
    "MaxWebservers",
    "MinWebservers",
    "NetworkConfiguration",
    "PluginsS3Path",
    "PluginsS3ObjectVersion",
    "RequirementsS3Path",
    "RequirementsS3ObjectVersion",
    "Schedulers",
    "SourceBucketArn",
    "StartupScriptS3Path",
    "StartupScriptS3ObjectVersion",
    "WebserverAccessMode",
    "WeeklyMaintenanceWindowStart",
)
REQUIRED = ("ExecutionRoleArn", "SourceBucketArn", "DagS3Path", "NetworkConfiguration")


class MwaaError(Exception):
    code = "InternalServerException"
    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ValidationException(MwaaError):
    code, status = "ValidationException", 400


class ResourceNotFoundException(MwaaError):
    code, status = "ResourceNotFoundException", 404


class Environment:
    def __init__(self, backend: MwaaBackend, name: str, spec: dict):
        self.backend = backend
        self.name = name
        self.spec = {key: copy.deepcopy(value) for key, value in spec.items() if value is not None}
        self.arn = f"arn:aws:airflow:{backend.region}:{backend.account_id}:environment/{name}"
        self.created_at = datetime.now(UTC)
        self.webserver_url = f"{uuid.uuid4()}.c{len(name) % 9 + 1}.{backend.region}.airflow.amazonaws.com"
        self.celery_queue = f"arn:aws:sqs:{backend.region}:{_service_account(name)}:airflow-celery-{uuid.uuid4()}"
        self.last_update: dict | None = None
        self._status = "CREATING"
        self._settles_at = time.monotonic() + TRANSITION_SECONDS
        self._settled_status = "AVAILABLE"

    @property
    def status(self) -> str:
        if self._settles_at is not None and time.monotonic() >= self._settles_at:
            self._status, self._settles_at = self._settled_status, None
            if self.last_update and self.last_update["Status"] == "PENDING":
                self.last_update["Status"] = "SUCCESS"
        return self._status

    def transition(self, status: str, settled: str) -> None:
        self._status, self._settled_status = status, settled
        self._settles_at = time.monotonic() + TRANSITION_SECONDS

    def wait_until_settled(self, timeout_s: float = 60) -> str:
        deadline = time.monotonic() + timeout_s
        while self.status in ("CREATING", "UPDATING", "DELETING") and time.monotonic() < deadline:
            time.sleep(min(0.1, TRANSITION_SECONDS))
        return self.status

    def describe(self) -> dict:
        spec = self.spec
        region, account = self.backend.region, self.backend.account_id
        logging = {}
        for module, suffix in LOG_MODULES.items():
            given = (spec.get("LoggingConfiguration") or {}).get(module) or {}
            logging[module] = {"Enabled": bool(given.get("Enabled", False)), "LogLevel": given.get("LogLevel", "INFO")}
            if logging[module]["Enabled"]:
                logging[module]["CloudWatchLogGroupArn"] = (
                    f"arn:aws:logs:{region}:{account}:log-group:airflow-{self.name}-{suffix}"
                )
        described = {
            "Name": self.name,
            "Status": self.status,
            "Arn": self.arn,
            "CreatedAt": self.created_at,
            "WebserverUrl": self.webserver_url,
            "ServiceRoleArn": f"arn:aws:iam::{account}:role/aws-service-role/airflow.amazonaws.com/"
            "AWSServiceRoleForAmazonMWAA",
            "AirflowVersion": spec.get("AirflowVersion", DEFAULT_AIRFLOW_VERSION),
            "EnvironmentClass": spec.get("EnvironmentClass", "mw1.small"),
            "MaxWorkers": spec.get("MaxWorkers", 10),
            "MinWorkers": spec.get("MinWorkers", 1),
            "Schedulers": spec.get("Schedulers", 2),
            "MaxWebservers": spec.get("MaxWebservers", 2),
            "MinWebservers": spec.get("MinWebservers", 2),
            "WebserverAccessMode": spec.get("WebserverAccessMode", "PRIVATE_ONLY"),
            "EndpointManagement": spec.get("EndpointManagement", "SERVICE"),
            "WeeklyMaintenanceWindowStart": spec.get("WeeklyMaintenanceWindowStart", "SUN:03:30"),
            "AirflowConfigurationOptions": spec.get("AirflowConfigurationOptions", {}),
            "LoggingConfiguration": logging,
            "CeleryExecutorQueue": self.celery_queue,
            "Tags": spec.get("Tags", {}),
        }
        for key in (
            "ExecutionRoleArn",
            "SourceBucketArn",
            "DagS3Path",
            "NetworkConfiguration",
            "KmsKey",
            "PluginsS3Path",
            "PluginsS3ObjectVersion",
            "RequirementsS3Path",
            "RequirementsS3ObjectVersion",
            "StartupScriptS3Path",
            "StartupScriptS3ObjectVersion",
        ):
            if key in spec:
                described[key] = spec[key]
        if self.last_update:
            described["LastUpdate"] = dict(self.last_update)
        return described


class MwaaBackend:
    """The environments of one account and region."""

    def __init__(self, account_id: str, region: str):
        self.account_id = account_id
        self.region = region
        self.environments: dict[str, Environment] = {}
        self.lock = threading.RLock()

    def create_environment(self, name: str, spec: dict) -> Environment:
        unknown = set(spec) - set(CREATE_FIELDS)
        if unknown:
            raise ValidationException(f"Unknown parameters: {sorted(unknown)}")
        if not NAME.match(name or ""):
            raise ValidationException(
                f"1 validation error detected: Value '{name}' at 'name' failed to satisfy "
                f"constraint: Member must satisfy regular expression pattern: {NAME.pattern}"
            )
        missing = [key for key in REQUIRED if not spec.get(key)]
        if missing:
            raise ValidationException(f"Missing required parameters: {', '.join(missing)}")
        with self.lock:
            if name in self.environments and self.environments[name].status != "DELETED":
                raise ValidationException(f"Environment {name} already exists.")
            self._validate(spec)
            environment = Environment(self, name, spec)
            self.environments[name] = environment
            return environment

    def get_environment(self, name: str) -> Environment:
        with self.lock:
            environment = self.environments.get(name)
            if environment is not None and environment.status == "DELETED":
                del self.environments[name]
                environment = None
            if environment is None:
                raise ResourceNotFoundException(f"Environment {name} was not found.")
            return environment

    def update_environment(self, name: str, changes: dict, source: str = "API", replace: bool = False) -> Environment:
        """Apply ``changes`` (UpdateEnvironment's members); ``replace`` also resets the updatable members that
        ``changes`` leaves out to MWAA's defaults (what CloudFormation does with a property it no longer sets)."""
        unknown = set(changes) - set(UPDATE_FIELDS) - {"WorkerReplacementStrategy"}
        if unknown:
            raise ValidationException(f"Unknown parameters: {sorted(unknown)}")
        with self.lock:
            environment = self.get_environment(name)
            if environment.status != "AVAILABLE":
                raise ValidationException(
                    f"Environment {name} is {environment.status}; it can be updated only when it is AVAILABLE."
                )
            base = (
                {key: value for key, value in environment.spec.items() if key not in UPDATE_FIELDS}
                if replace
                else environment.spec
            )
            spec = {
                **base,
                **{
                    key: value
                    for key, value in changes.items()
                    if key != "WorkerReplacementStrategy" and value is not None
                },
            }
            self._validate(spec)
            environment.spec = copy.deepcopy(spec)
            environment.last_update = {
                "Status": "PENDING",
                "CreatedAt": datetime.now(UTC),
                "Source": source,
                "WorkerReplacementStrategy": changes.get("WorkerReplacementStrategy", "FORCED"),
            }
            environment.transition("UPDATING", "AVAILABLE")
            return environment

    def delete_environment(self, name: str) -> None:
        with self.lock:
            environment = self.get_environment(name)
            if environment.status in ("CREATING", "UPDATING", "DELETING"):
                raise ValidationException(f"Environment {name} is {environment.status} and cannot be deleted now.")
            environment.transition("DELETING", "DELETED")

    def list_environments(self) -> list[str]:
        with self.lock:
            names = []
            for name in list(self.environments):
                try:
                    names.append(self.get_environment(name).name)
                except ResourceNotFoundException:
                    pass
            return sorted(names)

    # -- what AWS checks before it accepts a change --

    def _validate(self, spec: dict) -> None:
        from moto.iam.models import iam_backends
        from moto.s3.models import s3_backends

        try:
            iam_backends[self.account_id]["aws"].get_role_by_arn(spec["ExecutionRoleArn"])
        except Exception as exc:  # moto raises IAMNotFoundException
            raise ValidationException(f"Execution role {spec['ExecutionRoleArn']} does not exist.") from exc
        bucket_arn = spec["SourceBucketArn"]
        if not bucket_arn.startswith("arn:aws:s3:::"):
            raise ValidationException(f"SourceBucketArn {bucket_arn} is not an S3 bucket ARN.")
        s3 = s3_backends[self.account_id]["aws"]
        bucket_name = bucket_arn.removeprefix("arn:aws:s3:::")
        bucket = s3.buckets.get(bucket_name)
        if bucket is None:
            raise ValidationException(f"Source bucket {bucket_name} does not exist.")
        if bucket.versioning_status != "Enabled":
            raise ValidationException(f"Source bucket {bucket_name} must have versioning enabled.")
        dag_prefix = spec["DagS3Path"].strip("/") + "/"
        if not any(key.startswith(dag_prefix) for key in bucket.keys.keys()):
            raise ValidationException(f"DagS3Path s3://{bucket_name}/{dag_prefix} holds no object.")
        for path_key, version_key in (
            ("PluginsS3Path", "PluginsS3ObjectVersion"),
            ("RequirementsS3Path", "RequirementsS3ObjectVersion"),
            ("StartupScriptS3Path", "StartupScriptS3ObjectVersion"),
        ):
            path, version = spec.get(path_key), spec.get(version_key)
            if version and not path:
                raise ValidationException(f"{version_key} is given without {path_key}.")
            if path and s3.get_object(bucket_name, path, version_id=version) is None:
                where = f"s3://{bucket_name}/{path}" + (f" version {version}" if version else "")
                raise ValidationException(f"{path_key}: {where} does not exist.")


_BACKENDS: dict[tuple[str, str], MwaaBackend] = {}
_BACKENDS_LOCK = threading.Lock()


def mwaa_backend(account_id: str, region: str) -> MwaaBackend:
    with _BACKENDS_LOCK:
        return _BACKENDS.setdefault((account_id, region), MwaaBackend(account_id, region))


def _service_account(name: str) -> str:
    """A stable 12-digit account standing for the one MWAA keeps its Celery queues in."""
    return str(abs(hash(("mwaa", name))) % 10**12).zfill(12)
