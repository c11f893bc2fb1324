"""The local server's compute extensions are installed from one list, and a wrong entry stops the server loudly
instead of leaving a service to moto's canned answers."""

from __future__ import annotations

import importlib

import pytest

from local_platform.aws.compute import INSTALLERS, ComputeConfig, InstallerError, install_all


@pytest.fixture
def config(tmp_path):
    return ComputeConfig(endpoint_url="http://127.0.0.1:1", region="us-east-1", state_dir=tmp_path, postgres_dsn=None)


def test_every_listed_installer_imports_and_has_an_install_function():
    for name in INSTALLERS:
        assert callable(importlib.import_module(name).install), name


def test_a_misspelt_installer_fails_naming_it(config):
    with pytest.raises(InstallerError, match="local_platform.aws.compute.redshfit_data cannot be installed"):
        install_all(config, ("local_platform.aws.compute.redshfit_data",))


def test_a_module_without_install_fails_naming_it(config):
    with pytest.raises(InstallerError, match="local_platform.aws.compute.schema_inference cannot be installed"):
        install_all(config, ("local_platform.aws.compute.schema_inference",))


def test_an_installer_that_raises_fails_naming_it_and_its_cause(config, tmp_path, monkeypatch):
    (tmp_path / "broken_extension.py").write_text("def install(config):\n    raise RuntimeError('no backend')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(InstallerError, match="broken_extension failed to install: no backend"):
        install_all(config, ("broken_extension",))
