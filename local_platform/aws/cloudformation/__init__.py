"""CloudFormation on the local server: the same templates as on AWS, deployed to moto's CloudFormation.

moto 5.2.5 creates S3, SNS, SQS, IAM, Lambda, EC2, ECR, RDS instances and subnet groups, Logs, Redshift...
from a template, but not the other types the stacks in ``deploy/cloudformation/`` use, and it skips an
unknown type with a warning. ``install`` teaches it, one module per service like moto itself:

- ``glue.py``: ``AWS::Glue::Database``, ``AWS::Glue::Crawler``, ``AWS::Glue::Job`` (in moto's Glue backend, so
  a crawler or job a stack creates is the one the compute extensions run).
- ``rds.py``: ``AWS::RDS::DBCluster`` (moto's RDS backend, so RdsStart/StopDbOperator work on it), and
  ``AWS::RDS::DBInstance`` members of a cluster (``DBClusterIdentifier``), which moto's own handler mishandles.
- ``secretsmanager.py``: ``AWS::SecretsManager::Secret`` with ``SecretString`` or ``GenerateSecretString``.
- ``redshift_serverless.py``: ``AWS::RedshiftServerless::Namespace`` / ``Workgroup`` (records: moto has no
  Redshift Serverless; the Redshift Data API extension runs SQL for any workgroup name).
- ``mwaa.py``: ``AWS::MWAA::Environment`` (``local_platform.aws.mwaa``'s backend).
- ``sns.py``: ``AWS::SNS::Subscription``.
- ``awslambda.py``: ``AWS::Lambda::EventInvokeConfig`` (how asynchronous invocations are retried), and
  ``AWS::Lambda::LayerVersion`` as AWS has it (Ref is the version's ARN; a changed version is replaced), and a
  function's ``Layers``.
- ``s3.py`` and ``iam.py``: properties moto's own handlers ignore and our templates rely on (a bucket's public
  access block, lifecycle and versioning; a role's ``ManagedPolicyArns`` and changed inline policies).
- ``stacks.py``: what a stack does as a whole: an unknown or misspelt type fails the call as AWS's template
  validation does ("Unrecognized resource types"); a resource that fails to create rolls the stack back
  (``ROLLBACK_COMPLETE``), to update rolls it back to the previous template (``UPDATE_ROLLBACK_COMPLETE``), to
  delete leaves it ``DELETE_FAILED``, each with the error as ``StackStatusReason``; dynamic references
  (``{{resolve:secretsmanager:...}}``, ``{{resolve:ssm:...}}``) are resolved; ``!GetAtt A.B.C`` means attribute
  ``B.C`` of ``A``, as on AWS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local_platform.aws.compute import ComputeConfig


def install(config: ComputeConfig) -> None:
    from moto.cloudformation import parsing

    from local_platform.aws.cloudformation import (  # noqa: F401  (defining the models registers them)
        awslambda,
        glue,
        iam,
        mwaa,
        rds,
        redshift_serverless,
        s3,
        secretsmanager,
        sns,
        stacks,
    )

    awslambda.install()
    rds.install()
    s3.install()
    iam.install()
    stacks.install()
    # moto builds its type -> model map once from CloudFormationModel's subclasses: rebuild it with ours.
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
