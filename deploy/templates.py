"""Read a CloudFormation template as data: YAML whose short-form intrinsic functions (``!Ref``, ``!Sub`` ...)
become their long form (``{"Ref": ...}``, ``{"Fn::Sub": ...}``)."""

from __future__ import annotations

from pathlib import Path

import yaml

TEMPLATES = Path(__file__).resolve().parent / "cloudformation"


class _TemplateLoader(yaml.SafeLoader):
    pass


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):
    name = suffix if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_template(name: str) -> dict:
    """``deploy/cloudformation/<name>.yaml`` as a dict."""
    return yaml.load((TEMPLATES / f"{name}.yaml").read_text(), Loader=_TemplateLoader)
