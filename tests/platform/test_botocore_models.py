"""Sessions made after ``share_loaders()`` parse botocore's model files once between them, and still work."""

from __future__ import annotations

import boto3
import botocore.session

from local_platform.botocore_models import share_loaders


def loader_of(session: boto3.session.Session):
    return session._session.get_component("data_loader")


def test_new_sessions_share_one_loader_and_their_clients_still_answer(local_aws):
    share_loaders()
    share_loaders()  # idempotent: still one cache, not a cache of caches
    first, second = boto3.session.Session(region_name="us-east-1"), boto3.session.Session(region_name="us-east-1")

    assert loader_of(first) is loader_of(second)
    first.client("s3", endpoint_url=local_aws.endpoint).create_bucket(Bucket="shared-loader")
    names = [
        bucket["Name"] for bucket in second.client("s3", endpoint_url=local_aws.endpoint).list_buckets()["Buckets"]
    ]
    assert "shared-loader" in names


def test_a_different_data_path_gets_a_loader_of_its_own(tmp_path):
    share_loaders()
    default, custom = botocore.session.Session(), botocore.session.Session()
    custom.set_config_variable("data_path", str(tmp_path))

    assert default.get_component("data_loader") is not custom.get_component("data_loader")
    assert str(tmp_path) in custom.get_component("data_loader").search_paths
