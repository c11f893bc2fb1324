"""How often an operator or sensor asks AWS whether its work is done: a setting, not a code edit.

Each DAG states the interval that suits AWS for each wait (a Glue job: seconds; a day's drop: minutes).
``[pipelines] poll_interval_seconds`` overrides them all: the local platform sets it to 1 s, where every
service answers at once. On MWAA it is unset (or set as the custom configuration option
``pipelines.poll_interval_seconds``). Read from Airflow's configuration when the DAG is parsed: no network.
"""

from __future__ import annotations

from airflow.sdk import conf


def poll_interval(aws_seconds: int) -> int:
    """``aws_seconds``, unless ``[pipelines] poll_interval_seconds`` sets one interval for every wait."""
    return conf.getint("pipelines", "poll_interval_seconds", fallback=aws_seconds)
