"""Extensions that teach moto's backends to compute. One module per service.

Each module exposes ``install(config: ComputeConfig) -> None``, which patches moto's models in the
server process. The server calls every installer listed in ``INSTALLERS`` before it starts.
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


def install_all(config: ComputeConfig) -> list[str]:
    """Install every available extension; return the names of those installed."""
    installed = []
    for module_name in INSTALLERS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # not written yet on this checkout
            raise
        module.install(config)
        installed.append(module_name.rsplit(".", 1)[-1])
    return installed
