"""Glue jobs that run: ``StartJobRun`` executes the job's script with the local PySpark.

moto 5.2.5 records a run and moves it to SUCCEEDED without running anything. Here each new run
downloads ``Command.ScriptLocation`` (and ``--extra-py-files`` / ``--extra-files``) from the local S3
and runs it as ``python script.py --JOB_NAME <job> --JOB_RUN_ID <run> <arguments>`` would, from a
background thread: in one of the server's warm Spark drivers (:mod:`.glue_warm`; a fresh SparkSession and
Python namespace per run, no JVM start), or with ``LOCAL_GLUE_WARM=0`` in a new process, like Glue's
cold start. Arguments are the job's DefaultArguments merged with the run's Arguments (moto
merges them), the environment points boto3 back at this server. The run goes RUNNING, then
SUCCEEDED, FAILED (ErrorMessage = the script's exception line), TIMEOUT (job Timeout, minutes; a minute lasts
``LOCAL_GLUE_SECONDS_PER_MINUTE`` seconds, 60 unless a test makes it shorter) or STOPPED (BatchStopJobRun).
Output is written to ``<state_dir>/glue/<job>/<run_id>.log`` and, per line, to CloudWatch Logs
``/aws-glue/jobs/output`` (stdout) and ``/aws-glue/jobs/error`` (stderr) with the run id as stream, where
GlueJobOperator(verbose=True) reads it.

Also added because moto 5.2.5 lacks them and GlueJobOperator uses them: ``UpdateJob``
(``update_config=True``) and ``BatchStopJobRun`` (``stop_job_run_on_kill=True``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from local_platform import spark_cds
from local_platform.aws.compute import glue_warm, patch

if TYPE_CHECKING:
    from local_platform.aws.compute import ComputeConfig

LOG_GROUP = "/aws-glue/jobs"  # the provider reads <LogGroupName>/output and <LogGroupName>/error
DEFAULT_TIMEOUT_MINUTES = 2880  # Glue's default job timeout
HOST_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "JAVA_HOME", "TMPDIR", "SPARK_MASTER", "SPARK_SUBMIT_OPTS")
# JobUpdate member -> FakeJob attribute; UpdateJob overwrites the whole definition, as on AWS.
JOB_FIELDS = {
    "Description": "description",
    "LogUri": "log_uri",
    "Role": "role",
    "ExecutionProperty": "execution_property",
    "Command": "command",
    "DefaultArguments": "default_arguments",
    "NonOverridableArguments": "non_overridable_arguments",
    "Connections": "connections",
    "MaxRetries": "max_retries",
    "AllocatedCapacity": "allocated_capacity",
    "Timeout": "timeout",
    "MaxCapacity": "max_capacity",
    "WorkerType": "worker_type",
    "NumberOfWorkers": "number_of_workers",
    "SecurityConfiguration": "security_configuration",
    "NotificationProperty": "notification_property",
    "GlueVersion": "glue_version",
    "CodeGenConfigurationNodes": "code_gen_configuration_nodes",
    "ExecutionClass": "execution_class",
    "SourceControlDetails": "source_control_details",
}


def install(config: ComputeConfig) -> None:
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.glue.models import FakeJob, FakeJobRun
    from moto.glue.responses import GlueResponse

    original_start = FakeJob.start_job_run
    original_as_dict = FakeJobRun.as_dict
    start_lock = threading.Lock()  # moto's MaxConcurrentRuns check and the new run must be one step

    def start_job_run(self, **kwargs):
        with start_lock:
            run_id = original_start(self, **kwargs)
            LocalJobRun(config, self, self.job_runs[-1]).start()
        return run_id

    def as_dict(self):
        described = original_as_dict(self)
        local = getattr(self, "local_run", None)
        return described if local is None else local.describe(described)

    def update_job(self):
        job = self.glue_backend.get_job(self._get_param("JobName"))
        update = self._get_param("JobUpdate")
        for key, attribute in JOB_FIELDS.items():
            setattr(job, attribute, update.get(key, {} if key in ("ExecutionProperty", "DefaultArguments") else None))
        job.execution_class = job.execution_class or "STANDARD"
        job.last_modified_on = utcnow()
        return ActionResult({"JobName": job.name})

    def batch_stop_job_run(self):
        job = self.glue_backend.get_job(self._get_param("JobName"))
        stopped, errors = [], []
        for run_id in self._get_param("JobRunIds"):
            run = next((run for run in job.job_runs if run.job_run_id == run_id), None)
            local = getattr(run, "local_run", None)
            if local is not None and local.stop():
                stopped.append({"JobName": job.name, "JobRunId": run_id})
            else:
                errors.append(
                    {
                        "JobName": job.name,
                        "JobRunId": run_id,
                        "ErrorDetail": {"ErrorCode": "InvalidInputException", "ErrorMessage": "Job run is not running"},
                    }
                )
        return ActionResult({"SuccessfulSubmissions": stopped, "Errors": errors})

    patch(FakeJob, start_job_run)
    patch(FakeJobRun, as_dict)
    patch(GlueResponse, update_job, batch_stop_job_run)


class LocalJobRun:
    """One job run: its script subprocess, its logs and the state it reports to moto's FakeJobRun."""

    def __init__(self, config: ComputeConfig, job, run):
        from moto.core.utils import utcnow

        self._utcnow = utcnow
        self.config = config
        self.job = job
        self.run = run
        self.run_id = run.job_run_id
        self.work_dir = config.state_dir / "glue" / job.name / self.run_id
        self.log_path = config.state_dir / "glue" / job.name / f"{self.run_id}.log"
        self.timeout_minutes = int(run.timeout or job.timeout or DEFAULT_TIMEOUT_MINUTES)
        # Glue's smallest timeout is a minute: a test of the timeout itself need not wait that long.
        self.timeout_seconds = self.timeout_minutes * float(os.environ.get("LOCAL_GLUE_SECONDS_PER_MINUTE", 60))
        self.error_message: str | None = None
        self.execution_time = 0
        self.process: subprocess.Popen | None = None
        self.stop_requested = False
        # moto's state machine would advance on every GetJobRun; this run reports its real state instead.
        run._transitions = []
        run.status = "RUNNING"
        run.local_run = self

    def describe(self, described: dict) -> dict:
        described.update(
            {
                "JobRunState": self.run.status,
                "ExecutionTime": self.execution_time,
                "LogGroupName": LOG_GROUP,
                "GlueVersion": self.job.glue_version or "5.0",
                "Timeout": self.timeout_minutes,
            }
        )
        if self.error_message:
            described["ErrorMessage"] = self.error_message
        if self.run.status in ("STARTING", "RUNNING", "STOPPING"):
            described.pop("CompletedOn", None)
        return described

    def start(self) -> None:
        threading.Thread(target=self._run, name=f"glue-{self.run_id[:12]}", daemon=True).start()

    def stop(self) -> bool:
        if self.run.status != "RUNNING":
            return False
        self.stop_requested = True
        self.run.status = "STOPPING"
        if self.process is not None:  # else the run ends as it gets its process (it checks stop_requested)
            _terminate(self.process.pid)
        return True

    def _run(self) -> None:
        started = time.monotonic()
        self.run.started_on = self._utcnow()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            state = self._execute()
        except Exception as exc:  # the run could not start (missing script, bad S3 URI, ...)
            state, self.error_message = "FAILED", f"{type(exc).__name__}: {exc}"
            with self.log_path.open("a") as log:
                log.write(f"{self.error_message}\n")
        self.execution_time = int(round(time.monotonic() - started))
        self.run.completed_on = self.run.modified_on = self._utcnow()
        self.run.status = state

    def _execute(self) -> str:
        script, python_path = self._download_code()
        argv = ["--JOB_NAME", self.job.name, "--JOB_RUN_ID", self.run_id]
        for key, value in (self.run.arguments or {}).items():
            argv += [key if key.startswith("--") else f"--{key}", str(value)]
        cloudwatch = CloudWatchStreams(self.job.backend.account_id, self.job.backend.region_name, self.run_id)
        stderr_lines: list[str] = []
        with self.log_path.open("w") as log:
            log_lock = threading.Lock()
            sinks = {
                "out": _sink(log, log_lock, cloudwatch.output, None),
                "err": _sink(log, log_lock, cloudwatch.error, stderr_lines),
            }
            if glue_warm.enabled():
                returncode, driver_exited = self._run_warm(script, argv, python_path, log, sinks)
            else:
                returncode, driver_exited = self._run_cold(script, argv, python_path, log, sinks), False
        if returncode is None:
            self.error_message = f"Job run timed out after {self.timeout_minutes} minutes"
            return "TIMEOUT"
        if self.stop_requested:
            return "STOPPED"
        if returncode != 0:
            self.error_message = error_line(stderr_lines, returncode)
            if driver_exited:
                self.error_message += " (the warm Spark driver running it ended; the next run starts a new one)"
            return "FAILED"
        return "SUCCEEDED"

    def _run_cold(self, script: Path, argv: list[str], python_path: list[str], log, sinks) -> int | None:
        """The script in a new process (and JVM) of its own; its exit code, None if it timed out."""
        log.write(f"job {self.job.name} run {self.run_id}: {sys.executable} {script} {' '.join(argv)}\n")
        log.flush()
        self.process = subprocess.Popen(
            [sys.executable, str(script), *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**self._environment(), "PYTHONPATH": os.pathsep.join(python_path)},
            cwd=self.work_dir,
            text=True,
            errors="replace",
            start_new_session=True,  # a group, so a timeout also ends Spark's JVM
        )
        if self.stop_requested:
            _terminate(self.process.pid)
        readers = [
            threading.Thread(target=_pump, args=(self.process.stdout, sinks["out"])),
            threading.Thread(target=_pump, args=(self.process.stderr, sinks["err"])),
        ]
        for reader in readers:
            reader.start()
        try:
            returncode = self.process.wait(timeout=self.timeout_seconds)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            returncode = None
        for reader in readers:
            reader.join()
        return returncode

    def _run_warm(self, script: Path, argv: list[str], python_path: list[str], log, sinks) -> tuple[int | None, bool]:
        """The script in one of the server's warm drivers: (its exit code or None on timeout, whether the driver
        ended during the run)."""
        drivers = glue_warm.pool(self.config.state_dir / "glue" / "warm-drivers", self._environment())
        driver = drivers.acquire()
        try:
            log.write(f"job {self.job.name} run {self.run_id}: warm driver {driver.pid}: {script} {' '.join(argv)}\n")
            log.flush()
            self.process = driver
            if self.stop_requested:  # stopped while waiting for a free driver
                return 1, False
            request = {"script": str(script), "argv": argv, "cwd": str(self.work_dir), "python_path": python_path}
            try:
                return driver.run(request, sinks, self.timeout_seconds), False
            except glue_warm.DriverExited as exc:
                return exc.returncode, True
        finally:
            drivers.release(driver)

    def _download_code(self) -> tuple[Path, list[str]]:
        """The script in the run's folder, extra files beside it; returns (script, PYTHONPATH entries)."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        arguments = self.run.arguments or {}
        script = self._download(self.job.command["ScriptLocation"], self.work_dir)
        for uri in _uri_list(arguments.get("--extra-files")):
            self._download(uri, self.work_dir)
        py_dir = self.work_dir / "py"
        python_path = [str(py_dir)]
        for uri in _uri_list(arguments.get("--extra-py-files")):
            path = self._download(uri, py_dir)
            if path.suffix in (".zip", ".whl", ".egg"):
                python_path.append(str(path))  # importable from the archive, as Glue does
        return script, python_path

    def _download(self, uri: str, folder: Path) -> Path:
        from moto.s3.exceptions import MissingBucket
        from moto.s3.models import s3_backends

        parts = urlsplit(uri)
        if parts.scheme not in ("s3", "s3a", "s3n"):
            raise ValueError(f"not an S3 URI: {uri}")
        backend = s3_backends[self.job.backend.account_id]["aws"]
        try:
            key = backend.get_object(parts.netloc, parts.path.lstrip("/"))
        except MissingBucket:
            key = None
        if key is None:
            raise FileNotFoundError(f"{uri} does not exist")
        body = key.value
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / Path(parts.path).name
        path.write_bytes(body)
        return path

    def _environment(self) -> dict[str, str]:
        host = {key: os.environ[key] for key in HOST_ENV if key in os.environ}
        # Spark's classes mapped from the archive make setup built (local_platform/spark_cds.py).
        java_options = spark_cds.with_archive(host.get("SPARK_SUBMIT_OPTS", ""))
        return {
            **host,
            **({"SPARK_SUBMIT_OPTS": java_options} if java_options else {}),
            "AWS_ENDPOINT_URL": self.config.endpoint_url,
            "AWS_REGION": self.config.region,
            "AWS_DEFAULT_REGION": self.config.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "PYTHONUNBUFFERED": "1",  # lines reach the log as they are printed
            "PYSPARK_PYTHON": sys.executable,
            "PYSPARK_DRIVER_PYTHON": sys.executable,
            "SPARK_LOCAL_IP": "127.0.0.1",  # Spark's driver binds to loopback only
        }


class CloudWatchStreams:
    """The run's stream (named after the run id) in Glue's output and error log groups."""

    def __init__(self, account_id: str, region: str, run_id: str):
        from moto.logs.models import logs_backends

        self._logs = logs_backends[account_id][region]
        self._run_id = run_id
        for group in (f"{LOG_GROUP}/output", f"{LOG_GROUP}/error"):
            self._logs.ensure_log_group(group)
            self._logs.create_log_stream(group, run_id)

    def output(self, line: str) -> None:
        self._put(f"{LOG_GROUP}/output", line)

    def error(self, line: str) -> None:
        self._put(f"{LOG_GROUP}/error", line)

    def _put(self, group: str, line: str) -> None:
        self._logs.put_log_events(group, self._run_id, [{"timestamp": int(time.time() * 1000), "message": line}])


def _sink(log, log_lock: threading.Lock, to_cloudwatch, keep: list[str] | None):
    """Where one of a run's output streams goes: the run's log file, its CloudWatch stream (and ``keep``)."""

    def write(line: str) -> None:
        with log_lock:
            log.write(line + "\n")
            log.flush()
        if line:
            to_cloudwatch(line)
        if keep is not None:
            keep.append(line)

    return write


def _pump(stream, sink) -> None:
    for line in stream:
        sink(line.rstrip("\n"))


def _terminate(process_group: int) -> None:
    try:
        os.killpg(process_group, signal.SIGTERM)
    except ProcessLookupError:
        pass


def _uri_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def error_line(stderr_lines: list[str], returncode: int) -> str:
    """The exception line of the script's last traceback (what a user needs from a failed run)."""
    starts = [index for index, line in enumerate(stderr_lines) if line.startswith("Traceback (most recent call last)")]
    if starts:
        for line in stderr_lines[starts[-1] + 1 :]:
            if line and not line[0].isspace():
                return line
    last = next((line for line in reversed(stderr_lines) if line.strip()), "")
    return f"Script exited with code {returncode}" + (f": {last}" if last else "")
