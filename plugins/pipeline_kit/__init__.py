"""Shared building blocks for the pipeline DAGs: alerting, default task arguments, loads, paths."""
