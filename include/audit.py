"""审计记录 (audit trail; issue 15, item 7): who did what to which object, when, as whom.

`record(conn, action, object, actor, …)` is the platform's one way to write an event: it looks
the actor up in the roster (`connectors/departments.yml`: name, department, head / quality
administrator / vice-president) and calls the SQL function `audit.record()`
(include/warehouse/ddl/090_audit.sql) on the caller's connection, so the event commits or rolls
back together with the change it records. If the event cannot be written, the change fails too:
nothing a person decides goes unrecorded.

Actors: the Airflow user who answered a human-in-the-loop step (HITL `responded_by`), the quality
administrator a hold is released under (with the Airflow account that triggered the run in
`detail.airflow_user`), the git author of a rules file's version.

Rules files (`RULES_FILES`) are recorded by the warehouse bootstrap (`prepare_database`), which
runs on every start of the platform (`./run up`, `./run airflow`, and in production the compose
`init` service, `xiaoben db bootstrap`, run for every deployed image): a rules file reaches the
running platform only by a deployment, so the bootstrap sees every version before any DAG uses
it, once (under the bootstrap lock), in the same place for every database. An edit made by hand
under a running `./run up` is recorded at the next start.
"""

from __future__ import annotations

import getpass
import hashlib
import subprocess
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from include.registry import registry

ROOT = Path(__file__).resolve().parent.parent
ACTIONS = {
    "hold_release": "放行暂扣批次",
    "correction_step": "签署数据采集更正表",
    "department_review": "部门数据审核",
    "assessment_entry": "录入考核 (a) 项",
    "appeal_decision": "裁决考核申诉",
    "rules_file_changed": "规则文件变更",
}
# The files whose content is a rule the college sets (relative to the repository root).
RULES_FILES = (
    "connectors/subsystems/*.yml",
    "connectors/departments.yml",
    "include/assessment/rules.yml",
    "include/reports/sections.yml",
    "soda/check_classes.yml",
    "soda/cross_checks.yml",
)


def identify(who: str) -> tuple[str | None, str | None, str | None]:
    """(name, department, role) of a login, e-mail or name in the roster, else Nones."""
    reg = registry()
    for d in reg.departments.values():
        people = [(d.head, "部门负责人"), *((q, "质量管理员") for q in d.quality_administrators)]
        for p, role in people:
            if who in (p.login, p.email, p.name):
                return p.name, d.name, role
    for vp in reg.vice_presidents.values():
        if who in (vp.login, vp.email, vp.name):
            return vp.name, None, vp.title
    return None, None, None


def record(
    conn: psycopg.Connection,
    action: str,
    obj: str,
    actor: str,
    *,
    at: datetime | str | None = None,
    actor_name: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
    detail: dict | None = None,
    dag_id: str | None = None,
    airflow_run_id: str | None = None,
) -> int:
    """Append one event on `conn` (in its transaction); returns its event_id."""
    if action not in ACTIONS:
        known = "、".join(ACTIONS)
        raise ValueError(f"审计：未知操作 {action!r}，应为 {known}（include/audit.py ACTIONS）")
    name, department, role = identify(actor)
    return conn.execute(
        "select audit.record(%s::text, %s::text, %s::text, %s::timestamptz, %s::text,"
        " %s::text, %s::text, %s::jsonb, %s::jsonb, %s::jsonb, %s::text, %s::text)",
        [
            action, obj, actor, at, name or actor_name, department, role,
            None if before is None else Jsonb(before), None if after is None else Jsonb(after),
            Jsonb(detail or {}), dag_id, airflow_run_id,
        ],
    ).fetchone()[0]  # fmt: skip


# ---- rules files --------------------------------------------------------------------------


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return None  # no git (the production image has no .git): the sha256 still counts
    return out.stdout.strip() if out.returncode == 0 else None


def origin(root: Path, rel: str, data: bytes) -> dict:
    """The commit that made this content, or why there is none (uncommitted, no git)."""
    log = _git(root, "log", "-1", "--format=%H%x1f%an%x1f%ae%x1f%aI", "--", rel)
    if not log:
        return {"commit": None, "committed": False}
    commit, author, email, when = log.split("\x1f")
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    return {
        "commit": commit,
        "author": author,
        "author_email": email,
        "committed_at": when,
        "committed": _git(root, "rev-parse", f"HEAD:{rel}") == blob,
    }


def record_rules_files(conn: psycopg.Connection, root: Path = ROOT) -> list[str]:
    """Record every rules file whose sha256 differs from its last recorded version (and every
    recorded one that is gone). Returns the paths recorded."""
    last = dict(
        conn.execute(
            "select distinct on (object) object, after ->> 'sha256' from audit.events"
            " where action = 'rules_file_changed' order by object, event_id desc"
        ).fetchall()
    )
    current = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for pattern in RULES_FILES
        for p in sorted(root.glob(pattern))
    }
    recorded = []
    for rel in sorted(set(current) | {k for k, v in last.items() if v is not None}):
        data = current.get(rel)
        sha = hashlib.sha256(data).hexdigest() if data is not None else None
        if last.get(rel) == sha:
            continue
        git = origin(root, rel, data) if data is not None else {"commit": None, "committed": False}
        if git["committed"]:
            actor, name = git["author_email"], git["author"]
        else:  # edited in place, deleted, or no git: the account that started the platform
            actor, name = getpass.getuser(), None
        record(
            conn, "rules_file_changed", rel, actor, actor_name=name,
            before=None if last.get(rel) is None else {"sha256": last[rel]},
            after=None if sha is None else {"sha256": sha, "bytes": len(data)},
            detail={**git, "note": _note(last.get(rel) is not None, sha, git)},
        )  # fmt: skip
        recorded.append(rel)
    return recorded


def _note(known: bool, sha: str | None, git: dict) -> str:
    if sha is None:
        return "规则文件已删除"
    what = "规则文件已变更" if known else "首次记录规则文件"
    if git["committed"]:
        return f"{what}（提交 {git['commit'][:12]}）"
    if git["commit"]:
        return f"{what}（本地修改，未提交；上次提交 {git['commit'][:12]}）"
    return f"{what}（无 git 记录）"
