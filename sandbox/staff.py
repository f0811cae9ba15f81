"""The college's people, played by the sandbox: the quality administrator who releases a held
batch through the platform's own interface.

`release_held_batches` does what a department's 质量管理员 does on a working day: read the
warning mail the platform sent them (the main job's mail catcher writes one `.eml` file per
mail), find the batches it says are held (「暂扣的采集批次：42」), and release each one in the
Airflow UI's 放行暂扣批次 form — here through the same REST API the UI calls: log in
(`POST /auth/token`), then trigger the DAG `quality_release` with the batch number, a reason
and their e-mail (`POST /api/v2/dags/quality_release/dagRuns`). Only a quality administrator's
mail is acted on (collectors may not release; the platform would refuse them).

`acknowledge_warnings` is the other half of their morning: each quality administrator
acknowledges the first open warning their mail lists (已知悉，正在处理) in the 确认预警 form
(`quality_acknowledge`), the same way through the REST API.

`submit_late_data` is the late system's collectors catching up: the subsystem that had not
submitted its data (it answered 「数据尚未报送」) submits it now, so its next pull gets through.
"""

from __future__ import annotations

import re
import time
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path

import requests

RELEASE_DAG = "quality_release"
ACK_DAG = "quality_acknowledge"
HELD = re.compile(r"暂扣的采集批次：([\d、]+)")
OPEN_WARNING = re.compile(r"预警编号 (\d+)（待处理")
ACK_NOTE = "已知悉，已转交采集员核实，正在处理。"
REASON = "已与采集员核对：同一资产卡片在采集过程中被修改，两个版本均属实，接受本批次。"


def _administrators_mail(mail_dir: str | Path):
    """(recipient e-mail, plain text) of every mail greeting a quality administrator."""
    parser = BytesParser(policy=policy.default)
    for path in sorted(Path(mail_dir).glob("*.eml")):
        msg = parser.parsebytes(path.read_bytes())
        body = msg.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        greeting = text.split("\n", 1)[0]
        to = [addr for _, addr in getaddresses([str(msg["To"] or "")]) if addr]
        if "质量管理员" in greeting and to:
            yield to[0], text


def held_in_mail(mail_dir: str | Path) -> dict[int, str]:
    """Held batch → the e-mail of the quality administrator told about it (first mail wins)."""
    held: dict[int, str] = {}
    for email, text in _administrators_mail(mail_dir):
        for match in HELD.finditer(text):
            for pull in match.group(1).split("、"):
                held.setdefault(int(pull), email)
    return held


def _token(session: requests.Session, airflow_url: str, username: str, password: str) -> str:
    resp = session.post(
        f"{airflow_url}/auth/token", json={"username": username, "password": password}, timeout=30
    )
    resp.raise_for_status()
    return resp.json()["access_token"]


def release_held_batches(
    airflow_url: str,
    username: str,
    password: str,
    mail_dir: str | Path,
    reason: str = REASON,
    wait_seconds: float = 0,
) -> list[dict]:
    """Release every held batch named in a quality administrator's mail; returns one entry
    per release triggered (pull id, who, the DAG run id and, when waited for, its state)."""
    base = airflow_url.rstrip("/")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {_token(session, base, username, password)}"
    released = []
    for pull_id, email in sorted(held_in_mail(mail_dir).items()):
        resp = session.post(
            f"{base}/api/v2/dags/{RELEASE_DAG}/dagRuns",
            json={
                "logical_date": None,
                "conf": {"pull_id": pull_id, "reason": reason, "by": email},
                "note": f"{email} 放行暂扣批次 {pull_id}",
            },
            timeout=30,
        )
        resp.raise_for_status()
        run_id = resp.json()["dag_run_id"]
        state = resp.json().get("state")
        deadline = time.monotonic() + wait_seconds
        while state not in ("success", "failed") and time.monotonic() < deadline:
            time.sleep(2)
            state = session.get(
                f"{base}/api/v2/dags/{RELEASE_DAG}/dagRuns/{run_id}", timeout=30
            ).json()["state"]
        released.append({"pull_id": pull_id, "by": email, "dag_run_id": run_id, "state": state})
    return released


def open_warnings_in_mail(mail_dir: str | Path) -> dict[int, str]:
    """The first open warning of each quality administrator's latest mail → their e-mail.

    The latest digest only: an older one may list a warning resolved since, which the
    platform (rightly) refuses to acknowledge."""
    latest = dict(_administrators_mail(mail_dir))  # files in the order they arrived
    chosen: dict[int, str] = {}
    for email, text in latest.items():
        if match := OPEN_WARNING.search(text):
            chosen.setdefault(int(match.group(1)), email)
    return chosen


def acknowledge_warnings(
    airflow_url: str, username: str, password: str, mail_dir: str | Path, note: str = ACK_NOTE
) -> list[dict]:
    """Each quality administrator acknowledges the first open warning of their mail through
    the 确认预警 DAG; returns one entry per run triggered (warning id, who, DAG run id)."""
    base = airflow_url.rstrip("/")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {_token(session, base, username, password)}"
    acknowledged = []
    for warning_id, email in sorted(open_warnings_in_mail(mail_dir).items()):
        resp = session.post(
            f"{base}/api/v2/dags/{ACK_DAG}/dagRuns",
            json={
                "logical_date": None,
                "conf": {"warning_id": warning_id, "action": "acknowledge", "note": note,
                         "by": email},
                "note": f"{email} 确认预警 {warning_id}",
            },
            timeout=30,
        )  # fmt: skip
        resp.raise_for_status()
        acknowledged.append(
            {"warning_id": warning_id, "by": email, "dag_run_id": resp.json()["dag_run_id"]}
        )
    return acknowledged


def submit_late_data(sandbox_url: str) -> str | None:
    """The late system submits its data (the sandbox stops answering 503); returns its id."""
    base = sandbox_url.rstrip("/")
    late = requests.get(f"{base}/_admin/late", timeout=30).json().get("late")
    if not late:
        return None
    requests.post(f"{base}/_admin/late", json={"subsystem": None}, timeout=30).raise_for_status()
    return late["subsystem"]
