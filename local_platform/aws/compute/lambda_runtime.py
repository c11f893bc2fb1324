"""The sandbox side of local Lambda: runs one invocation in its own process, like AWS's runtime
interface client. ``lambda_functions.py`` starts it as

    python lambda_runtime.py <module.function> <result.json>   (event JSON on stdin)

with the function's environment; the handler's prints and logging go to the invocation log, the
outcome (``{"result": ...}`` or ``{"errorType", "errorMessage", "stackTrace"}``) to ``result.json``.
Kept to a few standard-library imports: it starts once per invoke.
"""

import importlib
import json
import logging
import os
import sys
import time
import traceback


class LambdaContext:
    """The fields of the AWS Python runtime's context object that handlers use."""

    def __init__(self, timeout_s: int):
        env = os.environ
        self.function_name = env["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = env["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = env["LOCAL_LAMBDA_FUNCTION_ARN"]
        self.memory_limit_in_mb = env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.aws_request_id = env["LOCAL_LAMBDA_REQUEST_ID"]
        self.log_group_name = env["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error(error_type: str, message: str, stack: list[str] | None = None) -> dict:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": os.environ["LOCAL_LAMBDA_REQUEST_ID"],
        "stackTrace": stack or [],
    }


def main(handler_spec: str, result_path: str) -> int:
    sys.path[0] = os.environ["LAMBDA_TASK_ROOT"]  # not this folder: the handler sees only its own code
    request_id = os.environ["LOCAL_LAMBDA_REQUEST_ID"]
    # The Python runtime's log format, so logging calls in handlers read as they do in CloudWatch.
    logging.basicConfig(
        format=f"[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t{request_id}\t%(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S",
        level=logging.WARNING,
    )
    context = LambdaContext(int(os.environ["AWS_LAMBDA_FUNCTION_TIMEOUT"]))
    module_name, _, function_name = handler_spec.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        outcome = _error("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}")
    else:
        handler = getattr(module, function_name, None)
        if handler is None:
            outcome = _error("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
        else:
            outcome = _call(handler, json.loads(sys.stdin.read() or "{}"), context)
    with open(result_path, "w") as result:
        json.dump(outcome, result)
    return 0


def _call(handler, event, context) -> dict:
    try:
        result = handler(event, context)
    except Exception as exc:
        stack = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])
        print(
            f"[ERROR] {type(exc).__name__}: {exc}\nTraceback (most recent call last):\n{''.join(stack)}",
            file=sys.stderr,
            flush=True,
        )
        return _error(type(exc).__name__, str(exc), stack)
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        return _error("Runtime.MarshalError", f"Unable to marshal response: {exc}")
    return {"result": result}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
