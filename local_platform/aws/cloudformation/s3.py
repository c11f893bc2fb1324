"""``AWS::S3::Bucket`` properties moto's own handler ignores: ``PublicAccessBlockConfiguration``,
``LifecycleConfiguration`` and ``VersioningConfiguration`` are applied to the bucket on create and update
(removed when an update drops them), so a locally deployed bucket answers GetPublicAccessBlock,
GetBucketLifecycleConfiguration and GetBucketVersioning as the same stack's bucket does on AWS. Deleting a
bucket that still holds objects fails the stack's deletion (moto would leave the bucket and report success).
"""

from __future__ import annotations


def lifecycle_rule(rule: dict) -> dict:
    """A CloudFormation lifecycle rule as the S3 API's (what moto's PutBucketLifecycleConfiguration takes)."""
    api = {"ID": rule.get("Id"), "Status": rule["Status"]}
    prefix = rule.get("Prefix", (rule.get("Filter") or {}).get("Prefix", ""))
    api["Filter"] = {"Prefix": prefix}
    expiration = {}
    if "ExpirationInDays" in rule:
        expiration["Days"] = int(rule["ExpirationInDays"])
    if "ExpirationDate" in rule:
        expiration["Date"] = rule["ExpirationDate"]
    if "ExpiredObjectDeleteMarker" in rule:
        expiration["ExpiredObjectDeleteMarker"] = str(rule["ExpiredObjectDeleteMarker"]).lower()
    if expiration:
        api["Expiration"] = expiration
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        }
    noncurrent = rule.get("NoncurrentVersionExpiration") or (
        {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
        if "NoncurrentVersionExpirationInDays" in rule
        else None
    )
    if noncurrent:
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(noncurrent["NoncurrentDays"])}
    transitions = rule.get("Transitions") or ([rule["Transition"]] if "Transition" in rule else [])
    if transitions:
        api["Transition"] = [
            {"Days": int(item["TransitionInDays"]), "StorageClass": item["StorageClass"]} for item in transitions
        ]
    return api


def apply_properties(bucket_name: str, properties: dict, account_id: str, region: str) -> None:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    backend = s3_backends[account_id][get_partition(region)]
    block = properties.get("PublicAccessBlockConfiguration")
    if block:
        backend.put_public_access_block(bucket_name, {key: str(value).lower() for key, value in block.items()})
    elif backend.get_bucket(bucket_name).public_access_block is not None:
        backend.delete_public_access_block(bucket_name)
    rules = (properties.get("LifecycleConfiguration") or {}).get("Rules")
    if rules:
        backend.put_bucket_lifecycle(bucket_name, [lifecycle_rule(rule) for rule in rules])
    elif backend.get_bucket(bucket_name).rules:
        backend.delete_bucket_lifecycle(bucket_name)
    versioning = (properties.get("VersioningConfiguration") or {}).get("Status")
    if versioning:
        backend.put_bucket_versioning(bucket_name, versioning)


def install() -> None:
    from moto.s3.models import FakeBucket

    if getattr(FakeBucket.create_from_cloudformation_json, "local_cfn", False):
        return
    original_create = FakeBucket.create_from_cloudformation_json.__func__
    original_update = FakeBucket.update_from_cloudformation_json.__func__

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        bucket = original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        apply_properties(bucket.name, cloudformation_json.get("Properties", {}), account_id, region_name)
        return bucket

    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        bucket = original_update(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        apply_properties(bucket.name, cloudformation_json.get("Properties", {}), account_id, region_name)
        return bucket

    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        from moto.s3.exceptions import BucketNotEmpty
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition

        # moto's DeleteBucket refuses a bucket with objects in the API layer only; here too, as on AWS.
        if s3_backends[account_id][get_partition(region_name)].get_bucket(resource_name).keys:
            raise BucketNotEmpty(resource_name)
        original_delete(cls, resource_name, cloudformation_json, account_id, region_name)

    original_delete = FakeBucket.delete_from_cloudformation_json.__func__
    create_from_cloudformation_json.local_cfn = True
    FakeBucket.delete_from_cloudformation_json = classmethod(delete_from_cloudformation_json)
    FakeBucket.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    FakeBucket.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)
