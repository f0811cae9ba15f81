"""The correction workflow's writes: steps, outcome, the overlay, confirmed-at-source.

This module is the only writer of `corrections.overlay` (the table's trigger refuses any
session that has not set `xiaoben.corrections_workflow`, which only `_as_workflow` does). A
request reaches the overlay only after every signer approved and 质管办 verified; a refused or
timed-out request never does, so the marts do not change.

Confirmed at source: after a later pull, `check_sources()` compares each overlay value with the
latest raw version. The source sending the corrected value itself marks the correction
confirmed; the source still sending the old value `source_warn_days()` days after verification
opens a data warning in `quality.warnings` for the subsystem's collectors (the overlay keeps the
approved value either way).
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta

from psycopg import sql
from psycopg.rows import dict_row

from include import audit, mail
from include.corrections import connect
from include.corrections import requests as creq
from include.quality import people

log = logging.getLogger(__name__)
DEFAULT_SOURCE_WARN_DAYS = 14
ACTOR = "数据更正流程（自动）"


def source_warn_days() -> int:
    """Days after verification the source may keep sending the old value before the collector
    is warned (XIAOBEN_CORRECTION_SOURCE_DAYS)."""
    return int(os.environ.get("XIAOBEN_CORRECTION_SOURCE_DAYS", DEFAULT_SOURCE_WARN_DAYS))


def record_step(
    request_id: int,
    step_kind: str,
    decision: str,
    *,
    assignee_user: str | None = None,
    assignee_name: str | None = None,
    responded_by: str | None = None,
    opinion: str | None = None,
    at: datetime | None = None,
    url: str | None = None,
    dag_id: str | None = None,
    airflow_run_id: str | None = None,
) -> dict:
    at = at or datetime.now(UTC)
    with connect(url) as conn:
        h, form_no = conn.execute(
            "select request_hash, form_no from corrections.requests where request_id = %s",
            [request_id],
        ).fetchone()
        signer = assignee_name or responded_by or ACTOR
        sig = creq.signature(signer, at, decision, h) if decision in ("approve", "refuse") else None
        conn.execute(
            """
            insert into corrections.steps (request_id, step_kind, assignee_user, assignee_name,
                responded_by, decision, opinion, at, signature)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            [request_id, step_kind, assignee_user, assignee_name, responded_by, decision,
             opinion, at, sig],
        )  # fmt: skip
        if responded_by:  # a person answered (HITL responded_by): the audit trail, same commit
            audit.record(
                conn, "correction_step", f"corrections.requests/{form_no}", responded_by, at=at,
                after={"step": step_kind, "decision": decision},
                detail={"opinion": opinion, "signature": sig, "assignee_user": assignee_user},
                dag_id=dag_id, airflow_run_id=airflow_run_id,
            )  # fmt: skip
    return {"at": at.isoformat(), "signature": sig}


def status(request_id: int, url: str | None = None) -> str:
    with connect(url) as conn:
        return conn.execute(
            "select status from corrections.requests where request_id = %s", [request_id]
        ).fetchone()[0]


def close(request_id: int, new_status: str, reason: str, url: str | None = None) -> None:
    """Refused or timed out: the request goes back to the filler with the reason."""
    with connect(url) as conn:
        conn.execute(
            """
            update corrections.requests set status = %s, status_reason = %s, closed_at = now()
            where request_id = %s and status in ('submitted', 'approved')
            """,
            [new_status, reason, request_id],
        )


def approve(request_id: int, url: str | None = None) -> None:
    """Every head and the vice-president approved: waiting for 质管办's verification."""
    with connect(url) as conn:
        conn.execute(
            "update corrections.requests set status = 'approved' "
            "where request_id = %s and status = 'submitted'",
            [request_id],
        )


def _as_workflow(conn) -> None:
    conn.execute("select set_config('xiaoben.corrections_workflow', 'on', true)")


def verify(request_id: int, url: str | None = None) -> int:
    """质管办 verified: the items enter the overlay, warnings on those records resolve."""
    now = datetime.now(UTC)
    with connect(url) as conn, conn.transaction():
        _as_workflow(conn)
        form_no, subsystem, approved_at = conn.execute(
            """
            select r.form_no, r.subsystem, (select max(at) from corrections.steps s
                where s.request_id = r.request_id and s.step_kind = 'vice_president')
            from corrections.requests r where request_id = %s and status = 'approved'
            for update
            """,
            [request_id],
        ).fetchone()
        n = conn.execute(
            """
            insert into corrections.overlay (item_id, request_id, form_no, subsystem, resource,
                source_key, field, old_value, new_value, approved_at, verified_at)
            select item_id, request_id, %s, subsystem, resource, source_key, field, old_value,
                new_value, %s, %s
            from corrections.items where request_id = %s
            on conflict (item_id) do nothing
            """,
            [form_no, approved_at or now, now, request_id],
        ).rowcount
        # An earlier correction of the same field is superseded by this one.
        conn.execute(
            """
            delete from corrections.overlay o using corrections.items i
            where i.request_id = %s and o.request_id <> %s and o.subsystem = i.subsystem
              and o.resource = i.resource and o.source_key = i.source_key and o.field = i.field
            """,
            [request_id, request_id],
        )
        conn.execute(
            "update corrections.requests set status = 'verified', closed_at = %s "
            "where request_id = %s",
            [now, request_id],
        )
        _resolve_warnings(conn, request_id, subsystem, form_no)
    return n


