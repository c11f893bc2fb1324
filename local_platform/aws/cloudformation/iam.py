"""``AWS::IAM::Role`` properties moto's own handler ignores: ``ManagedPolicyArns`` are attached on create and
kept in step on update (moto also ignored a changed ``Policies`` list on update: inline policies are replaced
here), and a role's managed policies are detached before it is deleted, as CloudFormation does. Inline policy
documents are stored as JSON text, as IAM's API returns them.
"""

from __future__ import annotations

import json


def _iam(account_id: str, region: str):
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    return iam_backends[account_id][get_partition(region)]


def _sync(role, properties: dict, account_id: str, region: str) -> None:
    backend = _iam(account_id, region)
    wanted_policies = {policy["PolicyName"]: policy["PolicyDocument"] for policy in properties.get("Policies") or []}
    for name in list(role.policies):
        if name not in wanted_policies:
            role.delete_policy(name)
    for name, document in wanted_policies.items():
        role.put_policy(name, document if isinstance(document, str) else json.dumps(document))
    wanted_arns = list(properties.get("ManagedPolicyArns") or [])
    for arn in list(role.managed_policies):
        if arn not in wanted_arns:
            backend.detach_role_policy(arn, role.name)
    for arn in wanted_arns:
        if arn not in role.managed_policies:
            backend.attach_role_policy(arn, role.name)


def install() -> None:
    from moto.iam.models import Role

    if getattr(Role.create_from_cloudformation_json, "local_cfn", False):
        return
    original_create = Role.create_from_cloudformation_json.__func__
    original_update = Role.update_from_cloudformation_json.__func__
    original_delete = Role.delete_from_cloudformation_json.__func__

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        role = original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        _sync(role, cloudformation_json["Properties"], account_id, region_name)
        return role

    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        role = original_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        _sync(role, cloudformation_json["Properties"], account_id, region_name)
        return role

    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        backend = _iam(account_id, region_name)
        for role in backend.roles.values():
            if role.name == resource_name:
                for arn in list(role.managed_policies):
                    backend.detach_role_policy(arn, role.name)
        original_delete(cls, resource_name, cloudformation_json, account_id, region_name)

    create_from_cloudformation_json.local_cfn = True
    Role.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    Role.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)
    Role.delete_from_cloudformation_json = classmethod(delete_from_cloudformation_json)
