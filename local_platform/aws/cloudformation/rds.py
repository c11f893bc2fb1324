"""``AWS::RDS::DBCluster`` in moto's RDS backend, and the cluster members moto's DBInstance handler mishandles.

A cluster a stack creates is the backend's own, so StartDBCluster/StopDBCluster (the vn_stock DAG's
RdsStartDbOperator/RdsStopDbOperator) act on it; it is ``available`` when the stack completes, as on AWS.
Ref returns the identifier; GetAtt gives ``Endpoint.Address``, ``Endpoint.Port``, ``ReadEndpoint.Address``,
``DBClusterArn``, ``DBClusterResourceId`` and ``MasterUserSecret.SecretArn``. A new identifier replaces the
cluster; other changes update it in place.

``AWS::RDS::DBInstance`` with ``DBClusterIdentifier`` (Aurora's writer, ``db.serverless`` for Serverless v2)
becomes a member of that cluster; moto's own handler would make a standalone instance and pass it storage
settings a cluster member refuses. ``AWS::RDS::DBSubnetGroup``'s Ref returns its name (moto returns the object).
"""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel

# AWS::RDS::DBCluster property -> keyword of moto's DBCluster
CLUSTER_PROPERTIES = {
    "Engine": "engine",
    "EngineVersion": "engine_version",
    "EngineMode": "engine_mode",
    "DatabaseName": "database_name",
    "MasterUsername": "master_username",
    "MasterUserPassword": "master_user_password",
    "ManageMasterUserPassword": "manage_master_user_password",
    "VpcSecurityGroupIds": "vpc_security_group_ids",
    "StorageEncrypted": "storage_encrypted",
    "KmsKeyId": "kms_key_id",
    "BackupRetentionPeriod": "backup_retention_period",
    "Port": "port",
    "DeletionProtection": "deletion_protection",
    "DBClusterParameterGroupName": "db_cluster_parameter_group_name",
    "ServerlessV2ScalingConfiguration": "serverless_v2_scaling_configuration",
    "AvailabilityZones": "availability_zones",
    "CopyTagsToSnapshot": "copy_tags_to_snapshot",
    "PreferredBackupWindow": "preferred_backup_window",
    "PreferredMaintenanceWindow": "preferred_maintenance_window",
    "EnableCloudwatchLogsExports": "enable_cloudwatch_logs_exports",
    "Tags": "tags",
}
# What an update may change in place (the rest needs a replacement on AWS, or is not emulated).
UPDATABLE = (
    "engine_version",
    "master_user_password",
    "vpc_security_group_ids",
    "backup_retention_period",
    "deletion_protection",
    "serverless_v2_scaling_configuration",
    "preferred_backup_window",
    "preferred_maintenance_window",
    "copy_tags_to_snapshot",
    "enable_cloudwatch_logs_exports",
)


def _rds(account_id: str, region: str):
    from moto.rds.models import rds_backends

    return rds_backends[account_id][region]


def _name_of(value) -> str | None:
    """A Ref to a DBSubnetGroup resolves to its name (installed below) or, in moto, to the object."""
    return getattr(value, "name", value)


def _flag(value) -> bool:
    return str(value).lower() == "true"


