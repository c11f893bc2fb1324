"""What saving the local AWS server's state costs (local_platform/aws/state), measured in one run:

1. the snapshot after a 1M-row CSV object (~40 MB) is put, after a few hundred small objects, and the steady
   one (no new object bodies) of the resulting state: total time, and the pause — how long requests that
   change state waited for the pickling;
2. request latency of small PUTs while snapshots run, against the same on a server started ``--ephemeral``
   (no snapshots), median and worst;
3. a stop (final snapshot) and a start that restores it, against a start with nothing to restore.

Starts its own servers in a temporary folder (no PostgreSQL needed).

    python benchmarks/aws_state_snapshot.py [--rows 1000000] [--objects 300] [--puts 300]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT_ROOT)]

from benchmarks.support.headline import headline  # noqa: E402  (needs the project root on sys.path)

STATUS_PATH = "/_local_aws/state"


def csv_body(rows: int) -> bytes:
    lines = ["order_id,order_date,store_id,product_id,quantity,unit_price"]
    lines += [
        f"{n},2024-03-{n % 28 + 1:02d},S{n % 97:03d},P{n % 5003:05d},{n % 9 + 1},{(n % 1000) / 10 + 0.99:.2f}"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def saved(server) -> dict:
    """Wait for the snapshot that covers every change so far; return the server's snapshot status."""
    target = requests.get(server.endpoint + STATUS_PATH, timeout=5).json()["generation"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = requests.get(server.endpoint + STATUS_PATH, timeout=5).json()
        if status["saved_generation"] >= target:
            return status
        time.sleep(0.05)
    raise RuntimeError(f"no snapshot covered generation {target}")


def put_latencies(server, bucket: str, puts: int) -> list[float]:
    s3 = server.client("s3")
    samples = []
    for n in range(puts):
        started = time.perf_counter()
        s3.put_object(Bucket=bucket, Key=f"latency/{n}.json", Body=b'{"n": %d}' % n)
        samples.append(time.perf_counter() - started)
    return samples


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def start(folder: Path, *args: str):
    from tests.helpers.platform import start_local_aws

    started = time.perf_counter()
    server = start_local_aws(folder, "", f"b{uuid.uuid4().hex[:6]}", args)
    return server, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--objects", type=int, default=300)
    parser.add_argument("--puts", type=int, default=300)
    args = parser.parse_args()
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(key, value)
    from local_platform.provision import provision

    work = Path(tempfile.mkdtemp(prefix="state-bench-"))
    body = csv_body(args.rows)
    server, empty_start = start(work / "aws")
    try:
        provision(server.endpoint)  # the platform's usual state: every stack deployed
        s3 = server.client("s3")
        s3.create_bucket(Bucket="bench-lake")
        print(f"Snapshots ({args.rows:,}-row CSV of {len(body) / 1e6:.1f} MB, then {args.objects} objects):")
        s3.put_object(Bucket="bench-lake", Key="big/orders.csv", Body=body)
        status = saved(server)
        print(
            f"  after the big object         {status['last_duration_s'] * 1000:8.0f} ms, requests paused "
            f"{status['last_pause_s'] * 1000:6.1f} ms"
        )
        for n in range(args.objects):
            s3.put_object(Bucket="bench-lake", Key=f"small/{n:04d}.csv", Body=body[n * 4096 : (n + 1) * 4096])
        status = saved(server)
        print(
            f"  after {args.objects} small objects       {status['last_duration_s'] * 1000:8.0f} ms, "
            f"requests paused {status['last_pause_s'] * 1000:6.1f} ms"
        )
        s3.put_object(Bucket="bench-lake", Key="one-more.csv", Body=b"a,b\n1,2\n")
        status = saved(server)
        steady_pause = status["last_pause_s"]
        print(
            f"  steady (no new bodies)       {status['last_duration_s'] * 1000:8.0f} ms, requests paused "
            f"{steady_pause * 1000:6.1f} ms; pickled state {status['last_bytes'] / 1e6:.1f} MB, every "
            f"{status['interval_s']:.0f} s while changes come: {steady_pause / status['interval_s']:.1%} "
            f"of the time paused"
        )
        with_snapshots = put_latencies(server, "bench-lake", args.puts)
        server.stop()
        final = re.search(r"state saved on stop in .* \(([0-9.]+) s\)", server.log_path.read_text()).group(1)
        saved_bytes = folder_bytes(work / "aws" / "saved")
        server, restoring_start = start(work / "aws")
        restored = requests.get(server.endpoint + STATUS_PATH, timeout=5).json()["restored"]
        assert restored["counts"]["s3"]["objects"] >= args.objects + 1 + args.puts, restored
    finally:
        server.stop()
    ephemeral, _ = start(work / "ephemeral", "--ephemeral")
    try:
        ephemeral.client("s3").create_bucket(Bucket="bench-lake")
        without = put_latencies(ephemeral, "bench-lake", args.puts)
    finally:
        ephemeral.stop()

    print(f"Small PUT latency, {args.puts} in a row:")
    for label, samples in (("snapshots on", with_snapshots), ("--ephemeral", without)):
        print(f"  {label:<14} median {statistics.median(samples) * 1000:6.1f} ms, worst {max(samples) * 1000:6.1f} ms")
    print(
        f"  ratio of medians {statistics.median(with_snapshots) / statistics.median(without):.2f}x, of worsts "
        f"{max(with_snapshots) / max(without):.2f}x"
    )
    print("Restart:")
    print(f"  final snapshot on SIGTERM    {float(final):6.2f} s")
    print(f"  start with nothing saved     {empty_start:6.2f} s")
    print(
        f"  start restoring the above    {restoring_start:6.2f} s ({restored['seconds']:.2f} s of it "
        f"restoring; {saved_bytes / 1e6:.1f} MB on disk)   ratio {restoring_start / empty_start:.2f}x"
    )
    headline(
        __file__,
        measures="small PUT latency with state snapshots on vs `--ephemeral`; a restart restoring the "
        "saved state vs an empty start",
        result=f"PUT median {statistics.median(with_snapshots) / statistics.median(without):.2f}× ephemeral; "
        f"restart {restoring_start / empty_start:.2f}× an empty start ({saved_bytes / 1e6:.1f} MB restored)",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
