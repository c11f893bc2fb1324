"""Airflow's REST API (``/api/v2``) as the demo, the tests and a user's script use it: a token from
``/auth/token`` (simple auth manager), then plain JSON calls."""

from __future__ import annotations

import time
from urllib.parse import quote

import requests

TERMINAL_RUN_STATES = {"success", "failed"}


class AirflowApiError(RuntimeError):
    pass


class AirflowApi:
    def __init__(self, base_url: str, username: str | None = None, password: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        # Every visitor is admin on the local platform: any name will do.
        credentials = {"username": username or "admin", "password": password or "admin"}
        response = self.session.post(f"{self.base_url}/auth/token", json=credentials, timeout=30)
        response.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def _call(self, method: str, path: str, retry: bool = False, **kwargs):
        """One call; a read (``retry``) is tried again after a server error or a timeout, which a busy machine
        gives now and then."""
        for attempt in range(4 if retry else 1):
            try:
                # Generous: on a busy 2-core machine the API server shares the CPU with Spark and the workers.
                response = self.session.request(method, f"{self.base_url}/api/v2{path}", timeout=180, **kwargs)
            except requests.RequestException:
                if attempt == 3 or not retry:
                    raise
                time.sleep(2**attempt)
                continue
            if response.status_code < 500 or not retry or attempt == 3:
                break
            time.sleep(2**attempt)
        if response.status_code >= 400:
            raise AirflowApiError(f"{method} {path}: {response.status_code} {response.text[:1000]}")
        return response.json() if response.content else None

    def get(self, path: str, **params):
        return self._call("GET", path, retry=True, params=params)

    def post(self, path: str, body: dict, retry: bool = False):
        return self._call("POST", path, retry=retry, json=body)

    def patch(self, path: str, body: dict):
        return self._call("PATCH", path, json=body)

    # DAGs ---------------------------------------------------------------------------------------
    def dag_ids(self) -> set[str]:
        return {dag["dag_id"] for dag in self.get("/dags", limit=1000)["dags"]}

    def import_errors(self) -> list[dict]:
        return self.get("/importErrors", limit=1000)["import_errors"]

    def wait_for_dags(self, dag_ids: list[str], timeout_s: float = 180.0) -> None:
        """Until the DAG processor has parsed every one of ``dag_ids``; an import error fails at once."""
        deadline = time.monotonic() + timeout_s
        while not set(dag_ids) <= self.dag_ids():
            if errors := self.import_errors():
                raise AirflowApiError(f"DAG import errors: {[(e['filename'], e['stack_trace']) for e in errors]}")
            if time.monotonic() > deadline:
                raise AirflowApiError(f"DAGs {sorted(set(dag_ids) - self.dag_ids())} not parsed in {timeout_s:.0f}s")
            time.sleep(0.5)

    def unpause(self, dag_id: str) -> None:
        self.patch(f"/dags/{dag_id}", {"is_paused": False})

    # Runs ---------------------------------------------------------------------------------------
    def trigger(self, dag_id: str, logical_date: str | None, conf: dict | None = None) -> dict:
        """A run for ``logical_date`` (ISO date or datetime, UTC), or a manual run without one (None)."""
        if logical_date and "T" not in logical_date:
            logical_date = f"{logical_date}T00:00:00Z"
        return self.post(f"/dags/{dag_id}/dagRuns", {"logical_date": logical_date, "conf": conf or {}})

    def backfill(self, dag_id: str, from_date: str, to_date: str, max_active_runs: int = 10) -> dict:
        """An Airflow 3 backfill: one run per schedule interval from ``from_date`` to ``to_date`` (ISO dates)."""
        return self.post(
            "/backfills",
            {
                "dag_id": dag_id,
                "from_date": f"{from_date}T00:00:00Z",
                "to_date": f"{to_date}T00:00:00Z",
                "reprocess_behavior": "completed",
                "max_active_runs": max_active_runs,
                "run_backwards": False,
                "dag_run_conf": {},
            },
        )

    def cancel_unfinished_backfills(self, dag_id: str) -> None:
        for backfill in self.get("/backfills", dag_id=dag_id, limit=1000)["backfills"]:
            if backfill["completed_at"] is None:
                self._call("PUT", f"/backfills/{backfill['id']}/cancel")

    def get_backfill(self, backfill_id: int) -> dict:
        return self.get(f"/backfills/{backfill_id}")

    def runs(self, dag_id: str, **filters) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns", limit=1000, order_by="logical_date", **filters)["dag_runs"]

    def delete_run(self, dag_id: str, run_id: str, timeout_s: float = 120.0) -> None:
        """Delete a run, marking it failed first if it is still going (a running run cannot be deleted; the
        scheduler may start a queued one meanwhile, so until the deletion goes through)."""
        path = f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}"
        deadline = time.monotonic() + timeout_s
        while True:
            if self.get(path)["state"] not in TERMINAL_RUN_STATES:
                self.patch(path, {"state": "failed"})
            try:
                self._call("DELETE", path)
                return
            except AirflowApiError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def run(self, dag_id: str, run_id: str) -> dict:
        return self.get(f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances", limit=1000)["task_instances"]

    def runs_of(self, dag_ids: list[str]) -> list[dict]:
        """Every run of these DAGs, in one call."""
        return self.post("/dags/~/dagRuns/list", {"dag_ids": dag_ids, "page_limit": 1000}, retry=True)["dag_runs"]

    def task_instances_of(self, dag_ids: list[str], run_ids: list[str]) -> list[dict]:
        """The task instances of these runs, in one call."""
        return self.post(
            "/dags/~/dagRuns/~/taskInstances/list",
            {"dag_ids": dag_ids, "dag_run_ids": run_ids, "page_limit": 1000},
            retry=True,
        )["task_instances"]

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value"):
        entry = self.get(
            f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/xcomEntries/{key}",
            deserialize=True,
        )
        return entry["value"]
