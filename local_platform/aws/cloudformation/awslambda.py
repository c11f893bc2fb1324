"""``AWS::Lambda::EventInvokeConfig`` in moto's Lambda backend (moto has the API, not the resource type): how
asynchronous invocations of a function are retried. Ref returns ``<function name>|<qualifier>``.

``AWS::Lambda::LayerVersion`` as on AWS (``install``): moto's handler gives no physical id, so ``!Ref`` to it (a
function's ``Layers``) is no ARN; it ignores ``LayerName`` and ``CompatibleArchitectures``; and it neither
replaces a changed version nor deletes a removed one. moto's ``AWS::Lambda::Function`` ignores ``Layers``: here a
function takes the template's (none when the property is left out). An update re-applies only resources whose own
JSON or directly referenced parameters changed, so a function whose ``Layers`` name a replaced or removed version
(through ``!Ref`` or ``!If``) is not updated: replacing or deleting a version therefore moves the functions that
use it to the replacement, or off it, as CloudFormation's update of those functions would before the cleanup."""

from __future__ import annotations

from moto.core.common_models import CloudFormationModel

SETTINGS = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
LAYER_VERSION_PROPERTIES = ("Content", "Description", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo")


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


def install() -> None:
    from moto.awslambda.models import LambdaFunction, LayerVersion

    if getattr(LayerVersion.create_from_cloudformation_json, "local_cfn", False):
        return
    _install_function_layers(LambdaFunction)

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        spec = {name: properties[name] for name in LAYER_VERSION_PROPERTIES if name in properties}
        return _lambda(account_id, region_name).publish_layer_version(
            {**spec, "LayerName": properties.get("LayerName", resource_name)}
        )

    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        # Every property of a layer version requires replacement: publish the next version, delete this one.
        replacement = create_from_cloudformation_json(
            cls, new_resource_name, cloudformation_json, account_id, region_name
        )
        _move_functions(account_id, region_name, original_resource.arn, replacement.arn)
        original_resource.delete(account_id, region_name)
        return replacement

    def delete(self, account_id: str, region: str) -> None:
        _move_functions(account_id, region, self.arn, None)
        _lambda(account_id, region).delete_layer_version(self.name, self.version)

    create_from_cloudformation_json.local_cfn = True
    LayerVersion.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    LayerVersion.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)
    LayerVersion.delete = delete
    LayerVersion.physical_resource_id = property(lambda self: self.arn)


def _install_function_layers(function_class) -> None:
    original_create = function_class.create_from_cloudformation_json.__func__
    original_update = function_class.update_from_cloudformation_json.__func__

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        function = original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        if "Layers" in cloudformation_json["Properties"]:
            function.update_configuration({"Layers": cloudformation_json["Properties"]["Layers"]})
        return function

    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        function = original_update(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        function.update_configuration({"Layers": cloudformation_json["Properties"].get("Layers", [])})
        return function

    function_class.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    function_class.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)


def _move_functions(account_id: str, region: str, old_arn: str, new_arn: str | None) -> None:
    """Functions using layer version ``old_arn`` use ``new_arn`` in its place (none: they drop it)."""
    for function in _lambda(account_id, region).list_functions():
        arns = [layer["Arn"] for layer in function.layers]
        if old_arn in arns:
            moved = [new_arn if arn == old_arn else arn for arn in arns]
            function.update_configuration({"Layers": [arn for arn in moved if arn is not None]})