def _resolve_warnings(conn, request_id: int, subsystem: str, form_no: str) -> None:
    """Data warnings whose every sample record is now corrected move to resolved (Article 11)."""
    from include.quality.warnings import _resolve

    rows = conn.execute(
        """
        select w.warning_id from quality.warnings w
        where w.kind = 'data' and w.subsystem = %s and w.status <> 'resolved'
          and cardinality(w.sample_keys) > 0
          and w.sample_keys <@ array(select source_key from corrections.items
                                     where request_id = %s)
        """,
        [subsystem, request_id],
    ).fetchall()
    for (warning_id,) in rows:
        _resolve(conn, warning_id, ACTOR, f"已按数据采集更正表 {form_no} 更正并经质管办核验")


def check_sources(url: str | None = None, now: datetime | None = None) -> dict:
    """Compare every unconfirmed overlay value with the source's latest version."""
    from include.quality.warnings import _open_or_update, escalate_after_days

    now = now or datetime.now(UTC)
    days = source_warn_days()
    confirmed, warned = [], []
    with connect(url) as conn, conn.transaction():
        _as_workflow(conn)
        cur = conn.cursor(row_factory=dict_row)
        open_rows = cur.execute(
            "select * from corrections.overlay where confirmed_at_source_at is null "
            "order by item_id"
        ).fetchall()
        for o in open_rows:
            table = sql.SQL("{}.{}").format(
                sql.Identifier(f"raw_{o['subsystem']}"), sql.Identifier(o["resource"])
            )
            latest = cur.execute(
                "select pull_id, payload ->> %s as value "
                "from landing.latest_versions(%s::regclass) where source_key = %s",
                [o["field"], table.as_string(conn), o["source_key"]],
            ).fetchone()
            if latest and latest["value"] == o["new_value"]:
                conn.execute(
                    "update corrections.overlay set confirmed_at_source_at = %s, "
                    "confirmed_pull_id = %s where item_id = %s",
                    [now, latest["pull_id"], o["item_id"]],
                )
                conn.execute(
                    "insert into corrections.steps (request_id, step_kind, responded_by, "
                    "decision, opinion, at) values (%s, 'source_confirmed', %s, 'note', %s, %s)",
                    [o["request_id"], ACTOR,
                     f"源系统第 {latest['pull_id']} 批次已发来更正后的值（源头已确认）", now],
                )  # fmt: skip
                confirmed.append(o["form_no"])
            elif (
                o["source_warned_at"] is None
                and o["verified_at"] <= now - timedelta(days=days)
                and latest is not None
            ):
                key = f"correction_source:{o['form_no']}:{o['item_id']}"
                where = f"{o['subsystem']}.{o['resource']} 记录 {o['source_key']} 字段 {o['field']}"
                _open_or_update(conn, key, {
                    "kind": "data", "subsystem": o["subsystem"],
                    "dataset": f"raw_{o['subsystem']}.{o['resource']}",
                    "check_key": "correction_not_confirmed_at_source", "principle": "原始性",
                    "severity": "warn",
                    "title": f"更正表 {o['form_no']} 已核验 {days} 天，源系统仍发送旧值",
                    "detail": f"{where}：源系统仍为 '{latest['value']}'，已批准的值为 "
                              f"'{o['new_value']}'（集市按更正值展示）。",
                    "advice": "请在源系统中把该字段改为更正后的值，使源头与更正表一致。",
                    "sample_keys": [o["source_key"]], "pull_ids": [latest["pull_id"]],
                    "departments": people.departments(o["subsystem"]),
                    "recipients": people.warned(o["subsystem"]),
                }, None, escalate_after_days())  # fmt: skip
                conn.execute(
                    "update corrections.overlay set source_warned_at = %s where item_id = %s",
                    [now, o["item_id"]],
                )
                conn.execute(
                    "insert into corrections.steps (request_id, step_kind, responded_by, "
                    "decision, opinion, at) values (%s, 'source_still_old', %s, 'note', %s, %s)",
                    [o["request_id"], ACTOR, f"逾期 {days} 天源系统仍发旧值，已预警采集人", now],
                )  # fmt: skip
                warned.append(o["form_no"])
    return {"confirmed": confirmed, "warned": warned}


def notify(to: list[tuple[str, str]], subject: str, text: str) -> str | None:
    """A task, reminder or outcome by e-mail (the platform's SMTP connection). A mail that
    cannot be sent is logged, never blocks the approval."""
    try:
        return mail.send(mail.build_message(to, subject, text))
    except Exception as exc:
        log.warning("邮件未发出 (mail not sent) %s: %s", subject, exc)
        return None
