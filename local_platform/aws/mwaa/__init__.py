"""A minimal Amazon MWAA API for the local server: Create/Get/Update/Delete/ListEnvironments.

moto 5.2.5 has no MWAA service, so moto's dispatcher would send these requests (signed for ``airflow``) to
S3. ``install`` puts this package's WSGI application in front: a request whose SigV4 credential scope names
``airflow`` goes to ``responses.application``, everything else to moto as before. State lives in
``models.py`` (in-process, so ``AWS::MWAA::Environment`` in a CloudFormation stack creates the same
environment the API shows).

botocore prefixes MWAA's host with ``api.`` (``api.127.0.0.1`` does not resolve): create the client with
``botocore.config.Config(inject_host_prefix=False)`` or set ``AWS_DISABLE_HOST_PREFIX_INJECTION=true``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local_platform.aws.compute import ComputeConfig


def install(config: ComputeConfig) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    from local_platform.aws.mwaa.responses import SIGNING_NAME, application, signing_service

    original = DomainDispatcherApplication.get_application
    if getattr(original, "local_mwaa", False):
        return

    def get_application(self, environ):
        if signing_service(environ) == SIGNING_NAME:
            return application
        return original(self, environ)

    get_application.local_mwaa = True
    DomainDispatcherApplication.get_application = get_application
