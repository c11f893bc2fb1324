"""What a stack does as a whole, where moto 5.2.5 differs from CloudFormation in ways our deploys would hide.

- Types: moto skips a resource of a type it has no model for (a warning in the server log), so a misspelt type
  deploys "successfully" without the resource. Here CreateStack, UpdateStack and CreateChangeSet reject such a
  template as AWS does: ``ValidationError: Template format error: Unrecognized resource types: [...]``.
- Updates: the same template and parameters again is "No updates are to be performed." as on AWS.
- Failures: moto creates resources inside the CreateStack call and a failing one turns the call into an HTTP
  error, leaving the stack half-made in CREATE_IN_PROGRESS. Here, as on AWS, the call succeeds and the stack
  rolls back: CREATE_FAILED -> ROLLBACK_COMPLETE (the resources it made are deleted), or, for an update,
  UPDATE_ROLLBACK_COMPLETE (the previous template and parameters are applied again); a failed delete leaves
  DELETE_FAILED. ``StackStatusReason`` says which resource failed and why.
- Exports follow the stack: refreshed after an update, gone with a failed create.
- An update creates a resource whose ``Condition`` became true and deletes one whose condition became false;
  a resource an update removed is created again when a later update (or a rollback) brings it back.
- ``!GetAtt A.B.C`` is attribute ``B.C`` of ``A`` (moto splits at every dot); a ``CommaDelimitedList``
  parameter's default is a list (moto splits only values passed in).
- Dynamic references ``{{resolve:secretsmanager:id:SecretString:key:stage:version}}`` and
  ``{{resolve:ssm:name[:version]}}`` are resolved from the local Secrets Manager and SSM.
"""

from __future__ import annotations

import json
import re

DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:(?P<service>secretsmanager|ssm|ssm-secure):(?P<reference>[^}]+)\}\}")


def unknown_resource_types(template_body) -> list[str]:
    from moto.cloudformation import parsing
    from moto.cloudformation.models import Stack

    template = Stack.parse_template(template_body) if isinstance(template_body, str) else template_body
    known = set(parsing.get_model_map()) | set(parsing.NULL_MODELS) | {"AWS::CloudFormation::CustomResource"}
    types = {
        str(resource.get("Type"))
        for resource in ((template or {}).get("Resources") or {}).values()
        if isinstance(resource, dict)
    }
    return sorted(kind for kind in types if kind not in known and not kind.startswith("Custom::"))


def _reject_unknown_types(template_body) -> None:
    from moto.cloudformation.exceptions import ValidationError

    if not template_body:
        return
    unknown = unknown_resource_types(template_body)
    if unknown:
        raise ValidationError(message=f"Template format error: Unrecognized resource types: [{', '.join(unknown)}]")


def failure_reason(exc: Exception) -> str:
    logical_id = getattr(exc, "logical_id", None)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    where = f"Resource {logical_id}: " if logical_id else ""
    return f"{where}{type(exc).__name__}: {message}"


def _set_reason(stack, reason: str | None) -> None:
    stack.stack_status_reason = reason
    stack.status_reason = reason


def resolve_dynamic_references(value: str, account_id: str, region: str) -> str:
    def replace(match: re.Match) -> str:
        if match.group("service") == "secretsmanager":
            return _secret_reference(match.group("reference"), account_id, region)
        return _ssm_reference(match.group("reference"), account_id, region)

    return DYNAMIC_REFERENCE.sub(replace, value)


def _secret_reference(reference: str, account_id: str, region: str) -> str:
    from moto.secretsmanager.models import secretsmanager_backends

    parts = reference.split(":")
    cut = 7 if parts[0] == "arn" else 1  # an ARN has colons of its own
    secret_id, rest = ":".join(parts[:cut]), parts[cut:] + ["", "", "", ""]
    field, json_key, stage, version = rest[0] or "SecretString", rest[1], rest[2] or None, rest[3] or None
    if field != "SecretString":
        raise ValueError(f"dynamic reference {reference}: only SecretString can be resolved")
    value = secretsmanager_backends[account_id][region].get_secret_value(secret_id, version, stage)["SecretString"]
    if json_key:
        document = json.loads(value)
        if json_key not in document:
            raise KeyError(f"dynamic reference {reference}: the secret has no key {json_key}")
        return str(document[json_key])
    return value


def _ssm_reference(reference: str, account_id: str, region: str) -> str:
    from moto.ssm.models import ssm_backends

    name, _, version = reference.partition(":")
    parameter = ssm_backends[account_id][region].get_parameter(f"{name}:{version}" if version else name)
    return parameter.value


