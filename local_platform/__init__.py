"""Local platform: AWS emulated on loopback (moto plus real compute), PostgreSQL, and Airflow.

Nothing under ``dags/``, ``plugins/`` or ``include/`` imports this package: the DAGs reach the
local platform only through Airflow connections and variables.
"""
