"""Serve the local copy of the cafef.vn history page: ``python -m local_platform.fake_sites.cafef_history --port P``."""

from __future__ import annotations

import argparse
import signal
import threading

from local_platform.fake_sites.cafef_history import FakeCafef


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    with FakeCafef(args.port) as site:
        print(f"fake cafef.vn history page at {site.url}", flush=True)
        stopped.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
