"""``AWS::MWAA::Environment`` in the local MWAA backend (``local_platform.aws.mwaa``).

Created and updated with the same checks as CreateEnvironment/UpdateEnvironment (role, versioned source bucket,
DAG folder, plugins/requirements/startup script objects and versions), and the stack waits for AVAILABLE as
CloudFormation does. Ref returns the name; GetAtt gives ``Arn``, ``WebserverUrl`` and
``LoggingConfiguration.*.CloudWatchLogGroupArn``.
"""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel

from local_platform.aws.mwaa.models import CREATE_FIELDS, UPDATE_FIELDS, mwaa_backend

NUMBERS = ("MaxWorkers", "MinWorkers", "Schedulers", "MaxWebservers", "MinWebservers")


def _spec(properties: dict, fields: tuple[str, ...]) -> dict:
    spec = {key: properties[key] for key in fields if key in properties}
    for key in NUMBERS:
        if key in spec:
            spec[key] = int(spec[key])
    for module in (spec.get("LoggingConfiguration") or {}).values():
        if "Enabled" in module:
            module["Enabled"] = str(module["Enabled"]).lower() == "true"
    if isinstance(spec.get("AirflowConfigurationOptions"), dict):
        spec["AirflowConfigurationOptions"] = {
            key: str(value) for key, value in spec["AirflowConfigurationOptions"].items()
        }
    return spec


class MwaaEnvironment(CloudFormationModel):
    def __init__(self, name: str, account_id: str, region: str):
        self.name, self.account_id, self.region = name, account_id, region

    @property
    def environment(self):
        return mwaa_backend(self.account_id, self.region).get_environment(self.name)

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::MWAA::Environment"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Arn", "WebserverUrl") or (
            attr.startswith("LoggingConfiguration.") and attr.endswith(".CloudWatchLogGroupArn")
        )

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        described = self.environment.describe()
        if attribute_name == "Arn":
            return described["Arn"]
        if attribute_name == "WebserverUrl":
            return described["WebserverUrl"]
        if attribute_name.startswith("LoggingConfiguration."):
            module = attribute_name.split(".")[1]
            return described["LoggingConfiguration"].get(module, {}).get("CloudWatchLogGroupArn", "")
        raise UnformattedGetAttTemplateException()

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ) -> MwaaEnvironment:
        properties = cloudformation_json["Properties"]
        backend = mwaa_backend(account_id, region_name)
        environment = backend.create_environment(resource_name, _spec(properties, CREATE_FIELDS))
        environment.wait_until_settled()
        return cls(resource_name, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ) -> MwaaEnvironment:
        properties = cloudformation_json["Properties"]
        if new_resource_name != original_resource.name:
            replacement = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            original_resource.delete(account_id, region_name)
            return replacement
        # Properties the template no longer sets go back to MWAA's defaults, as CloudFormation does.
        mwaa_backend(account_id, region_name).update_environment(
            original_resource.name,
            _spec(properties, UPDATE_FIELDS),
            source="CLOUDFORMATION",
            replace=True,
        ).wait_until_settled()
        return original_resource

    def delete(self, account_id: str, region: str) -> None:
        backend = mwaa_backend(account_id, region)
        backend.delete_environment(self.name)
        backend.get_environment(self.name).wait_until_settled()
