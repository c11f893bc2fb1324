"""The csv_lake pipeline's resources on the session's local AWS, provisioned once per module."""

from __future__ import annotations

import pytest

from local_platform.provision import provision


@pytest.fixture(scope="module")
def provisioned(local_aws):
    provision(["csv_lake"], local_aws.endpoint)
    return local_aws
