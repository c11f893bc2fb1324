"""Find an AWS hook's caller by walking the frames, not with ``inspect.stack()``, in the local platform's processes.

Every Amazon provider hook names its caller (the operator, sensor or executor class) in the user agent it sends.
The provider finds it with ``inspect.stack()``, which also reads the source lines of every frame on the stack
and resolves each frame's module: in a fresh task process that was about half a second of CPU per hook, more
than the task's own work in most tasks of the demo. ``walk_frames()`` gives the hook the same answer from the
frames alone. Only the local platform's processes; MWAA runs the provider as it is.
"""

from __future__ import annotations

import inspect
import sys


def operator_class_name(target_function_name: str) -> str | None:
    """The class of ``self`` in the innermost frame of a function of this name (the provider's rule)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == target_function_name:
            return frame.f_locals["self"].__class__.__name__
        frame = frame.f_back
    return None


def executor_class_name() -> str | None:
    """The last class named in the globals of the innermost frame whose module has ``BaseExecutor``."""
    frame = sys._getframe(1)
    while frame is not None:
        classes = [name for name, value in frame.f_globals.items() if inspect.isclass(value)]
        if "BaseExecutor" in classes:
            return classes[-1]
        frame = frame.f_back
    return None


def walk_frames() -> None:
    """Idempotent; every hook of this process, made before or after."""
    from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook

    AwsGenericHook._find_operator_class_name = staticmethod(operator_class_name)
    AwsGenericHook._find_executor_class_name = staticmethod(executor_class_name)
