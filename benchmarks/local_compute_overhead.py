"""What the local platform adds per Lambda invoke and per Glue job run, measured in one run:

1. Lambda: a trivial handler invoked through the local server (Invoke -> subprocess -> payload) against
   the same handler called in-process, and against a bare ``python`` start (the floor of any subprocess);
2. Glue: a trivial PySpark script run as a job (StartJobRun -> polled GetJobRun until SUCCEEDED) in the
   server's warm Spark driver, against the same job on a server with LOCAL_GLUE_WARM=0 (a new process and JVM
   per run), and against the script run directly with ``python script.py``.

Starts its own two local AWS servers (warm and cold) and PostgreSQL (or uses LOCAL_POSTGRES_DSN/PGHOST) in a
temporary folder.

    python benchmarks/local_compute_overhead.py [--invokes 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(PROJECT_ROOT)]

HANDLER = """
def handler(event, context):
    return {"n": event["n"] + 1}
"""
SCRIPT = """
import sys
from pyspark.sql import SparkSession

spark = (SparkSession.builder.master("local[2]").appName(sys.argv[0]).config("spark.ui.enabled", "false")
         .getOrCreate())
assert spark.range(1000).count() == 1000
spark.stop()
"""
ROLE = "arn:aws:iam::123456789012:role/benchmark"


def timed(action, repeat: int) -> float:
    """Median seconds of ``action()`` over ``repeat`` calls, after one warm-up call."""
    action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def lambda_overhead(server, work: Path, invokes: int) -> tuple[float, float]:
    """Median seconds of an invoke through the server and of a bare python start."""
    from deploy.lambda_zips import zip_folder

    code = work / "trivial"
    code.mkdir()
    (code / "trivial.py").write_text(HANDLER)
    client = server.client("lambda")
    name = f"trivial-{uuid.uuid4().hex[:6]}"
    client.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="trivial.handler",
        Code={"ZipFile": zip_folder(code)},
        Timeout=30,
    )

    def invoke():
        response = client.invoke(FunctionName=name, Payload=json.dumps({"n": 1}))
        assert json.loads(response["Payload"].read()) == {"n": 2}, response

    spec = importlib.util.spec_from_file_location("trivial", code / "trivial.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    through_server = timed(invoke, invokes)
    in_process = timed(lambda: module.handler({"n": 1}, None), invokes)
    bare_python = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), invokes)
    print(f"Lambda invoke, median of {invokes}:")
    print(f"  through the local server   {through_server * 1000:10.1f} ms")
    print(f"  handler called in-process  {in_process * 1000:10.4f} ms   ratio {through_server / in_process:,.0f}x")
    print(f"  bare python start          {bare_python * 1000:10.1f} ms   ratio {through_server / bare_python:.1f}x")
    return through_server, bare_python


def glue_overhead(warm_server, cold_server, work: Path, runs: int) -> tuple[float, float, float]:
    """Median seconds of a trivial job run: warm driver, LOCAL_GLUE_WARM=0, the script run directly."""
    script = work / "trivial_job.py"
    script.write_text(SCRIPT)

    def job_runner(server):
        server.client("s3").create_bucket(Bucket="benchmark-scripts")
        server.client("s3").upload_file(str(script), "benchmark-scripts", "trivial_job.py")
        glue = server.client("glue")
        name = f"trivial-{uuid.uuid4().hex[:6]}"
        glue.create_job(
            Name=name, Role=ROLE, Command={"Name": "glueetl", "ScriptLocation": "s3://benchmark-scripts/trivial_job.py"}
        )

        def run_job():
            run_id = glue.start_job_run(JobName=name)["JobRunId"]
            while (run := glue.get_job_run(JobName=name, RunId=run_id)["JobRun"])["JobRunState"] == "RUNNING":
                time.sleep(0.05)
            assert run["JobRunState"] == "SUCCEEDED", run

        return run_job

    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}

    def run_directly():
        subprocess.run([sys.executable, str(script)], check=True, env=env, capture_output=True)

    warm, cold = job_runner(warm_server), job_runner(cold_server)
    warm()  # the warm driver's first Spark run starts its JVM; the runs measured are the ones after it
    # Alternated, so that a change in the machine's load affects every side alike.
    samples = {warm: [], cold: [], run_directly: []}
    for _ in range(runs):
        for action, times in samples.items():
            started = time.perf_counter()
            action()
            times.append(time.perf_counter() - started)
    through_warm, through_cold, direct = (statistics.median(times) for times in samples.values())
    print(f"Glue job run (trivial PySpark script), median of {runs}:")
    print(f"  StartJobRun -> SUCCEEDED, warm driver          {through_warm:8.2f} s")
    print(
        f"  StartJobRun -> SUCCEEDED, LOCAL_GLUE_WARM=0    {through_cold:8.2f} s   "
        f"ratio cold/warm {through_cold / through_warm:.1f}x"
    )
    print(
        f"  python script.py directly                      {direct:8.2f} s   "
        f"ratio direct/warm {direct / through_warm:.1f}x"
    )
    return through_warm, through_cold, direct


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invokes", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(key, value)

    from tests.helpers.platform import ensure_role, start_local_aws, start_postgres

    work = Path(tempfile.mkdtemp(prefix="compute-bench-"))
    dsn, stop_postgres = start_postgres(work / "postgres")
    server = start_local_aws(work / "aws", dsn, f"b{uuid.uuid4().hex[:6]}")
    os.environ["LOCAL_GLUE_WARM"] = "0"
    cold_server = start_local_aws(work / "aws-cold", dsn, f"b{uuid.uuid4().hex[:6]}")
    try:
        for each in (server, cold_server):
            ensure_role(each, ROLE)
        invoke, bare_python = lambda_overhead(server, work, args.invokes)
        warm, cold, direct = glue_overhead(server, cold_server, work, args.runs)
    finally:
        server.stop()
        cold_server.stop()
        stop_postgres()
    from benchmarks.support.headline import headline

    headline(
        __file__,
        measures="a trivial Lambda invoke through the local server beside a bare Python start; a trivial "
        "PySpark Glue job run (StartJobRun → SUCCEEDED) in the server's warm driver beside "
        "`LOCAL_GLUE_WARM=0` (a process and JVM per run) and the script run directly",
        result=f"Lambda {invoke:.2f} s per invoke ({invoke / bare_python:.1f}× a bare Python start); Glue job run "
        f"{warm:.2f} s warm vs {cold:.1f} s cold: {cold / warm:.1f}× faster (target ≤ 2 s; the script run "
        f"directly {direct:.1f} s)",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
