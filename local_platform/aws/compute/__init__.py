"""Extensions that teach moto's backends to compute. One module or package per service; a package splits as
moto splits a service: ``models`` (state), ``responses`` (request handling), helpers beside them.

Each exposes ``install(config: ComputeConfig) -> None``, which changes moto's classes in the server process
with ``patch`` (the one way they do it). The server calls every installer listed in ``INSTALLERS`` before it
starts; a name that does not import, or an installer that fails, stops the server with the cause.
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

INSTALLERS = (
    "local_platform.aws.compute.lambda_functions",
    "local_platform.aws.compute.glue_jobs",
    "local_platform.aws.compute.glue_crawlers",
    "local_platform.aws.compute.redshift_data",
    "local_platform.aws.compute.athena",
    # Not compute, but installed the same way: the MWAA API moto lacks, Kinesis streams at volume, and
    # CloudFormation types and behaviour
    # the stacks of deploy/cloudformation/ need (after the services whose backends they create resources in).
    "local_platform.aws.mwaa",
    "local_platform.aws.kinesis",
    "local_platform.aws.cloudformation",
)


@dataclasses.dataclass(frozen=True)
class ComputeConfig:
    """What the compute extensions need to know about their surroundings."""

    endpoint_url: str  # this server, as handlers and scripts must reach it
    region: str
    state_dir: Path  # logs, scratch space, run artefacts
    postgres_dsn: str | None  # server that stands in for Redshift clusters/workgroups
    namespace: str = "local"  # prefixes what the server creates outside itself (e.g. databases)


class InstallerError(RuntimeError):
    """An installer in ``INSTALLERS`` is missing or failed: the server must not start without its service."""


def patch(owner: type, *functions, **renamed) -> None:
    """Replace methods of moto's ``owner`` class: each of ``functions`` under its own name, each of ``renamed``
    under the keyword's name (a backend method and a response action may share a name)."""
    for function in functions:
        setattr(owner, function.__name__, function)
    for name, function in renamed.items():
        setattr(owner, name, function)


def install_all(config: ComputeConfig, installers: tuple[str, ...] = INSTALLERS) -> list[str]:
    """Install every extension of ``installers``; return their short names. A misspelt name, a module without
    ``install`` or an installer that raises fails loudly, naming it: a service silently left uncomputed would
    only show later as moto's canned answers."""
    installed = []
    for module_name in installers:
        try:
            module = importlib.import_module(module_name)
            install = module.install
        except (ImportError, AttributeError) as exc:
            raise InstallerError(f"compute extension {module_name} cannot be installed: {exc}") from exc
        try:
            install(config)
        except Exception as exc:
            raise InstallerError(f"compute extension {module_name} failed to install: {exc}") from exc
        installed.append(module_name.rsplit(".", 1)[-1])
    return installed
