"""Command line of the local platform.

    python -m local_platform up        start PostgreSQL and local AWS, deploy the stacks, prepare Airflow
    python -m local_platform demo      up, then run every pipeline end to end and print a summary
    python -m local_platform ui        up, then start the Airflow UI on 127.0.0.1

up, demo and ui take --secrets-backend: Airflow then reads its connections and variables from the local
Secrets Manager through the secrets backend the MWAA environment uses (local_platform/secrets_backend.py).
    python -m local_platform status    what is running
    python -m local_platform down      stop everything this platform started
"""

from __future__ import annotations

import argparse
import importlib
import sys

from deploy.pipelines import names
from local_platform.platform import NAMESPACE, LocalPlatform, PlatformError
from local_platform.settings import variables

DEMO_PIPELINES = names()


def _demo_context(platform: LocalPlatform, env: dict[str, str]):
    from local_platform.demo import DemoContext

    return DemoContext(endpoint=platform.aws_endpoint, postgres_dsn=platform.postgres_dsn(),
                       databases=platform.databases(), env=env, variables=variables(), namespace=NAMESPACE,
                       state_dir=platform.state_dir)


def results_summary(ctx, alerts: list[dict]) -> str:
    """The runs' charts (downloaded, with an index page under <state dir>/demo/) and AWS costs, from their alerts."""
    from local_platform.demo.report import collect_results, summary_lines, write_index

    results = collect_results(alerts)
    return "\n".join(summary_lines(results, write_index(ctx.client("s3"), results, ctx.state_dir / "demo")))


def demo(platform: LocalPlatform, pipelines: list[str]) -> int:
    from local_platform.demo import format_summary, run_scenario

    env = platform.up()
    ctx = _demo_context(platform, env)
    outcomes = []
    for pipeline in pipelines:
        scenario = importlib.import_module(f"local_platform.demo.{pipeline}").SCENARIO
        print(f"== {pipeline}: running {scenario.dag_id} for {', '.join(scenario.dates)}", flush=True)
        outcomes.append(run_scenario(scenario, ctx))
    print()
    print(format_summary(outcomes))
    print()
    print(results_summary(ctx, [alert for outcome in outcomes for alert in outcome.alerts]))
    print(f"\nAirflow environment: source {platform.state_dir / 'airflow.env'}; UI: make ui; stop: make down")
    return 0 if all(outcome.ok for outcome in outcomes) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_platform", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
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
            platform.start_ui(platform.up())
            print(f"Airflow UI on http://127.0.0.1:{platform.ui_port} (stop with: make down)")
        elif args.command == "demo":
            return demo(platform, args.pipelines)
    except PlatformError as exc:
        print(f"local platform: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
