"""Glue job runs in the server's warm Spark drivers (local_platform/aws/compute/glue_warm.py): runs that share a
driver share nothing else, a run that ends its driver fails alone, and LOCAL_GLUE_WARM=0 brings back a process
per run."""

from __future__ import annotations

import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers.platform import start_local_aws
from tests.platform.glue_helpers import BUCKET, create_job, read_json, upload_scripts, wait_for_run

pytestmark = pytest.mark.skipif(os.environ.get("LOCAL_GLUE_WARM") == "0", reason="warm Glue drivers switched off")
CLEAN = {
    "marker_conf": None,
    "shuffle_partitions": "200",
    "temp_view": False,
    "global_temp_view": False,
    "udf": False,
    "table": False,
    "cached": False,
    "helper_imports": 1,
    "leftover_module": False,
    "env": None,
}


@pytest.fixture(scope="module")
def glue(local_aws):
    return upload_scripts(local_aws)


def helper_version(local_aws, offset: int) -> str:
    """A leak_helper.py whose UDF adds ``offset``, uploaded under its own prefix; returns its URI."""
    key = f"helpers/{uuid.uuid4().hex[:8]}/leak_helper.py"
    local_aws.client("s3").put_object(
        Bucket=BUCKET,
        Key=key,
        Body=(f"imports = 0\n\n\ndef plus_offset(value):\n    return value + {offset}\n").encode(),
    )
    return f"s3://{BUCKET}/{key}"


def start_leaky_run(local_aws, glue, job: str, marker: str, helper_offset: int) -> tuple[str, str]:
    report_uri = f"s3://{BUCKET}/reports/{job}-{marker}.json"
    run_id = glue.start_job_run(
        JobName=job,
        Arguments={
            "--marker": marker,
            "--report_uri": report_uri,
            "--extra-py-files": helper_version(local_aws, helper_offset),
        },
    )["JobRunId"]
    return run_id, report_uri


def run_log(local_aws, job: str, run_id: str) -> str:
    return (local_aws.state_dir / "glue" / job / f"{run_id}.log").read_text()


def printed_pid(local_aws, job: str, run_id: str) -> int:
    return int(re.search(r"^pid (\d+)$", run_log(local_aws, job, run_id), re.MULTILINE).group(1))


@pytest.mark.spark
def test_a_run_sees_nothing_an_earlier_run_in_the_same_driver_left_behind(local_aws, glue):
    job = create_job(glue, "leaves_state_behind.py")
    reports = []
    for marker, offset in (("first", 10), ("second", 20)):
        run_id, report_uri = start_leaky_run(local_aws, glue, job, marker, offset)
        run = wait_for_run(glue, job, run_id, timeout_s=300)
        assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
        reports.append((run_id, read_json(local_aws, report_uri)))

    (first_id, first), (second_id, second) = reports
    assert second["driver_pid"] == first["driver_pid"], "both runs should have had the same warm driver"
    for run_id, seen in reports:
        assert {key: seen[key] for key in CLEAN} == CLEAN
        assert seen["cwd"].endswith(run_id)
        assert seen["argv"][:4] == ["--JOB_NAME", job, "--JOB_RUN_ID", run_id]
    assert second["root_handlers"] == first["root_handlers"]
    # Spark's Python workers import each run's own version of a module shipped with --extra-py-files.
    assert (first["helper_udf"], second["helper_udf"]) == (10, 20)
    assert "marker second" in run_log(local_aws, job, second_id)
    assert "marker first" not in run_log(local_aws, job, second_id)


@pytest.mark.spark
def test_concurrent_runs_each_get_a_driver_of_their_own(local_aws, glue):
    jobs = [create_job(glue, "leaves_state_behind.py") for _ in range(2)]
    started = [start_leaky_run(local_aws, glue, job, f"concurrent{index}", index) for index, job in enumerate(jobs)]

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda job, run: wait_for_run(glue, job, run[0], timeout_s=300), jobs, started))

    assert [run["JobRunState"] for run in runs] == ["SUCCEEDED", "SUCCEEDED"], [r.get("ErrorMessage") for r in runs]
    reports = [read_json(local_aws, report_uri) for _, report_uri in started]
    assert reports[0]["driver_pid"] != reports[1]["driver_pid"]
    for index, (job, (run_id, _), seen) in enumerate(zip(jobs, started, reports, strict=True)):
        assert {key: seen[key] for key in CLEAN} == CLEAN
        assert seen["helper_udf"] == index
        log = run_log(local_aws, job, run_id)
        assert f"marker concurrent{index}" in log and f"marker concurrent{1 - index}" not in log


