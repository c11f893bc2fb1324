"""Airflow imports this module itself when any of the local platform's Airflow processes starts (this folder comes
first on their PYTHONPATH); the task processes forked from them inherit it. Not part of the package MWAA runs."""

from local_platform.botocore_models import share_loaders
from local_platform.hook_caller import walk_frames
from local_platform.param_schemas import check_schemas_once

share_loaders()
walk_frames()
check_schemas_once()
