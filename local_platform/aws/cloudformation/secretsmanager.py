"""``AWS::SecretsManager::Secret`` in moto's Secrets Manager backend.

``SecretString`` is stored as given; ``GenerateSecretString`` generates a password as AWS does (length,
excluded characters and classes; ``SecretStringTemplate`` + ``GenerateStringKey`` for a JSON document) once,
and keeps it across updates that do not change the generation settings. Ref returns the ARN, as on AWS.
A deleted secret is deleted without a recovery window, so the stack can be created again at once.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from moto.core.common_models import CloudFormationModel


def _secrets(account_id: str, region: str):
    from moto.secretsmanager.models import secretsmanager_backends

    return secretsmanager_backends[account_id][region]


def generate_secret_string(spec: dict) -> str:
    from moto.secretsmanager.utils import random_password

    def flag(name: str) -> bool:
        return str(spec.get(name, False)).lower() == "true"

    password = random_password(
        int(spec.get("PasswordLength", 32)),
        spec.get("ExcludeCharacters", ""),
        flag("ExcludeNumbers"),
        flag("ExcludePunctuation"),
        flag("ExcludeUppercase"),
        flag("ExcludeLowercase"),
        flag("IncludeSpace"),
        str(spec.get("RequireEachIncludedType", True)).lower() == "true",
    )
    if "SecretStringTemplate" in spec:
        document = json.loads(spec["SecretStringTemplate"])
        document[spec["GenerateStringKey"]] = password
        return json.dumps(document)
    return password


class Secret(CloudFormationModel):
    def __init__(self, name: str, arn: str, properties: dict):
        self.name = name
        self.arn = arn
        self.properties = properties

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Id",)

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name == "Id":
            return self.arn
        raise UnformattedGetAttTemplateException()

    def is_created(self) -> bool:
        return True

    @staticmethod
    def _value(properties: dict) -> str:
        if "SecretString" in properties and "GenerateSecretString" in properties:
            raise ValueError("SecretString and GenerateSecretString are mutually exclusive")
        if "GenerateSecretString" in properties:
            return generate_secret_string(properties["GenerateSecretString"])
        return str(properties.get("SecretString", ""))

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ) -> Secret:
        properties = cloudformation_json["Properties"]
        backend = _secrets(account_id, region_name)
        backend.create_secret(
            name=resource_name,
            secret_string=cls._value(properties),
            secret_binary=None,
            description=properties.get("Description"),
            tags=properties.get("Tags") or [],
            kms_key_id=properties.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        return cls(resource_name, backend.secrets[resource_name].arn, properties)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ) -> Secret:
        properties = cloudformation_json["Properties"]
        if new_resource_name != original_resource.name:
            replacement = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            original_resource.delete(account_id, region_name)
            return replacement
        backend = _secrets(account_id, region_name)
        regenerate = "SecretString" in properties or (
            properties.get("GenerateSecretString") != original_resource.properties.get("GenerateSecretString")
        )
        if regenerate:
            # A new version, as UpdateSecret makes (botocore sends a fresh ClientRequestToken).
            backend.update_secret(
                original_resource.name,
                secret_string=cls._value(properties),
                client_request_token=str(uuid.uuid4()),
                description=properties.get("Description"),
            )
        else:
            backend.secrets[original_resource.name].description = properties.get("Description")
        original_resource.properties = properties
        return original_resource

    def delete(self, account_id: str, region: str) -> None:
        _secrets(account_id, region).delete_secret(
            self.name, recovery_window_in_days=None, force_delete_without_recovery=True
        )