class DBClusterResource(CloudFormationModel):
    def __init__(self, identifier: str, account_id: str, region: str):
        self.identifier, self.account_id, self.region = identifier, account_id, region

    @property
    def cluster(self):
        return _rds(self.account_id, self.region).clusters[self.identifier]

    @property
    def physical_resource_id(self) -> str:
        return self.identifier

    @staticmethod
    def cloudformation_name_type() -> str:
        return "DBClusterIdentifier"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::RDS::DBCluster"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in (
            "Endpoint.Address",
            "Endpoint.Port",
            "ReadEndpoint.Address",
            "DBClusterArn",
            "DBClusterResourceId",
            "MasterUserSecret.SecretArn",
        )

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        cluster = self.cluster
        values = {
            "Endpoint.Address": lambda: cluster.endpoint,
            "Endpoint.Port": lambda: str(cluster.port),
            "ReadEndpoint.Address": lambda: cluster.reader_endpoint,
            "DBClusterArn": lambda: cluster.db_cluster_arn,
            "DBClusterResourceId": lambda: cluster.db_cluster_resource_id,
            "MasterUserSecret.SecretArn": lambda: cluster.master_user_secret.arn,
        }
        if attribute_name not in values:
            raise UnformattedGetAttTemplateException()
        return values[attribute_name]()

    def is_created(self) -> bool:
        return True

    @staticmethod
    def _kwargs(identifier: str, properties: dict) -> dict:
        kwargs = {"db_cluster_identifier": identifier}
        for key, keyword in CLUSTER_PROPERTIES.items():
            if key in properties:
                kwargs[keyword] = properties[key]
        for keyword in (
            "storage_encrypted",
            "deletion_protection",
            "manage_master_user_password",
            "copy_tags_to_snapshot",
        ):
            if keyword in kwargs:
                kwargs[keyword] = _flag(kwargs[keyword])
        for keyword in ("backup_retention_period", "port"):
            if keyword in kwargs:
                kwargs[keyword] = int(kwargs[keyword])
        if "DBSubnetGroupName" in properties:
            kwargs["db_subnet_group_name"] = _name_of(properties["DBSubnetGroupName"])
        if "MasterUserSecret" in properties:
            kwargs["master_user_secret_kms_key_id"] = properties["MasterUserSecret"].get("KmsKeyId")
        return kwargs

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ) -> DBClusterResource:
        properties = cloudformation_json["Properties"]
        identifier = resource_name.lower()
        backend = _rds(account_id, region_name)
        from moto.rds.exceptions import RDSClientError

        if identifier in backend.clusters:
            raise RDSClientError("DBClusterAlreadyExistsFault", f"DB Cluster {identifier} already exists")
        cluster = backend.create_db_cluster(cls._kwargs(identifier, properties))
        cluster.status = "available"  # CloudFormation completes once the cluster is available
        return cls(identifier, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ) -> DBClusterResource:
        properties = cloudformation_json["Properties"]
        if new_resource_name.lower() != original_resource.identifier:
            replacement = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            original_resource.delete(account_id, region_name)
            return replacement
        cluster = original_resource.cluster
        changes = cls._kwargs(original_resource.identifier, properties)
        for keyword in UPDATABLE:
            if keyword in changes:
                setattr(cluster, keyword, changes[keyword])
        return original_resource

    def delete(self, account_id: str, region: str) -> None:
        _rds(account_id, region).delete_db_cluster(self.identifier)


def install() -> None:
    from moto.rds.models import DBInstance, DBSubnetGroup, rds_backends

    if getattr(DBInstance.create_from_cloudformation_json, "local_cfn", False):
        return
    original_create = DBInstance.create_from_cloudformation_json.__func__

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        if "DBClusterIdentifier" not in properties:
            if "DBSubnetGroupName" in properties:  # moto's handler wants the subnet group object
                name = _name_of(properties["DBSubnetGroupName"])
                properties["DBSubnetGroupName"] = rds_backends[account_id][region_name].subnet_groups[name]
            return original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        backend = rds_backends[account_id][region_name]
        instance = backend.create_db_instance(
            {
                "db_instance_identifier": resource_name.lower(),
                "db_cluster_identifier": properties["DBClusterIdentifier"],
                "db_instance_class": properties.get("DBInstanceClass"),
                "engine": properties.get("Engine"),
                "publicly_accessible": _flag(properties.get("PubliclyAccessible", False)),
                "db_subnet_group_name": _name_of(properties.get("DBSubnetGroupName")),
                "tags": properties.get("Tags") or [],
            }
        )
        instance.status = "available"
        return instance

    create_from_cloudformation_json.local_cfn = True
    DBInstance.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    DBSubnetGroup.physical_resource_id = property(lambda self: self.name)
