"""moto's live state: every registry (``BackendDict``) in use, read for a snapshot and refilled on restore.

moto keeps each service's state in one module-level ``BackendDict`` (``{account: {region: backend}}``) and
lists the ones in use in ``BackendDict._instances``. A snapshot is, per registry in use: where it lives
(module and name, so the next process finds its own), its backends, and the registry's own attributes
(S3's ``bucket_accounts``: the global bucket namespace).
"""

from __future__ import annotations

import sys
from collections import Counter

_REGISTRY_FIELDS = {"backend", "service_name", "_use_boto3_regions", "_additional_regions", "_id"}
_names: dict[int, tuple[str, str]] = {}


def registries() -> list:
    from moto.core.base_backend import BackendDict

    return list(BackendDict._instances)


def registry_name(registry) -> tuple[str, str]:
    """(module, attribute) under which ``registry`` is importable."""
    found = _names.get(id(registry))
    if found is not None:
        return found
    candidates = [registry.backend.__module__] + [name for name in list(sys.modules) if name.startswith("moto.")]
    for module_name in candidates:
        module = sys.modules.get(module_name)
        for attribute, value in list(vars(module).items()) if module else ():
            if value is registry:
                _names[id(registry)] = (module_name, attribute)
                return module_name, attribute
    raise LookupError(f"the {registry.service_name} backends are not importable from any moto module")


def collect() -> list[tuple]:
    """What a snapshot pickles: per registry in use, (registry, {account: {region: backend}}, attributes)."""
    state = []
    for registry in registries():
        accounts = {account: dict(dict.items(regions)) for account, regions in list(dict.items(registry))}
        accounts = {account: regions for account, regions in accounts.items() if regions}
        extra = {key: value for key, value in vars(registry).items() if key not in _REGISTRY_FIELDS}
        if accounts:
            state.append((registry, accounts, extra))
    return state


def install(state: list[tuple]) -> None:
    """Put unpickled backends into this process's registries (the ``registry`` entries are those already)."""
    for registry, accounts, extra in state:
        vars(registry).update(extra)
        for account, regions in accounts.items():
            account_backends = registry[account]  # creates it and lists the registry as in use
            for region, backend in regions.items():
                dict.__setitem__(account_backends, region, backend)
                _register_weak_references(backend)


def _register_weak_references(backend) -> None:
    """EC2's backends find each other (VPC peering, transit gateways) through class-level sets of weak
    references that their ``__init__`` fills; a restored backend never ran ``__init__``."""
    import weakref

    for attribute in ("vpc_refs", "backend_refs", "vpc_pcx_refs"):
        references = getattr(type(backend), attribute, None)
        if isinstance(references, dict):
            references[type(backend)].add(weakref.ref(backend))


def service_key(registry) -> str:
    """The service's name as moto's package names it (``redshiftdata``; ``lambda`` for ``awslambda``): unlike
    ``service_name``, unique (Redshift and its Data API both call themselves ``redshift``)."""
    try:
        package = registry_name(registry)[0].split(".")[1]
    except LookupError:
        return registry.service_name
    return {"awslambda": "lambda"}.get(package, package)


def services(state: list[tuple]) -> dict[str, list]:
    """{service: [backend, ...]} of a collected or restored state."""
    found: dict[str, list] = {}
    for registry, accounts, _extra in state:
        for regions in accounts.values():
            found.setdefault(service_key(registry), []).extend(regions.values())
    return found


def summary(state: list[tuple]) -> dict[str, dict[str, int]]:
    """Counts per service, for the log: what a user would check, else every non-empty collection."""
    counts: dict[str, dict[str, int]] = {}
    for service, found in sorted(services(state).items()):
        count = _SPECIAL.get(service, _collections)
        counted: Counter[str] = Counter()
        for backend in found:
            try:
                counted.update(count(backend))
            except Exception:  # noqa: BLE001  (a count is never worth failing a start)
                counted.update(_collections(backend))
        if any(counted.values()):
            counts[service] = {name: number for name, number in counted.items() if number}
    return counts


def format_summary(counts: dict[str, dict[str, int]]) -> str:
    if not counts:
        return "nothing"
    return "; ".join(
        f"{service}: " + ", ".join(f"{number} {name}" for name, number in numbers.items())
        for service, numbers in counts.items()
    )


def _collections(backend) -> Counter:
    return Counter(
        {
            name.lstrip("_"): len(value)
            for name, value in vars(backend).items()
            if isinstance(value, dict | list | set) and value and not name.lstrip("_")[:1].isupper()
        }
    )


def _s3(backend) -> Counter:
    counted = Counter(buckets=len(backend.buckets))
    for bucket in list(backend.buckets.values()):
        for versions in list(dict.values(bucket.keys)):
            counted["objects"] += sum(1 for key in versions if hasattr(key, "contentsize"))
            counted["bytes"] += sum(getattr(key, "contentsize", 0) or 0 for key in versions)
    return counted


def _glue(backend) -> Counter:
    counted = Counter(databases=len(backend.databases))
    for database in list(backend.databases.values()):
        counted["tables"] += len(database.tables)
        counted["partitions"] += sum(len(table.partitions) for table in list(database.tables.values()))
    counted.update(crawlers=len(backend.crawlers), jobs=len(backend.jobs))
    counted["job runs"] = sum(len(job.job_runs) for job in list(backend.jobs.values()))
    return counted


def _sqs(backend) -> Counter:
    queues = list(backend.queues.values())
    return Counter(queues=len(queues), messages=sum(len(queue._messages) for queue in queues))


def _logs(backend) -> Counter:
    groups = list(backend.groups.values())
    return Counter(
        {
            "log groups": len(groups),
            "events": sum(len(stream.events) for group in groups for stream in list(group.streams.values())),
        }
    )


def _sizes(**attributes: str):
    """A counter of ``len(backend.<attribute>)`` per name."""
    return lambda backend: Counter({name: len(getattr(backend, attribute)) for name, attribute in attributes.items()})


_SPECIAL = {
    "s3": _s3,
    "glue": _glue,
    "sqs": _sqs,
    "logs": _logs,
    "lambda": lambda backend: Counter(functions=len(backend._lambdas._functions)),
    "iam": lambda backend: Counter(
        roles=len(backend.roles),
        users=len(backend.users),
        policies=sum(1 for arn in backend.managed_policies if ":aws:policy/" not in arn),
    ),
    "sns": _sizes(topics="topics", subscriptions="subscriptions"),
    "secretsmanager": _sizes(secrets="secrets"),
    "kinesis": _sizes(streams="streams"),
    "cloudformation": _sizes(stacks="stacks"),
    "rds": _sizes(clusters="clusters", instances="databases"),
    "redshift": _sizes(clusters="clusters"),
    "redshiftdata": _sizes(statements="statements"),
    "ec2": lambda backend: Counter(
        instances=len(backend.reservations), vpcs=sum(1 for vpc in backend.vpcs.values() if not vpc.is_default)
    ),
}
