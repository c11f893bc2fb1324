"""Airflow imports this module itself when any of the local platform's Airflow processes starts (this folder comes
first on their PYTHONPATH); the task processes forked from them inherit it. Not part of the package MWAA runs."""

from local_platform.botocore_models import share_loaders
from local_platform.hook_caller import walk_frames

share_loaders()
walk_frames()
