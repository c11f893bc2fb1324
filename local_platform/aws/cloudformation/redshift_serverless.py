"""``AWS::RedshiftServerless::Namespace`` and ``AWS::RedshiftServerless::Workgroup``, as records.

moto 5.2.5 has no Redshift Serverless. The local platform needs none to run SQL: the Redshift Data API
extension (``compute/redshift_data/``) stands in any ``WorkgroupName`` + database with a PostgreSQL database.
These models keep what a stack declared (names, capacity, network) so that Ref and GetAtt resolve as on AWS
(Ref = the name; ``Workgroup.WorkgroupArn``, ``Workgroup.WorkgroupId``, ``Workgroup.Endpoint.Address``,
``Namespace.NamespaceArn``, ``Namespace.NamespaceId``), a workgroup must name a namespace of the same account
and region, and a name is used once. ``workgroups(account, region)`` lists them for tests.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from moto.core.common_models import CloudFormationModel

_LOCK = threading.Lock()
_NAMESPACES: dict[tuple[str, str, str], RedshiftNamespace] = {}
_WORKGROUPS: dict[tuple[str, str, str], RedshiftWorkgroup] = {}


def workgroups(account_id: str, region: str) -> dict[str, dict]:
    with _LOCK:
        return {
            name: dict(item.properties)
            for (account, where, name), item in _WORKGROUPS.items()
            if (account, where) == (account_id, region)
        }


class _Record:
    kind = ""
    registry: dict

    def __init__(self, name: str, account_id: str, region: str, properties: dict):
        self.name, self.account_id, self.region = name, account_id, region
        self.properties = properties
        self.id = str(uuid.uuid4())
        self.arn = f"arn:aws:redshift-serverless:{region}:{account_id}:{self.kind}/{self.id}"

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def is_created(self) -> bool:
        return True

    @classmethod
    def _register(cls, name: str, account_id: str, region: str, properties: dict):
        from moto.cloudformation.exceptions import ValidationError

        with _LOCK:
            if (account_id, region, name) in cls.registry:
                raise ValidationError(message=f"{cls.kind} {name} already exists")
            record = cls(name, account_id, region, properties)
            cls.registry[(account_id, region, name)] = record
            return record

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        if new_resource_name != original_resource.name:
            replacement = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            original_resource.delete(account_id, region_name)
            return replacement
        original_resource.properties = dict(cloudformation_json["Properties"])
        return original_resource

    def delete(self, account_id: str, region: str) -> None:
        with _LOCK:
            self.registry.pop((account_id, region, self.name), None)


class RedshiftNamespace(_Record, CloudFormationModel):
    kind = "namespace"
    registry = _NAMESPACES

    @staticmethod
    def cloudformation_name_type() -> str:
        return "NamespaceName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::RedshiftServerless::Namespace"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Namespace.NamespaceArn", "Namespace.NamespaceId", "Namespace.NamespaceName")

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        values = {
            "Namespace.NamespaceArn": self.arn,
            "Namespace.NamespaceId": self.id,
            "Namespace.NamespaceName": self.name,
        }
        if attribute_name not in values:
            raise UnformattedGetAttTemplateException()
        return values[attribute_name]

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ) -> RedshiftNamespace:
        return cls._register(resource_name, account_id, region_name, dict(cloudformation_json["Properties"]))


class RedshiftWorkgroup(_Record, CloudFormationModel):
    kind = "workgroup"
    registry = _WORKGROUPS

    @staticmethod
    def cloudformation_name_type() -> str:
        return "WorkgroupName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::RedshiftServerless::Workgroup"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in (
            "Workgroup.WorkgroupArn",
            "Workgroup.WorkgroupId",
            "Workgroup.WorkgroupName",
            "Workgroup.Endpoint.Address",
            "Workgroup.Endpoint.Port",
        )

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        values = {
            "Workgroup.WorkgroupArn": self.arn,
            "Workgroup.WorkgroupId": self.id,
            "Workgroup.WorkgroupName": self.name,
            "Workgroup.Endpoint.Address": f"{self.name}.{self.account_id}.{self.region}.redshift-serverless"
            ".amazonaws.com",
            "Workgroup.Endpoint.Port": str(self.properties.get("Port", 5439)),
        }
        if attribute_name not in values:
            raise UnformattedGetAttTemplateException()
        return values[attribute_name]

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ) -> RedshiftWorkgroup:
        from moto.cloudformation.exceptions import ValidationError

        properties = dict(cloudformation_json["Properties"])
        namespace = properties.get("NamespaceName")
        with _LOCK:
            known = (account_id, region_name, namespace) in _NAMESPACES
        if not known:
            raise ValidationError(message=f"Workgroup {resource_name}: namespace {namespace} does not exist")
        return cls._register(resource_name, account_id, region_name, properties)
