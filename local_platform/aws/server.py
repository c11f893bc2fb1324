"""Run moto's server on 127.0.0.1 with the compute extensions installed.

    python -m local_platform.aws.server --port 4566 --state-dir .local/aws [--postgres-dsn DSN] [--fresh]

moto's state is saved under ``<state-dir>/saved`` and restored at the next start (local_platform.aws.state).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path

from local_platform.aws.compute import ComputeConfig, install_all
from local_platform.aws.state import Persistence, StateError
from local_platform.botocore_models import share_loaders

HOST = "127.0.0.1"


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=HOST, help="127.0.0.1 unless inside a container's own network")
    parser.add_argument("--port", type=int, default=int(os.environ.get("LOCAL_AWS_PORT", "4566")))
    parser.add_argument("--state-dir", type=Path, default=Path(".local/aws"))
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--postgres-dsn", default=os.environ.get("LOCAL_AWS_POSTGRES_DSN"))
    parser.add_argument(
        "--namespace",
        default=os.environ.get("LOCAL_AWS_NAMESPACE", "local"),
        help="prefix of what the server creates outside itself, such as databases",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        default=os.environ.get("LOCAL_AWS_FRESH") == "1",
        help="delete the saved state and start empty (LOCAL_AWS_FRESH=1)",
    )
    parser.add_argument("--ephemeral", action="store_true", help="keep state in memory only, as moto does")
    parser.add_argument("--snapshot-interval", type=float, default=2.0, help="seconds between snapshots")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not port_is_free(args.port, args.host):
        print(f"local AWS: port {args.port} on {args.host} is already in use", file=sys.stderr)
        return 2
    args.state_dir.mkdir(parents=True, exist_ok=True)
    # moto reads these when it builds ARNs and default accounts.
    os.environ.setdefault("AWS_DEFAULT_REGION", args.region)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    # No EC2 instances run here: moto's 1,300 default images would only weigh on every state snapshot.
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    share_loaders()  # the crawlers, Glue's catalog and the Data API build clients per request
    config = ComputeConfig(
        endpoint_url=f"http://{HOST}:{args.port}",
        region=args.region,
        state_dir=args.state_dir.resolve(),
        postgres_dsn=args.postgres_dsn,
        namespace=args.namespace,
    )
    installed = install_all(config)
    persistence = None if args.ephemeral else Persistence(args.state_dir / "saved", args.snapshot_interval)
    try:
        if persistence:
            persistence.open(fresh=args.fresh)
    except StateError as exc:
        print(f"local AWS: {exc}", file=sys.stderr, flush=True)
        return 3

    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    if persistence:
        persistence.start()
    print(f"local AWS listening on {config.endpoint_url} (compute: {', '.join(installed) or 'none'})", flush=True)

    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    server.stop()
    if persistence:
        persistence.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
