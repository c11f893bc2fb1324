"""Lambda that runs: ``Invoke`` executes the function's Python handler from its deployed zip.

moto 5.2.5 runs handlers only in Docker (or echoes the payload). Here ``LambdaFunction.invoke`` is
replaced: the zip moto stores is unpacked once per code version, and each invocation runs
``lambda_runtime.py`` (the sandbox side) in a subprocess with the function's environment variables,
its timeout, AWS_ENDPOINT_URL/region pointing back at this server and dummy credentials. The payload
is returned as AWS does (``X-Amz-Function-Error: Unhandled`` on an exception or a timeout;
``LogType=Tail`` gives the last 4 KB of the log). ``InvocationType=Event`` runs in a background
thread. Output goes to a readable file ``<state_dir>/lambda/<name>/<request_id>.log`` and to
CloudWatch Logs ``/aws/lambda/<name>``. Memory size is reported, not enforced.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from local_platform.aws.compute import ComputeConfig, patch

RUNTIME = Path(__file__).with_name("lambda_runtime.py")
LOG_TAIL_BYTES = 4096  # what LogType=Tail returns, as on AWS
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def install(config: ComputeConfig) -> None:
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.models import LambdaFunction

    def invoke(self, body, request_headers, response_headers):
        try:
            json.loads(body or "{}")
        except ValueError as exc:  # AWS rejects the call before running anything
            raise LambdaClientError(
                "InvalidRequestContentException", f"Could not parse request body into json: {exc}"
            ) from exc
        invocation = Invocation(config, self, body or "{}")
        response_headers["x-amz-executed-version"] = str(self.version)
        if request_headers.get("x-amz-invocation-type", "RequestResponse") == "Event":
            threading.Thread(target=invocation.run, name=f"lambda-{invocation.request_id}", daemon=True).start()
            return b""
        invocation.run()
        if invocation.error:
            response_headers["x-amz-function-error"] = "Unhandled"
        response_headers["x-amz-log-result"] = base64.b64encode(invocation.log_tail()).decode()
        return invocation.payload

    patch(LambdaFunction, invoke)


class Invocation:
    """One run of a handler: its subprocess, its log and its result payload."""

    def __init__(self, config: ComputeConfig, function, event: str):
        self.config = config
        self.function = function
        self.event = event
        self.request_id = str(uuid.uuid4())
        self.timeout_s = int(function.timeout or 3)
        self.log_path = config.state_dir / "lambda" / function.function_name / f"{self.request_id}.log"
        self.log_stream = f"{datetime.now(UTC):%Y/%m/%d}/[{function.version}]{self.request_id.replace('-', '')}"
        self.payload = b""
        self.error = False
        self.timed_out = False

    def run(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        result_path = self.log_path.with_suffix(".result.json")
        version = str(self.function.version)
        with self.log_path.open("w") as log:
            log.write(f"START RequestId: {self.request_id} Version: {version}\n")
            log.flush()
            started = time.monotonic()
            process = subprocess.Popen(
                [sys.executable, str(RUNTIME), self.function.handler, str(result_path)],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._environment(),
                cwd=self._code_dir(),
                start_new_session=True,  # a group, so a timeout kills its children too
            )
            try:
                process.communicate(
                    self.event.encode() if isinstance(self.event, str) else self.event, timeout=self.timeout_s
                )
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                self.timed_out = True
            duration_ms = (time.monotonic() - started) * 1000
            self._read_result(process.returncode, result_path)
            log.write(self._closing_lines(duration_ms))
        result_path.unlink(missing_ok=True)
        self._send_to_cloudwatch()

    def _read_result(self, returncode: int, result_path: Path) -> None:
        if self.timed_out:
            self.error = True
            self.payload = json.dumps(
                {
                    "errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {self.request_id} Error: {self._timed_out_message()}",
                }
            ).encode()
        elif result_path.exists():
            outcome = json.loads(result_path.read_text())
            self.error = "errorType" in outcome
            self.payload = json.dumps(outcome if self.error else outcome["result"]).encode()
        else:
            self.error = True
            self.payload = json.dumps(
                {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {self.request_id} Error: Runtime exited with error: exit status "
                    f"{returncode}",
                }
            ).encode()

    def _closing_lines(self, duration_ms: float) -> str:
        lines = []
        if self.timed_out:
            lines.append(f"{_now_iso()} {self.request_id} {self._timed_out_message()}")
        lines.append(f"END RequestId: {self.request_id}")
        # Billed duration: the duration rounded up to the millisecond, as AWS bills it.
        lines.append(
            f"REPORT RequestId: {self.request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {math.ceil(duration_ms)} ms\tMemory Size: {self.function.memory_size} MB"
        )
        return "\n".join(lines) + "\n"

    def _timed_out_message(self) -> str:
        return f"Task timed out after {self.timeout_s:.2f} seconds"

    def _environment(self) -> dict[str, str]:
        name = self.function.function_name
        reserved = {
            **DUMMY_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.config.endpoint_url,
            "AWS_REGION": self.config.region,
            "AWS_DEFAULT_REGION": self.config.region,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": str(self.function.version),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.function.memory_size),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(self.timeout_s),
            "AWS_LAMBDA_LOG_GROUP_NAME": self.function.logs_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream,
            "LOCAL_LAMBDA_FUNCTION_ARN": self.function.function_arn,
            "LOCAL_LAMBDA_REQUEST_ID": self.request_id,
            "LAMBDA_TASK_ROOT": str(self._code_dir()),
            "PYTHONPATH": str(self._code_dir()),
            "PYTHONUNBUFFERED": "1",  # so the log file shows output as it happens
        }
        # Only the basics of the host environment: a handler sees what a Lambda sandbox would.
        host = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
        return {**host, **{k: str(v) for k, v in (self.function.environment_vars or {}).items()}, **reserved}

    def _code_dir(self) -> Path:
        """The deployed zip, unpacked once per code version."""
        digest = hashlib.sha256(self.function.code_bytes).hexdigest()[:16]
        target = self.config.state_dir / "lambda" / self.function.function_name / "code" / digest
        if not target.exists():
            staging = target.with_name(f"{digest}.{uuid.uuid4().hex}")
            with zipfile.ZipFile(io.BytesIO(self.function.code_bytes)) as archive:
                archive.extractall(staging)
            try:
                staging.rename(target)
            except OSError:  # another invocation unpacked it first
                shutil.rmtree(staging, ignore_errors=True)
        return target

    def log_tail(self) -> bytes:
        return self.log_path.read_bytes()[-LOG_TAIL_BYTES:]

    def _send_to_cloudwatch(self) -> None:
        from moto.logs.models import logs_backends

        logs = logs_backends[self.function.account_id][self.function.region]
        group = self.function.logs_group_name
        logs.ensure_log_group(group)
        logs.create_log_stream(group, self.log_stream)
        now_ms = int(time.time() * 1000)
        lines = self.log_path.read_text(errors="replace").splitlines()
        events = [{"timestamp": now_ms, "message": line} for line in lines if line]
        if events:
            logs.put_log_events(group, self.log_stream, events)


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
