"""The csv_lake pipeline's resources on the session's local AWS: the stacks, deployed once per session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def provisioned(local_aws, stacks):
    return local_aws
