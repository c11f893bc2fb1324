"""``AWS::Glue::Database``, ``AWS::Glue::Crawler`` and ``AWS::Glue::Job`` in moto's Glue backend.

Each is the backend's own object, so the glue_crawlers and glue_jobs compute extensions crawl and run what a
stack created. Ref returns the name, as on AWS. Changing the name replaces the resource; any other change
updates it in place (a crawler through the same UpdateCrawler the API offers, refused while it runs).
"""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.core.utils import utcnow

from local_platform.aws.compute.glue_jobs import JOB_FIELDS

# AWS::Glue::Job's properties are UpdateJob's JobUpdate members: an update in place sets them as UpdateJob does.
CRAWLER_PROPERTIES = (
    "Role",
    "DatabaseName",
    "Description",
    "Targets",
    "Schedule",
    "Classifiers",
    "TablePrefix",
    "SchemaChangePolicy",
    "RecrawlPolicy",
    "LineageConfiguration",
    "Configuration",
    "CrawlerSecurityConfiguration",
)


def _glue(account_id: str, region: str):
    from moto.glue.models import glue_backends

    return glue_backends[account_id][region]


class _NamedGlueResource:
    """What the three types share: a name, Ref = name, deletion through the backend."""

    name: str
    account_id: str
    region: str

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def is_created(self) -> bool:
        return True

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        raise UnformattedGetAttTemplateException()


class GlueDatabase(_NamedGlueResource, CloudFormationModel):
    def __init__(self, name: str, account_id: str, region: str):
        self.name, self.account_id, self.region = name, account_id, region

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""  # the name is DatabaseInput.Name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Glue::Database"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ) -> GlueDatabase:
        database_input = dict(cloudformation_json["Properties"]["DatabaseInput"])
        name = database_input.setdefault("Name", resource_name.lower().replace("-", "_"))
        _glue(account_id, region_name).create_database(name, database_input)
        return cls(name, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ) -> GlueDatabase:
        database_input = dict(cloudformation_json["Properties"]["DatabaseInput"])
        if database_input.get("Name", original_resource.name) != original_resource.name:
            replacement = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            original_resource.delete(account_id, region_name)
            return replacement
        database_input["Name"] = original_resource.name
        _glue(account_id, region_name).update_database(original_resource.name, database_input)
        return original_resource

    def delete(self, account_id: str, region: str) -> None:
        _glue(account_id, region).delete_database(self.name)


class GlueCrawler(_NamedGlueResource, CloudFormationModel):
    def __init__(self, name: str, account_id: str, region: str):
        self.name, self.account_id, self.region = name, account_id, region

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Glue::Crawler"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ) -> GlueCrawler:
        properties = cloudformation_json["Properties"]
        _glue(account_id, region_name).create_crawler(
            name=resource_name,
            role=properties["Role"],
            database_name=properties.get("DatabaseName"),
            description=properties.get("Description"),
            targets=properties["Targets"],
            schedule=(properties.get("Schedule") or {}).get("ScheduleExpression"),
            classifiers=properties.get("Classifiers") or [],
            table_prefix=properties.get("TablePrefix"),
            schema_change_policy=properties.get("SchemaChangePolicy"),
            recrawl_policy=properties.get("RecrawlPolicy"),
            lineage_configuration=properties.get("LineageConfiguration"),
            configuration=properties.get("Configuration"),
            crawler_security_configuration=properties.get("CrawlerSecurityConfiguration"),
            tags=properties.get("Tags") or {},
        )
        return cls(resource_name, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ) -> GlueCrawler:
        properties = cloudformation_json["Properties"]
        if new_resource_name != original_resource.name:
            replacement = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            original_resource.delete(account_id, region_name)
            return replacement
        changes = {key: properties.get(key) for key in CRAWLER_PROPERTIES}
        changes["Schedule"] = (properties.get("Schedule") or {}).get("ScheduleExpression")
        changes["Classifiers"] = properties.get("Classifiers") or []
        # The glue_crawlers extension's UpdateCrawler: refused while the crawler runs, as on AWS.
        _glue(account_id, region_name).update_crawler(original_resource.name, changes)
        return original_resource

    def delete(self, account_id: str, region: str) -> None:
        _glue(account_id, region).delete_crawler(self.name)


class GlueJob(_NamedGlueResource, CloudFormationModel):
    def __init__(self, name: str, account_id: str, region: str):
        self.name, self.account_id, self.region = name, account_id, region

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Glue::Job"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ) -> GlueJob:
        properties = cloudformation_json["Properties"]
        backend = _glue(account_id, region_name)
        if resource_name in backend.jobs:
            from moto.glue.exceptions import AlreadyExistsException

            raise AlreadyExistsException("Job")
        backend.create_job(
            name=resource_name,
            role=properties["Role"],
            command=properties["Command"],
            description=properties.get("Description"),
            log_uri=properties.get("LogUri"),
            execution_property=properties.get("ExecutionProperty") or {},
            default_arguments=properties.get("DefaultArguments") or {},
            non_overridable_arguments=properties.get("NonOverridableArguments") or {},
            connections=properties.get("Connections") or {},
            max_retries=properties.get("MaxRetries"),
            allocated_capacity=properties.get("AllocatedCapacity"),
            timeout=properties.get("Timeout"),
            max_capacity=properties.get("MaxCapacity"),
            security_configuration=properties.get("SecurityConfiguration"),
            tags=properties.get("Tags") or {},
            notification_property=properties.get("NotificationProperty") or {},
            glue_version=properties.get("GlueVersion"),
            number_of_workers=properties.get("NumberOfWorkers"),
            worker_type=properties.get("WorkerType"),
            code_gen_configuration_nodes={},
            execution_class=properties.get("ExecutionClass") or "STANDARD",
            source_control_details={},
        )
        return cls(resource_name, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ) -> GlueJob:
        properties = cloudformation_json["Properties"]
        if new_resource_name != original_resource.name:
            replacement = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            original_resource.delete(account_id, region_name)
            return replacement
        job = _glue(account_id, region_name).get_job(original_resource.name)
        for key, attribute in JOB_FIELDS.items():
            default = {} if key in ("ExecutionProperty", "DefaultArguments", "NonOverridableArguments") else None
            setattr(job, attribute, properties.get(key, default))
        job.execution_class = job.execution_class or "STANDARD"
        job.last_modified_on = utcnow()
        return original_resource

    def delete(self, account_id: str, region: str) -> None:
        _glue(account_id, region).delete_job(self.name)
