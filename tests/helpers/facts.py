"""Read the copies of one fact where they live (a module's constant, a table's DDL, a stack's resource), so a test
can fail when one copy changes without the others."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from deploy.templates import load_template

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def module_constant(relative_path: str, name: str):
    """The literal value a module assigns to ``name`` at top level, read without importing it."""
    tree = ast.parse((PROJECT_ROOT / relative_path).read_text())
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            return ast.literal_eval(node.value)
    raise LookupError(f"{relative_path} assigns no literal {name}")


def ddl_columns(relative_path: str, table: str) -> list[str]:
    """The columns of ``CREATE TABLE ... <table> (...)`` in ``relative_path``, in order (constraints left out)."""
    sql = re.sub(r"--[^\n]*", "", (PROJECT_ROOT / relative_path).read_text())
    match = re.search(rf"CREATE TABLE IF NOT EXISTS {re.escape(table)} \((.*?)\n\)", sql, re.S | re.I)
    if match is None:
        raise LookupError(f"{relative_path} creates no table {table}")
    names = [line.split()[0] for line in match.group(1).splitlines() if line.strip()]
    return [name for name in names if name.upper() not in {"PRIMARY", "UNIQUE", "CONSTRAINT", "FOREIGN", "CHECK"}]


def resources_of_type(pipeline: str, resource_type: str) -> dict[str, dict]:
    resources = load_template(pipeline)["Resources"]
    return {name: body["Properties"] for name, body in resources.items() if body["Type"] == resource_type}


def script_paths(pipeline: str) -> list[str]:
    """The ``glue/<script>.py`` keys the pipeline's Glue jobs run (their ScriptLocation)."""
    paths = []
    for job in resources_of_type(pipeline, "AWS::Glue::Job").values():
        location = job["Command"]["ScriptLocation"]["Fn::Sub"]
        text = location[0] if isinstance(location, list) else location
        paths.append(text.split("}/", 1)[1])
    return paths


def strings_in(value) -> list[str]:
    """Every string anywhere in a template fragment (to find the prefixes its paths and ARNs name)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return []