@pytest.mark.parametrize(
    ("how", "code", "message"),
    [
        ("raise", "0", "RuntimeError: the script gave up"),
        ("sys_exit", "3", "Script exited with code 3"),
    ],
)
def test_a_script_that_raises_or_exits_fails_its_run_and_the_driver_serves_the_next(
    local_aws, glue, how, code, message
):
    job = create_job(glue, "ends_as_told.py")

    failed_id = glue.start_job_run(JobName=job, Arguments={"--how": how, "--code": code})["JobRunId"]
    failed = wait_for_run(glue, job, failed_id)
    next_id = glue.start_job_run(JobName=job, Arguments={"--how": "return"})["JobRunId"]
    succeeded = wait_for_run(glue, job, next_id)

    assert failed["JobRunState"] == "FAILED"
    assert failed["ErrorMessage"] == message
    assert succeeded["JobRunState"] == "SUCCEEDED", succeeded.get("ErrorMessage")
    assert printed_pid(local_aws, job, next_id) == printed_pid(local_aws, job, failed_id)


def test_sys_exit_zero_succeeds(glue):
    job = create_job(glue, "ends_as_told.py")

    run = wait_for_run(glue, job, glue.start_job_run(JobName=job, Arguments={"--how": "sys_exit"})["JobRunId"])

    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")


def test_a_script_that_ends_its_driver_fails_its_run_and_the_next_run_gets_a_new_driver(local_aws, glue):
    job = create_job(glue, "ends_as_told.py")

    crashed_id = glue.start_job_run(JobName=job, Arguments={"--how": "os_exit", "--code": "7"})["JobRunId"]
    crashed = wait_for_run(glue, job, crashed_id)
    next_id = glue.start_job_run(JobName=job, Arguments={"--how": "return"})["JobRunId"]
    succeeded = wait_for_run(glue, job, next_id, timeout_s=300)

    assert crashed["JobRunState"] == "FAILED"
    assert crashed["ErrorMessage"] == (
        "Script exited with code 7 (the warm Spark driver running it ended; the next run starts a new one)"
    )
    assert succeeded["JobRunState"] == "SUCCEEDED", succeeded.get("ErrorMessage")
    assert printed_pid(local_aws, job, next_id) != printed_pid(local_aws, job, crashed_id)


@pytest.mark.own_server
def test_local_glue_warm_0_runs_each_job_in_a_process_of_its_own(tmp_path, postgres_server_dsn, monkeypatch):
    monkeypatch.setenv("LOCAL_GLUE_WARM", "0")
    server = start_local_aws(tmp_path / "aws", postgres_server_dsn, f"t{uuid.uuid4().hex[:6]}")
    try:
        glue = upload_scripts(server)
        job = create_job(glue, "ends_as_told.py")
        run_ids, runs = [], []
        for how in ("return", "return", "os_exit"):
            run_ids.append(glue.start_job_run(JobName=job, Arguments={"--how": how, "--code": "7"})["JobRunId"])
            runs.append(wait_for_run(glue, job, run_ids[-1]))

        assert [run["JobRunState"] for run in runs] == ["SUCCEEDED", "SUCCEEDED", "FAILED"]
        assert runs[2]["ErrorMessage"] == "Script exited with code 7"
        assert len({printed_pid(server, job, run_id) for run_id in run_ids}) == 3
        assert all("warm driver" not in run_log(server, job, run_id).splitlines()[0] for run_id in run_ids)
        assert not (server.state_dir / "glue" / "warm-drivers").exists()
    finally:
        server.stop()
