"""Which objects make which tables: the include paths' folders, partitions and table names (pure)."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from urllib.parse import unquote

from local_platform.aws.compute.schema_inference import (
    SchemaError,
)


@dataclasses.dataclass
class TablePlan:
    name: str
    location: str  # s3://bucket/folder/
    partition_keys: list[str]
    files: dict[str, tuple[str, ...]]  # object key -> its partition values
    partitions: dict[tuple[str, ...], str]  # partition values -> location


def parse_s3_path(path: str) -> tuple[str, str]:
    """(bucket, prefix without surrounding slashes) of an S3 include path."""
    bucket, _, prefix = path.removeprefix("s3://").removeprefix("s3a://").partition("/")
    return bucket, prefix.strip("/")


def glob_to_regex(pattern: str) -> re.Pattern:
    """Glue's exclude-pattern glob: ``*`` stays within a folder, ``**`` crosses folders, ``?``, ``[!..]``, ``{a,b}``."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end]
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = end
        elif char == "{":
            end = pattern.find("}", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                out.append("(?:" + "|".join(re.escape(alt) for alt in pattern[i + 1 : end].split(",")) + ")")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out))


def is_excluded(relative_key: str, exclusions: list[str]) -> bool:
    return any(glob_to_regex(pattern).fullmatch(relative_key) for pattern in exclusions)


def is_data_object(relative_key: str, size: int) -> bool:
    """Skip folder markers, empty objects and Hadoop's hidden files (``_SUCCESS``, ``.part.crc``, ``_temporary/``)."""
    return (
        size > 0
        and not relative_key.endswith("/")
        and not any(part.startswith(("_", ".")) for part in relative_key.split("/"))
    )


def table_name(prefix: str, folder: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", (prefix + folder).lower())


def plan_tables(
    bucket: str, prefix: str, keys: list[str], table_prefix: str = "", table_level: int | None = None
) -> list[TablePlan]:
    """Group the data objects under one include path into tables and partitions (see the module's contract)."""
    root = [bucket, *filter(None, prefix.split("/"))]
    groups: dict[tuple[str, ...], dict[str, list[tuple[str, str]]]] = {}
    for key in keys:
        folders = [bucket, *key.split("/")[:-1]]
        if table_level:
            if len(folders) < table_level:
                raise SchemaError(f"s3://{bucket}/{key} lies above TableLevelConfiguration {table_level}")
            table_folders, partition_folders = folders[:table_level], folders[table_level:]
        else:
            split = len(folders)
            while split > len(root) and "=" in folders[split - 1]:
                split -= 1
            table_folders, partition_folders = folders[:split], folders[split:]
        partition = [
            (*f.split("=", 1),) if "=" in f else (f"partition_{i}", f) for i, f in enumerate(partition_folders)
        ]
        groups.setdefault(tuple(table_folders), {})[key] = [(name, unquote(value)) for name, value in partition]

    plans: list[TablePlan] = []
    for folders, files in sorted(groups.items()):
        location = "s3://" + "/".join(folders) + "/"
        key_sets = {tuple(name for name, _ in partition) for partition in files.values()}
        if len(key_sets) > 1:
            raise SchemaError(f"{location}: inconsistent partition folders {sorted(key_sets)}")
        plan = TablePlan(table_name(table_prefix, folders[-1]), location, list(key_sets.pop()), {}, {})
        for key, partition in files.items():
            values = tuple(value for _, value in partition)
            plan.files[key] = values
            if values:
                plan.partitions[values] = location + "".join(f"{f}/" for f in key.split("/")[-1 - len(values) : -1])
        plans.append(plan)
    return _dedupe_names(plans)


def _dedupe_names(plans: list[TablePlan]) -> list[TablePlan]:
    """The shallowest folder keeps a name; deeper namesakes get a suffix from their location."""
    seen: set[str] = set()
    for plan in sorted(plans, key=lambda p: (p.location.count("/"), p.location)):
        if plan.name in seen:
            plan.name = f"{plan.name}_{hashlib.md5(plan.location.encode()).hexdigest()[:8]}"
        seen.add(plan.name)
    return plans
