"""``AWS::Lambda::EventInvokeConfig`` in moto's Lambda backend (moto has the API, not the resource type): how
asynchronous invocations of a function are retried. Ref returns ``<function name>|<qualifier>``."""

from __future__ import annotations

from moto.core.common_models import CloudFormationModel

SETTINGS = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")


def _lambda(account_id: str, region: str):
    from moto.awslambda.models import lambda_backends

    return lambda_backends[account_id][region]


class EventInvokeConfigResource(CloudFormationModel):
    def __init__(self, function_name: str, qualifier: str):
        self.function_name, self.qualifier = function_name, qualifier

    @property
    def physical_resource_id(self) -> str:
        return f"{self.function_name}|{self.qualifier}"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::EventInvokeConfig"

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ) -> EventInvokeConfigResource:
        properties = cloudformation_json["Properties"]
        config = {name: properties[name] for name in SETTINGS if name in properties}
        _lambda(account_id, region_name).put_function_event_invoke_config(properties["FunctionName"], config)
        return cls(properties["FunctionName"], properties.get("Qualifier", "$LATEST"))

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ) -> EventInvokeConfigResource:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    def delete(self, account_id: str, region: str) -> None:
        from moto.awslambda.exceptions import UnknownFunctionException

        try:
            _lambda(account_id, region).get_function(self.function_name).event_invoke_config = []
        except UnknownFunctionException:  # the function went first: nothing to remove
            return
