"""The local platform's MWAA way of giving Airflow its connections and variables: from Secrets Manager (the local
one), through the secrets backend and the settings the MWAA environment uses (``deploy/cloudformation/mwaa.yaml``'s
``AirflowConfigurationOptions``, read from there); only the endpoint differs.

- variables: ``airflow/variables/<name>``, written by the CloudFormation stacks, as on AWS;
- connections: ``airflow/connections/<conn_id>`` for every connection the backend looks up, written here with
  the local platform's addresses (on AWS ``deploy.stacks`` writes them from the stacks' outputs);
- connections the backend's lookup pattern leaves out (``aws_default``: on MWAA, the execution role's) stay
  environment variables, as MWAA keeps them in its own store.

Used by ``python -m local_platform up --secrets-backend`` (and demo, ui) and by the tests that run a pipeline so.
"""

from __future__ import annotations

import json
import re

from deploy.templates import load_template
from local_platform.settings import PlatformEndpoints, connection_env, local_connections


def mwaa_options() -> dict[str, str]:
    """The MWAA environment's Airflow configuration options, from its template."""
    resources = load_template("mwaa")["Resources"].values()
    [environment] = [resource for resource in resources if resource["Type"] == "AWS::MWAA::Environment"]
    return environment["Properties"]["AirflowConfigurationOptions"]


def backend_kwargs() -> dict:
    return json.loads(mwaa_options()["secrets.backend_kwargs"])


def looked_up(conn_id: str, kwargs: dict | None = None) -> bool:
    """Whether the backend asks Secrets Manager for this connection (its lookup pattern, if any)."""
    pattern = (kwargs or backend_kwargs()).get("connections_lookup_pattern")
    return pattern is None or re.match(pattern, conn_id) is not None


def publish_connections(endpoints: PlatformEndpoints, session) -> list[str]:
    """Write ``airflow/connections/<conn_id>`` for each connection the backend looks up; return the secret names."""
    kwargs = backend_kwargs()
    client = session.client("secretsmanager", endpoint_url=endpoints.aws_endpoint)
    names = []
    for conn_id, conn in local_connections(endpoints).items():
        if not looked_up(conn_id, kwargs):
            continue
        name = f"{kwargs['connections_prefix']}/{conn_id}"
        try:
            client.put_secret_value(SecretId=name, SecretString=json.dumps(conn))
        except client.exceptions.ResourceNotFoundException:
            client.create_secret(Name=name, SecretString=json.dumps(conn))
        names.append(name)
    return names


def airflow_env(endpoints: PlatformEndpoints) -> dict[str, str]:
    """Environment that makes Airflow read connections and variables as MWAA does, from the local endpoint."""
    options = mwaa_options()
    kwargs = backend_kwargs()
    kept = {conn_id: conn for conn_id, conn in local_connections(endpoints).items() if not looked_up(conn_id, kwargs)}
    return {
        "AIRFLOW__SECRETS__BACKEND": options["secrets.backend"],
        "AIRFLOW__SECRETS__BACKEND_KWARGS": options["secrets.backend_kwargs"],
        # Per-key additions to the kwargs above (Airflow 3's AIRFLOW__SECRETS__BACKEND_KWARG__<KEY>): where to.
        "AIRFLOW__SECRETS__BACKEND_KWARG__ENDPOINT_URL": endpoints.aws_endpoint,
        "AIRFLOW__SECRETS__BACKEND_KWARG__REGION_NAME": "us-east-1",
        **connection_env(kept),
    }
