"""Command line of the local platform.

    python -m local_platform up        start PostgreSQL and local AWS, deploy the stacks, prepare Airflow
    python -m local_platform demo      up, then run every pipeline end to end through Airflow's scheduler and
                                       print a summary (Airflow keeps running: its UI shows the runs)
    python -m local_platform ui        up, then start Airflow (UI, scheduler, dag-processor, triggerer, Celery
                                       workers) on 127.0.0.1

up, demo and ui take --secrets-backend: Airflow then reads its connections and variables from the local
Secrets Manager through the secrets backend the MWAA environment uses (local_platform/secrets_backend.py).
    python -m local_platform status    what is running
    python -m local_platform down      stop everything this platform started
"""

from __future__ import annotations

import argparse
import sys

from deploy.pipelines import names
from local_platform.platform import LocalPlatform, PlatformError

DEMO_PIPELINES = names()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_platform", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    secrets_help = "connections and variables from the local Secrets Manager, as on MWAA (default: env variables)"
    sub.add_parser("up").add_argument("--secrets-backend", action="store_true", help=secrets_help)
    sub.add_parser("down")
    sub.add_parser("status")
    sub.add_parser("ui").add_argument("--secrets-backend", action="store_true", help=secrets_help)
    demo_parser = sub.add_parser("demo")
    demo_parser.add_argument("--secrets-backend", action="store_true", help=secrets_help)
    demo_parser.add_argument("pipelines", nargs="*", help=f"default: all of {', '.join(DEMO_PIPELINES)}")
    args = parser.parse_args(argv)
    if args.command == "demo":
        unknown = sorted(set(args.pipelines) - set(DEMO_PIPELINES))
        if unknown:
            parser.error(f"unknown pipeline(s) {', '.join(unknown)}; choose from {', '.join(DEMO_PIPELINES)}")
        args.pipelines = args.pipelines or list(DEMO_PIPELINES)

    platform = LocalPlatform(secrets_backend=getattr(args, "secrets_backend", False) or None)
    try:
        if args.command == "up":
            platform.up()
            for name, where in platform.status().items():
                print(f"{name:<12} {where}")
            print(f"Airflow environment: source {platform.state_dir / 'airflow.env'}")
        elif args.command == "down":
            stopped = platform.down()
            print("stopped: " + (", ".join(stopped) or "nothing was running"))
        elif args.command == "status":
            for name, where in platform.status().items():
                print(f"{name:<12} {where}")
        elif args.command == "ui":
            platform.start_airflow(platform.up())
            print(
                f"Airflow UI on {platform.ui_url}: no login, every visitor is admin (it listens on 127.0.0.1 "
                "only); stop with: make down"
            )
        elif args.command == "demo":
            from local_platform.demo.runner import run_demo

            return run_demo(platform, args.pipelines)
    except PlatformError as exc:
        print(f"local platform: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
