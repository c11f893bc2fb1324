"""The frame walk names an AWS hook's caller exactly as the provider's ``inspect.stack()`` does."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook

from local_platform import hook_caller

PROVIDER = (AwsGenericHook.__dict__["_find_operator_class_name"], AwsGenericHook.__dict__["_find_executor_class_name"])


class CopyOperator:
    def execute(self, hook):
        return hook._get_caller()


class BaseSensorOperator:  # the provider looks again for "poke" when "execute" belongs to this class
    def execute(self, hook):
        return self.poke(hook)

    def poke(self, hook):
        return CopyOperator().execute(hook) + "|" + KeyWaitingSensor().poke(hook)


class KeyWaitingSensor(BaseSensorOperator):
    def poke(self, hook):
        return hook._get_caller("poke")


def callers(hook) -> list[str]:
    return [
        CopyOperator().execute(hook),
        BaseSensorOperator().execute(hook),
        KeyWaitingSensor().poke(hook),
        hook._get_caller(),
    ]


@pytest.fixture
def provider_then_walk():
    """The provider's methods first, then the frame walk; the methods as they were afterwards."""
    saved = (AwsGenericHook.__dict__["_find_operator_class_name"], AwsGenericHook.__dict__["_find_executor_class_name"])
    AwsGenericHook._find_operator_class_name, AwsGenericHook._find_executor_class_name = PROVIDER
    yield
    AwsGenericHook._find_operator_class_name, AwsGenericHook._find_executor_class_name = saved


def test_the_frame_walk_names_the_same_callers_as_the_provider(provider_then_walk):
    assert {method.__func__.__module__ for method in PROVIDER} == {AwsGenericHook.__module__}  # captured unpatched
    hook = AwsGenericHook(aws_conn_id=None)
    by_provider = callers(hook)

    hook_caller.walk_frames()
    by_walk = callers(hook)

    assert by_walk == by_provider
    assert by_walk == ["CopyOperator", "CopyOperator|KeyWaitingSensor", "KeyWaitingSensor", "Unknown"]
    assert AwsGenericHook._find_operator_class_name is hook_caller.operator_class_name


def test_the_platforms_airflow_processes_start_with_the_walk_and_shared_models(tmp_path):
    from local_platform.platform import LocalPlatform

    env = LocalPlatform(state_dir=tmp_path).airflow_environment("postgresql://postgres@127.0.0.1:5432/postgres")
    probe = (
        "import airflow.settings, botocore.session, functools;"
        "from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook as Hook;"
        "print(Hook._find_operator_class_name.__module__, isinstance(botocore.session.create_loader, functools._lru_cache_wrapper))"
    )
    started = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )

    assert started.stdout.split() == ["local_platform.hook_caller", "True"]
