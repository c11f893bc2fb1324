"""The local platform's AWS resources: the CloudFormation stacks of ``deploy/cloudformation/`` deployed to the
local endpoint (the same templates as on AWS, with ``NameSuffix=local`` and the scraper as a zip), then the one
local-only addition: an SQS queue ``<topic>-inbox`` subscribed to the alerts topic, so that tests and the demo
can read the alerts back. Idempotent.

    python -m local_platform.provision --endpoint-url URL [--wait SECONDS] [stack ...]

(``--wait``: first wait that long for the endpoint to answer, as a container started beside it must.)
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from deploy.stacks import DEFAULT_STACKS, STACKS, Deployer, session_for

INBOX_SUFFIX = "-inbox"


def provision(
    endpoint_url: str, stacks: list[str] | tuple[str, ...] = DEFAULT_STACKS, log: Callable[[str], None] = lambda _: None
) -> dict[str, dict[str, str]]:
    """Deploy ``stacks`` (with the shared one) to ``endpoint_url`` and subscribe the alerts inbox; return the
    stacks' outputs."""
    keys = ["shared", *[key for key in stacks if key != "shared"]]
    outputs = Deployer(endpoint_url=endpoint_url, log=log).deploy(keys)
    subscribe_inbox(endpoint_url, outputs["shared"]["AlertsTopicArn"])
    return outputs


def subscribe_inbox(endpoint_url: str, topic_arn: str) -> str:
    """An SQS queue named after the topic, subscribed to it once; returns the queue's URL."""
    session = session_for(endpoint_url)
    sns, sqs = (session.client(service, endpoint_url=endpoint_url) for service in ("sns", "sqs"))
    queue_url = sqs.create_queue(QueueName=topic_arn.rsplit(":", 1)[-1] + INBOX_SUFFIX)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    if not any(subscription["Endpoint"] == queue_arn for subscription in subscriptions):
        sns.subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "false"}
        )
    return queue_url


def wait_for_endpoint(endpoint_url: str, timeout_s: float) -> None:
    import time
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(f"{endpoint_url}/moto-api/", timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise SystemExit(f"{endpoint_url} did not answer within {timeout_s:.0f}s") from None
            time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stacks", nargs="*", help=f"of {', '.join(STACKS)} (default: shared and every pipeline)")
    parser.add_argument("--endpoint-url", required=True, help="the local platform's AWS endpoint")
    parser.add_argument("--wait", type=float, default=0, help="seconds to wait for the endpoint to answer")
    args = parser.parse_args(argv)
    if args.wait:
        wait_for_endpoint(args.endpoint_url, args.wait)
    provision(args.endpoint_url, args.stacks or DEFAULT_STACKS, log=print)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