def install() -> None:
    import yaml
    from moto.cloudformation import models, parsing
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.models import CloudFormationBackend

    from local_platform.aws.compute import patch

    if getattr(CloudFormationBackend.create_stack, "local_cfn", False):
        return

    # -- !GetAtt splits at the first dot only
    original_constructor = models.yaml_tag_constructor

    def yaml_tag_constructor(loader, tag, node):
        if tag == "!GetAtt":
            if isinstance(node, yaml.SequenceNode):
                return {"Fn::GetAtt": loader.construct_sequence(node)}
            return {"Fn::GetAtt": node.value.split(".", 1)}
        return original_constructor(loader, tag, node)

    models.yaml_tag_constructor = yaml_tag_constructor

    # -- the failing resource's logical id travels with its exception
    original_parse_and_create = parsing.parse_and_create_resource

    def parse_and_create_resource(logical_id, resource_json, resources_map, account_id, region_name):
        try:
            return original_parse_and_create(logical_id, resource_json, resources_map, account_id, region_name)
        except Exception as exc:
            if not hasattr(exc, "logical_id"):
                exc.logical_id = logical_id
            raise

    parsing.parse_and_create_resource = parse_and_create_resource

    original_update_resource = parsing.parse_and_update_resource

    def parse_and_update_resource(logical_id, resource_json, resources_map, account_id, region_name):
        condition = resource_json.get("Condition")
        if condition and not resources_map.lazy_condition_map[condition]:
            # Not to exist under the new conditions. Delete it here: moto records None for it next, and
            # ResourceMap.update below would no longer find it to remove.
            existing = resources_map._parsed_resources.get(logical_id)
            if existing is not None:
                resources_map._delete_resource(existing, resource_json)
            return None
        try:
            return original_update_resource(logical_id, resource_json, resources_map, account_id, region_name)
        except Exception as exc:
            if not hasattr(exc, "logical_id"):
                exc.logical_id = logical_id
            raise

    parsing.parse_and_update_resource = parse_and_update_resource

    # -- a resource an update removed is created again if a later update (or a rollback) brings it back (moto keeps
    # the deleted object and would hand it out as if it existed)
    original_delete_resource = parsing.ResourceMap._delete_resource
    original_getitem = parsing.ResourceMap.__getitem__

    def _delete_resource(self, parsed_resource, resource_json):
        original_delete_resource(self, parsed_resource, resource_json)
        try:
            parsed_resource.local_deleted = True
        except AttributeError:
            pass

    def getitem(self, key):
        if getattr(self._parsed_resources.get(key), "local_deleted", False):
            self._parsed_resources.pop(key)
        return original_getitem(self, key)

    parsing.ResourceMap._delete_resource = _delete_resource
    parsing.ResourceMap.__getitem__ = getitem

    # -- an update creates the resources whose condition became true and deletes those whose condition became false
    original_map_update = parsing.ResourceMap.update

    def update(self, template, parameters=None):
        original_map_update(self, template, parameters)
        for logical_id, resource_json in self._resource_json_map.items():
            condition = resource_json.get("Condition")
            if not condition:
                continue
            existing = self._parsed_resources.get(logical_id)
            if existing is None:
                self._parsed_resources.pop(logical_id, None)
            if self.lazy_condition_map[condition]:
                if existing is None:
                    _ = self[logical_id]
            elif existing is not None:
                self._delete_resource(existing, resource_json)
                self._parsed_resources.pop(logical_id, None)

    parsing.ResourceMap.update = update

    # -- a list parameter's default is a list too (moto splits only the values passed in)
    original_load_parameters = parsing.ResourceMap.load_parameters

    def load_parameters(self):
        original_load_parameters(self)
        for name, slot in (self._template.get("Parameters") or {}).items():
            kind, value = str(slot.get("Type", "String")), self.resolved_parameters.get(name)
            if isinstance(value, str) and (kind == "CommaDelimitedList" or kind.startswith("List<")):
                self.resolved_parameters[name] = [item.strip() for item in value.split(",")]
                self._parsed_resources[name] = self.resolved_parameters[name]

    parsing.ResourceMap.load_parameters = load_parameters

    # -- unknown types are an error, not a warning
    original_class_from_type = parsing.resource_class_from_type

    def resource_class_from_type(resource_type):
        model = original_class_from_type(resource_type)
        if model is None and resource_type not in parsing.NULL_MODELS:
            raise ValidationError(message=f"Template format error: Unrecognized resource types: [{resource_type}]")
        return model

    parsing.resource_class_from_type = resource_class_from_type

    # -- dynamic references
    original_clean_json = parsing.clean_json

    def clean_json(resource_json, resources_map):
        result = original_clean_json(resource_json, resources_map)
        if isinstance(result, str) and "{{resolve:" in result:
            result = resolve_dynamic_references(result, resources_map._account_id, resources_map._region_name)
        return result

    parsing.clean_json = clean_json

    # -- create, update, delete: validation up front, failures recorded on the stack
    original_create = CloudFormationBackend.create_stack
    original_update = CloudFormationBackend.update_stack
    original_change_set = CloudFormationBackend.create_change_set

    def create_stack(self, name, template, parameters, *args, **kwargs):
        _reject_unknown_types(template)
        before = set(self.stacks)
        try:
            stack = original_create(self, name, template, parameters, *args, **kwargs)
        except Exception as exc:
            created = [self.stacks[stack_id] for stack_id in set(self.stacks) - before]
            if not created:
                raise  # rejected before the stack existed: the call fails, as on AWS
            stack = created[0]
            _roll_back_create(self, stack, exc)
            return stack
        _set_reason(stack, None)
        return stack

    def update_stack(self, name, template, role_arn, parameters, tags):
        _reject_unknown_types(template)
        stack = self.get_stack(name)
        if stack.status in (
            "ROLLBACK_COMPLETE",
            "ROLLBACK_FAILED",
            "DELETE_FAILED",
            "CREATE_FAILED",
            "UPDATE_ROLLBACK_FAILED",
        ):
            raise ValidationError(message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.")
        if template == stack.template and self._resolve_update_parameters(stack, parameters) == stack.parameters:
            raise ValidationError(stack.name, message="No updates are to be performed.")
        previous_template, previous_parameters = stack.template, dict(stack.parameters or {})
        try:
            stack = original_update(self, name, template, role_arn, parameters, tags)
        except Exception as exc:
            _roll_back_update(stack, exc, previous_template, previous_parameters)
            return stack
        _set_reason(stack, None)
        _refresh_exports(self, stack)
        return stack

    def create_change_set(self, stack_name, change_set_name, template, *args, **kwargs):
        _reject_unknown_types(template)
        return original_change_set(self, stack_name, change_set_name, template, *args, **kwargs)

    def delete_stack(self, name_or_stack_id):
        stack = self.stacks.get(name_or_stack_id) or next(
            (stack for stack in self.stacks.values() if stack.name == name_or_stack_id), None
        )
        if stack is None:
            return  # deleting a stack that does not exist succeeds, as on AWS
        try:
            stack.delete()
        except Exception as exc:
            stack.status = "DELETE_FAILED"
            _set_reason(stack, failure_reason(exc))
            stack._add_stack_event("DELETE_FAILED", resource_status_reason=stack.stack_status_reason)
            return
        self.stacks.pop(stack.stack_id, None)
        self.deleted_stacks[stack.stack_id] = stack
        for export in [export for export in self.exports.values() if export.exporting_stack_id == stack.stack_id]:
            self.exports.pop(export.name, None)

    for function in (create_stack, update_stack, create_change_set, delete_stack):
        function.local_cfn = True
    patch(CloudFormationBackend, create_stack, update_stack, create_change_set, delete_stack)


def _roll_back_create(backend, stack, exc: Exception) -> None:
    reason = failure_reason(exc)
    stack._add_stack_event("CREATE_FAILED", resource_status_reason=reason)
    stack.status = "ROLLBACK_IN_PROGRESS"
    stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
    for name in [name for name, export in backend.exports.items() if export.exporting_stack_id == stack.stack_id]:
        backend.exports.pop(name, None)
    _without_outputs(stack)
    try:
        stack.resource_map.delete()
        stack.status = "ROLLBACK_COMPLETE"
    except Exception as rollback_exc:
        stack.status = "ROLLBACK_FAILED"
        reason = f"{reason}; rollback: {failure_reason(rollback_exc)}"
    _set_reason(stack, reason)
    stack._add_stack_event(stack.status, resource_status_reason=reason)


def _without_outputs(stack) -> None:
    """A stack that failed to create has no outputs (moto would evaluate them, creating resources again)."""
    from moto.cloudformation.parsing import OutputMap

    stack.output_map = OutputMap(stack.resource_map, {}, stack.stack_id)


def _roll_back_update(stack, exc: Exception, previous_template, previous_parameters: dict) -> None:
    reason = failure_reason(exc)
    stack._add_stack_event("UPDATE_FAILED", resource_status_reason=reason)
    stack.status = "UPDATE_ROLLBACK_IN_PROGRESS"
    try:
        stack.template = previous_template
        stack._parse_template()
        stack.resource_map.update(stack.template_dict, previous_parameters)
        stack.parameters = previous_parameters
        stack.output_map = stack._create_output_map()
        stack.status = "UPDATE_ROLLBACK_COMPLETE"
    except Exception as rollback_exc:
        stack.status = "UPDATE_ROLLBACK_FAILED"
        reason = f"{reason}; rollback: {failure_reason(rollback_exc)}"
    _set_reason(stack, reason)
    stack._add_stack_event(stack.status, resource_status_reason=reason)


def _refresh_exports(backend, stack) -> None:
    for name in [name for name, export in backend.exports.items() if export.exporting_stack_id == stack.stack_id]:
        backend.exports.pop(name, None)
    for export in stack.exports:
        backend.exports[export.name] = export
