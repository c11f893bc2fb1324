"""``AWS::SNS::Subscription`` in moto's SNS backend (moto only knows subscriptions inside ``AWS::SNS::Topic``).

Ref returns the subscription ARN. ``RawMessageDelivery``, ``FilterPolicy``, ``FilterPolicyScope``,
``RedrivePolicy`` and ``DeliveryPolicy`` become subscription attributes. A new topic, protocol or endpoint
replaces the subscription, other changes update its attributes, as on AWS.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel

ATTRIBUTES = ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy", "DeliveryPolicy")


def _sns(account_id: str, region: str):
    from moto.sns.models import sns_backends

    return sns_backends[account_id][region]


class SubscriptionResource(CloudFormationModel):
    def __init__(self, arn: str, properties: dict):
        self.arn = arn
        self.properties = properties

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::Subscription"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name == "Arn":
            return self.arn
        raise UnformattedGetAttTemplateException()

    def is_created(self) -> bool:
        return True

    @staticmethod
    def _set_attributes(backend, arn: str, properties: dict) -> None:
        for name in ATTRIBUTES:
            if name in properties:
                value = properties[name]
                value = (
                    json.dumps(value)
                    if isinstance(value, dict)
                    else str(value).lower()
                    if isinstance(value, bool)
                    else str(value)
                )
                backend.set_subscription_attributes(arn, name, value)

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ) -> SubscriptionResource:
        properties = cloudformation_json["Properties"]
        backend = _sns(account_id, region_name)
        subscription = backend.subscribe(properties["TopicArn"], properties["Endpoint"], properties["Protocol"])
        cls._set_attributes(backend, subscription.arn, properties)
        return cls(subscription.arn, properties)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ) -> SubscriptionResource:
        properties = cloudformation_json["Properties"]
        identity = ("TopicArn", "Protocol", "Endpoint")
        if any(properties.get(key) != original_resource.properties.get(key) for key in identity):
            replacement = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            original_resource.delete(account_id, region_name)
            return replacement
        cls._set_attributes(_sns(account_id, region_name), original_resource.arn, properties)
        original_resource.properties = properties
        return original_resource

    def delete(self, account_id: str, region: str) -> None:
        _sns(account_id, region).unsubscribe(self.arn)
