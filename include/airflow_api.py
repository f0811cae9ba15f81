"""A small client for Airflow 3's REST API v2, as the main job and the tests drive the service.

Authentication is the simple auth manager's: `POST /auth/token` with a user name and password
gives a JWT that every `/api/v2/...` request carries as a bearer token (renewed once when the
server answers 401). Only what the platform uses is here: DAGs (pause, list), DAG runs
(trigger, get, list, wait), task instances and their logs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import requests

FINISHED = frozenset({"success", "failed"})
READ_PATIENCE = 120  # seconds a GET is repeated while the api-server does not answer


class AirflowApiError(RuntimeError):
    pass


class AirflowApi:
    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.username, self.password = username, password
        self.timeout = timeout
        self.session = requests.Session()
        self._token: str | None = None

    # -- auth -----------------------------------------------------------------------------------
    def token(self) -> str:
        """A JWT from the simple auth manager (POST /auth/token)."""
        resp = self.session.post(
            f"{self.base_url}/auth/token",
            json={"username": self.username, "password": self.password},
            timeout=self.timeout,
        )
        if resp.status_code not in (200, 201):
            raise AirflowApiError(
                f"Airflow 登录失败 (POST /auth/token → {resp.status_code}): {resp.text[:200]}"
            )
        self._token = resp.json()["access_token"]
        return self._token

    def request(self, method: str, path: str, headers: dict | None = None, **kwargs) -> Any:
        relogged, waited = False, 0
        while True:
            if self._token is None:
                self.token()
            try:
                resp = self.session.request(
                    method,
                    f"{self.base_url}/api/v2/{path.lstrip('/')}",
                    headers={"Authorization": f"Bearer {self._token}", **(headers or {})},
                    timeout=self.timeout,
                    **kwargs,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                # A busy api-server (two cores, a build running) can take longer than the
                # timeout: a read is safe to repeat, a write (a trigger) is not.
                if method != "GET" or waited >= READ_PATIENCE:
                    raise AirflowApiError(
                        f"Airflow 接口 {self.base_url} 无响应（{method} {path}，"
                        f"{type(exc).__name__}）：请确认服务在运行（./run up）"
                    ) from exc
                time.sleep(min(10, READ_PATIENCE - waited))
                waited += 10
                continue
            if resp.status_code == 401 and not relogged:  # token expired: log in again once
                self._token, relogged = None, True
                continue
            if not resp.ok:
                raise AirflowApiError(
                    f"Airflow API {method} {path} → {resp.status_code}: {resp.text[:300]}"
                )
            if "json" in resp.headers.get("content-type", ""):
                return resp.json()
            return resp.text

    # -- DAGs -----------------------------------------------------------------------------------
    def dags(self) -> list[dict]:
        return self.request("GET", "dags", params={"limit": 1000})["dags"]

    def set_paused(self, dag_id: str, paused: bool) -> dict:
        return self.request("PATCH", f"dags/{quote(dag_id)}", json={"is_paused": paused})

    def import_errors(self) -> list[dict]:
        return self.request("GET", "importErrors")["import_errors"]

    # -- DAG runs -------------------------------------------------------------------------------
    def trigger(self, dag_id: str, conf: dict | None = None, logical_date: str | None = None):
        """Start a run now; logical_date None keeps the run's dates true (start = now)."""
        body = {"logical_date": logical_date, "conf": conf or {}}
        return self.request("POST", f"dags/{quote(dag_id)}/dagRuns", json=body)

    def run(self, dag_id: str, run_id: str) -> dict:
        return self.request("GET", f"dags/{quote(dag_id)}/dagRuns/{quote(run_id, safe='')}")

    def runs(self, dag_id: str = "~", limit: int = 100, **params) -> list[dict]:
        """Runs of one DAG (or of every DAG with `~`), newest first."""
        query = {"limit": limit, "order_by": "-run_after", **params}
        return self.request("GET", f"dags/{quote(dag_id)}/dagRuns", params=query)["dag_runs"]

    def wait(
        self,
        dag_id: str,
        run_id: str,
        timeout: float = 3600,
        poll: float = 3,
        progress: Callable[[dict], None] | None = None,
    ) -> dict:
        """Poll a run until it finishes; `progress(run)` is called at every poll."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(dag_id, run_id)
            if progress:
                progress(run)
            if run["state"] in FINISHED:
                return run
            if time.monotonic() > deadline:
                raise AirflowApiError(f"{dag_id} {run_id} 在 {timeout:.0f} 秒内未结束")
            time.sleep(poll)

    # -- task instances -------------------------------------------------------------------------
    def task_instances(self, dag_id: str = "~", run_id: str = "~", **params) -> list[dict]:
        path = f"dags/{quote(dag_id)}/dagRuns/{quote(run_id, safe='~')}/taskInstances"
        return self.request("GET", path, params={"limit": 1000, **params})["task_instances"]

    def log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """The text of one task try's log (the same the UI shows)."""
        path = (
            f"dags/{quote(dag_id)}/dagRuns/{quote(run_id, safe='')}/taskInstances/"
            f"{quote(task_id)}/logs/{try_number}"
        )
        body = self.request(
            "GET", path, params={"full_content": "true"}, headers={"Accept": "application/json"}
        )
        content = body.get("content", body) if isinstance(body, dict) else body
        if isinstance(content, list):  # structured log lines: the event, and any exception
            return "\n".join(_log_line(c) for c in content)
        return str(content)


def _log_line(entry: Any) -> str:
    if not isinstance(entry, dict):
        return str(entry)
    line = str(entry.get("event", ""))
    for err in entry.get("error_detail") or []:
        line += f"\n{err.get('exc_type')}: {err.get('exc_value')}"
    return line
