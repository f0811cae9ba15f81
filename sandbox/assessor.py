"""The sandbox plays 质管办 at year end: it enters criterion (a) of the assessment through
Airflow's REST API, as a person would through the form (Required Actions) of the task
`enter_criterion_a` in the DAG `assessment__yearly`.

    PATCH /api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/-1/hitlDetails
    {"chosen_options": ["OK"], "params_input": {<department>: <score>, ...}}

Airflow records the responding user and time; the DAG stores them with each score.

沙箱扮演质管办，通过 Airflow REST API 录入各部门 (a) 项得分。
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

import requests

from sandbox.people_play import THINK_SECONDS

DAG_ID = "assessment__yearly"
TASK_ID = "enter_criterion_a"
MARKED = "marked_people"
COMMENT = "comment"


def sandbox_scores(departments: list[str], seed: int = 2026) -> dict[str, float]:
    """The scores the sandbox's 质管办 gives: reproducible from the seed, 60–95."""
    rng = random.Random(f"assessment-a-{seed}")
    return {d: float(rng.randint(60, 95)) for d in sorted(departments)}


class AirflowApi:
    """A minimal client of Airflow 3's public REST API with the SimpleAuthManager's token."""

    def __init__(self, base_url: str, username: str = "admin", password: str = "admin"):
        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        r = self.http.post(
            f"{self.base}/auth/token",
            json={"username": username, "password": password},
            timeout=30,
        )
        r.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def pending_form(self, dag_id: str = DAG_ID, run_id: str | None = None) -> dict | None:
        """The unanswered (a) form of `run_id` (or of any run), or None."""
        r = self.http.get(
            f"{self.base}/api/v2/dags/{dag_id}/dagRuns/{run_id or '~'}/hitlDetails",
            params={"task_id": TASK_ID, "response_received": "false"},
            timeout=30,
        )
        r.raise_for_status()
        details = r.json().get("hitl_details") or []
        return details[0] if details else None

    def answer(self, dag_id: str, run_id: str, params_input: dict) -> dict:
        r = self.http.patch(
            f"{self.base}/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{TASK_ID}/-1"
            "/hitlDetails",
            json={"chosen_options": ["OK"], "params_input": params_input},
            timeout=30,
        )
        if r.status_code >= 400:
            raise RuntimeError(f"(a) 项录入被 Airflow 拒绝（HTTP {r.status_code}）：{r.text[:300]}")
        return r.json()


def enter_criterion_a(
    base_url: str,
    scores: dict[str, float] | None = None,
    *,
    marked_people: str = "",
    comment: str = "沙箱质管办录入",
    dag_id: str = DAG_ID,
    run_id: str | None = None,
    username: str = "admin",
    password: str = "admin",
    wait_seconds: float = 300,
    seed: int = 2026,
) -> dict:
    """Wait for the (a) form of `run_id` (or any run) and answer it; returns Airflow's answer.

    `scores` defaults to `sandbox_scores` over the departments the form asks for; departments
    not given are left empty (not entered). `marked_people` is `部门：姓名、姓名；…`."""
    api = AirflowApi(base_url, username, password)
    deadline = time.monotonic() + wait_seconds
    form = api.pending_form(dag_id, run_id)
    while form is None and time.monotonic() < deadline:
        time.sleep(2)
        form = api.pending_form(dag_id, run_id)
    if form is None:
        raise RuntimeError(f"{wait_seconds:g} 秒内没有等待录入的 (a) 项表单（DAG {dag_id}）")
    if form.get("created_at"):  # a person reads the form first (and Airflow 3.3 needs it)
        asked = datetime.fromisoformat(form["created_at"].replace("Z", "+00:00"))
        time.sleep(max(0.0, THINK_SECONDS - (datetime.now(UTC) - asked).total_seconds()))
    asked = form.get("params") or {}
    # the form shows one score per department, the two text fields, and the run's own
    # parameters (academic_year), which are answered with the value they already have
    departments = [k for k, v in asked.items() if k not in (MARKED, COMMENT) and "number" in str(v)]
    given = scores if scores is not None else sandbox_scores(departments, seed)
    params_input = {k: (v.get("value") if isinstance(v, dict) else v) for k, v in asked.items()}
    params_input.update({d: given.get(d) for d in departments})
    params_input[MARKED] = marked_people
    params_input[COMMENT] = comment

    return api.answer(dag_id, form["task_instance"]["dag_run_id"], params_input)
