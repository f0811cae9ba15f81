"""The college's people, played through Airflow's REST API (issue 11: the sandbox plays the people).

Each person logs in as themself (`POST /auth/token` with their own user and password — the
simple auth manager's passwords file) and answers only the human-in-the-loop steps assigned
to them: `PATCH /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/{task}/-1/hitlDetails` with
`chosen_options` and `params_input`. A script says, per run, who refuses (with an opinion)
and which step nobody answers (it times out: a reminder, then escalation); everyone else
approves. Only `requests` is used: the sandbox stays independent of the platform's code.

校园“人员”：各人以自己的账号经 REST API 办理分配给自己的审批步骤。
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import requests

DAG_ID = "corrections__approve"
APPROVE, REFUSE = "同意", "不同意"
# People read before they sign. It also matters to Airflow 3.3: a response that arrives within
# a second of the task parking in `awaiting_input`, before the scheduler has processed the
# executor's event for the parking workload, is taken for an externally killed task and
# retried (observed on this machine: "finished with state success, but the task instance's
# state attribute is queued"). A person never answers that fast; the script must not either.
THINK_SECONDS = 8


class Person:
    """One member of staff with an Airflow account."""

    def __init__(self, base_url: str, user: str, password: str, timeout: float = 30):
        self.base_url, self.user, self.password = base_url.rstrip("/"), user, password
        self.timeout = timeout
        self.session = requests.Session()
        self._token: str | None = None

    def _headers(self) -> dict:
        if self._token is None:
            login = {"username": self.user, "password": self.password}
            r = self.session.post(f"{self.base_url}/auth/token", json=login, timeout=self.timeout)
            r.raise_for_status()
            self._token = r.json()["access_token"]
        return {"Authorization": f"Bearer {self._token}"}

    def pending(self, run_id: str = "~", dag_id: str = DAG_ID, mine: bool = True) -> list[dict]:
        """Steps awaiting an answer (assigned to me, unless `mine` is False)."""
        r = self.session.get(
            f"{self.base_url}/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='~')}/hitlDetails",
            params={"response_received": "false", "limit": 100},
            headers=self._headers(),
            timeout=self.timeout,
        )
        r.raise_for_status()
        return [
            d
            for d in r.json()["hitl_details"]
            if (not mine or self.user in {u["id"] for u in d.get("assigned_users") or []})
            and d["task_instance"]["state"] in ("awaiting_input", "deferred")
        ]

    def answer(
        self, dag_id: str, run_id: str, task_id: str, option: str, opinion: str = "",
        params: dict | None = None,
    ):  # fmt: skip
        """PATCH the step's hitlDetails; returns the response (403 when not assigned to me)."""
        return self.session.patch(
            f"{self.base_url}/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}"
            f"/taskInstances/{task_id}"
            "/-1/hitlDetails",
            json={"chosen_options": [option], "params_input": params or {"opinion": opinion}},
            headers=self._headers(),
            timeout=self.timeout,
        )


@dataclass
class Script:
    """What the people do in one run: who refuses, which step nobody answers."""

    refuse: dict[str, str] = field(default_factory=dict)  # task_id -> opinion
    ignore: set[str] = field(default_factory=set)  # task ids left to time out
    answered: list[tuple[str, str, str]] = field(default_factory=list)  # (task, user, option)


def staff(base_url: str, passwords_file: str | Path) -> dict[str, Person]:
    users = json.loads(Path(passwords_file).read_text())
    return {u: Person(base_url, u, pw) for u, pw in users.items() if u != "admin"}


def play(
    base_url: str,
    passwords_file: str | Path,
    scripts: dict[str, Script],
    finished,
    seconds: float = 900,
    say=print,
) -> dict[str, Script]:
    """Answer every pending step of the scripted runs until `finished(run_id)` says each ended."""
    people = staff(base_url, passwords_file)
    reader = next(iter(people.values()))  # anyone may see the list; only the assignee answers
    deadline = time.monotonic() + seconds
    open_runs = set(scripts)
    while open_runs and time.monotonic() < deadline:
        for run_id in sorted(open_runs):
            script = scripts[run_id]
            for step in reader.pending(run_id, mine=False):
                task = step["task_instance"]["task_id"]
                asked = datetime.fromisoformat(step["created_at"].replace("Z", "+00:00"))
                if (
                    task in script.ignore
                    or (datetime.now(UTC) - asked).total_seconds() < THINK_SECONDS
                ):
                    continue
                for assigned in step.get("assigned_users") or []:
                    person = people[assigned["id"]]
                    option = REFUSE if task in script.refuse else APPROVE
                    opinion = script.refuse.get(task, "情况属实，同意更正")
                    r = person.answer(DAG_ID, run_id, task, option, opinion)
                    if r.status_code == 200:
                        script.answered.append((task, person.user, option))
                        say(f"    {person.user} 在 {task} 选择“{option}”：{opinion}")
            if finished(run_id):
                open_runs.discard(run_id)
        time.sleep(2)
    return scripts


def demo(api, passwords_file: str | Path, requests_: list[dict], say=print) -> dict[str, str]:
    """The main job's corrections: three requests — one approved by everyone, one refused by the
    vice-president, one whose first step nobody answers (short timeout: reminder, then
    escalation). `api` is the admin's REST client (include.airflow_api.AirflowApi), used only
    to start the runs and see when they end. Returns outcome -> run id."""
    plans = [
        ("approved", Script(), {}),
        ("refused", Script(refuse={"vice_president": "证明材料不足，请补充后重新申请"}), {}),
        ("timed_out", Script(ignore={"department_heads", "organising_head"}),
         {"step_timeout_seconds": 20}),
    ]  # fmt: skip
    runs, scripts = {}, {}
    for (outcome, script, extra), request in zip(plans, requests_, strict=False):
        run = api.trigger(DAG_ID, {"request": request, **extra})["dag_run_id"]
        runs[outcome], scripts[run] = run, script
        say(f"    {request['filler_name']} 提交更正申请（{outcome}）：{run}")

    def finished(run_id: str) -> bool:
        return api.run(DAG_ID, run_id)["state"] in ("success", "failed")

    play(api.base_url, passwords_file, scripts, finished, say=say)
    return runs
