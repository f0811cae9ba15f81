"""Early warnings (预警, Article 10): open, acknowledge, resolve, escalate.

Two kinds:
- **data warnings** from check results: a failed check (未通过) or a warn-level finding (提醒,
  e.g. a new field in the API) on a dataset, including a late or missing pull (the 即时性
  checks of each raw contract). Recipients: the subsystem's collectors and quality
  administrators (`people.warned`).
- **indicator warnings** from the quality-control-point mart: a point at 预警 or 未达标 goes to
  the quality administrators of its owner department.

One unresolved warning per problem (`warning_key`); seeing it again updates it. A data warning
resolves itself when its check passes again; anyone may acknowledge or resolve one by hand,
and every step is a row of `quality.warning_events`. A warning still unresolved
`escalate_after_days()` days after it opened escalates to the head of the responsible
department, who then gets it in their daily digest too.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

import psycopg
from psycopg.rows import dict_row

from include.quality import catalog, people
from include.registry import registry
from include.warehouse import connection

DEFAULT_ESCALATE_AFTER_DAYS = 3
SYSTEM = "质量检查（自动）"
# The quality-control-point mart (issue 5): one row per point, period and unit, with status.
INDICATOR_RELATION = "marts.fct_control_point_values"


def escalate_after_days() -> int:
    """Days a warning may stay unresolved before it escalates (XIAOBEN_ESCALATE_AFTER_DAYS)."""
    return int(os.environ.get("XIAOBEN_ESCALATE_AFTER_DAYS", DEFAULT_ESCALATE_AFTER_DAYS))


def _event(conn, warning_id: int, event: str, **fields) -> None:
    conn.execute(
        """
        insert into quality.warning_events
            (warning_id, event, actor, recipient_email, recipient_name, message_id, result_id, note)
        values (%s, %s, %s, %s, %s, %s, %s, %s)
        """,
        [
            warning_id, event, fields.get("actor"), fields.get("recipient_email"),
            fields.get("recipient_name"), fields.get("message_id"), fields.get("result_id"),
            fields.get("note"),
        ],
    )  # fmt: skip


def _open_or_update(conn, key: str, values: dict, result_id: int | None, days: int) -> tuple:
    """Insert a new warning or refresh the unresolved one with the same key."""
    existing = conn.execute(
        "select warning_id from quality.warnings where warning_key = %s and status <> 'resolved'",
        [key],
    ).fetchone()
    if existing:
        conn.execute(
            """
            update quality.warnings set last_seen_at = now(), last_result_id = %s,
                severity = %s, detail = %s, failing_count = %s, sample_keys = %s,
                pull_ids = (select array(select distinct unnest(pull_ids || %s::bigint[])))
            where warning_id = %s
            """,
            [
                result_id, values["severity"], values["detail"], values.get("failing_count"),
                values.get("sample_keys", []), values.get("pull_ids", []), existing[0],
            ],
        )  # fmt: skip
        return existing[0], False
    warning_id = conn.execute(
        """
        insert into quality.warnings (
            kind, warning_key, subsystem, dataset, check_key, principle, severity, title,
            detail, advice, due_at, first_result_id, last_result_id, failing_count,
            sample_keys, pull_ids, departments, recipients
        ) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now() + %s, %s, %s, %s, %s, %s, %s, %s)
        returning warning_id
        """,
        [
            values["kind"], key, values.get("subsystem"), values.get("dataset"),
            values.get("check_key"), values.get("principle"), values["severity"],
            values["title"], values["detail"], values.get("advice"), timedelta(days=days),
            result_id, result_id, values.get("failing_count"), values.get("sample_keys", []),
            values.get("pull_ids", []), values.get("departments", []),
            json.dumps(values["recipients"], ensure_ascii=False),
        ],
    ).fetchone()[0]  # fmt: skip
    _event(conn, warning_id, "opened", actor=SYSTEM, result_id=result_id, note=values["title"])
    return warning_id, True


def _resolve(conn, warning_id: int, by: str, how: str) -> None:
    conn.execute(
        """
        update quality.warnings set status = 'resolved', resolved_at = now(), resolved_by = %s,
            resolution = %s
        where warning_id = %s
        """,
        [by, how, warning_id],
    )
    _event(conn, warning_id, "resolved", actor=by, note=how)


# -- data warnings --------------------------------------------------------------------------------


def _data_detail(r: dict, subsystem_name: str) -> str:
    verdict = "未通过" if r["outcome"] == "failed" else "需要注意"
    parts = [f"{subsystem_name} {r['dataset']} 的检查“{r['check_name']}”{verdict}。"]
    if r["failing_count"] is not None and r["check_type"] != "metric":
        parts.append(f"不合格 {r['failing_count']} 条")
    elif r["measured"] is not None:
        parts.append(f"度量值 {float(r['measured']):g}（阈值 {r['threshold']}）")
    if r["failing_pull_ids"]:
        held = "，已暂扣，不进入数据集市" if r["blocking"] else ""
        parts.append(f"采集批次：{', '.join(map(str, r['failing_pull_ids']))}{held}")
    return parts[0] + "；".join(parts[1:])


def sync_data_warnings(run_id: int, url: str | None = None) -> dict:
    """Open or refresh a warning per failed/warned check of a run; resolve those that pass now."""
    days = escalate_after_days()
    reg = registry()
    opened, updated, resolved = [], [], []
    with psycopg.connect(url or connection.warehouse_url()) as conn:
        with conn.cursor(row_factory=dict_row) as cur:
            results = cur.execute(
                "select * from quality.check_results where run_id = %s order by result_id",
                [run_id],
            ).fetchall()
        for r in results:
            key = f"data|{r['dataset']}|{r['check_key']}"
            if r["outcome"] in ("failed", "warned"):
                klass = catalog.check_classes()[r["check_class"]]
                sid = r["subsystem"]
                name = reg.subsystems[sid].name_zh if sid in reg.subsystems else r["dataset"]
                recipients = r["responsible"] or _qmo_people()
                warning_id, new = _open_or_update(
                    conn,
                    key,
                    {
                        "kind": "data",
                        "subsystem": sid,
                        "dataset": r["dataset"],
                        "check_key": r["check_key"],
                        "principle": r["principle"],
                        "severity": "未通过" if r["outcome"] == "failed" else "提醒",
                        "title": f"{name} {r['dataset']}：{klass.title}"
                        + (
                            f"（{detail}）"
                            if (detail := catalog.split_qualifier(r["check_key"])[1])
                            else ""
                        ),
                        "detail": _data_detail(r, name),
                        "advice": klass.advice,
                        "failing_count": r["failing_count"],
                        "sample_keys": r["sample_keys"],
                        "pull_ids": r["failing_pull_ids"],
                        "departments": r["departments"],
                        "recipients": recipients,
                    },
                    r["result_id"],
                    days,
                )
                (opened if new else updated).append(warning_id)
            elif r["outcome"] == "passed" and (r["pull_ids"] or not r["batch_scoped"]):
                # a batch check that saw no pull says nothing about an earlier finding
                row = conn.execute(
                    "select warning_id from quality.warnings"
                    " where warning_key = %s and status <> 'resolved'",
                    [key],
                ).fetchone()
                if row:
                    _resolve(conn, row[0], SYSTEM, f"复核通过（质量检查运行 {run_id}）")
                    resolved.append(row[0])
    return {"opened": opened, "updated": updated, "resolved": resolved}


def connection_warning(subsystem_id: str, conn_id: str, message: str | None) -> int | None:
    """A subsystem's Airflow connection is missing or wrong (message), or works again (None).

    Opens (or refreshes) a data warning to the subsystem's collectors, or resolves it.
    """
    key = f"connection|{subsystem_id}|{conn_id}"
    with psycopg.connect(connection.warehouse_url()) as conn:
        if message is None:
            row = conn.execute(
                "select warning_id from quality.warnings"
                " where warning_key = %s and status <> 'resolved'",
                [key],
            ).fetchone()
            if row:
                _resolve(conn, row[0], SYSTEM, f"连接 {conn_id} 已可用，采集恢复")
            return row[0] if row else None
        name = registry().subsystems[subsystem_id].name_zh
        warning_id, _ = _open_or_update(
            conn,
            key,
            {
                "kind": "data",
                "subsystem": subsystem_id,
                "dataset": f"raw_{subsystem_id}",
                "check_key": f"connection:{conn_id}",
                "principle": "即时性",
                "severity": "未通过",
                "title": f"{name}：采集连接 {conn_id} 不可用，数据无法按时采集",
                "detail": message,
                "advice": "请信息中心在 Airflow 界面 管理 → 连接 中配置该连接后重新运行采集",
                "departments": people.departments(subsystem_id),
                "recipients": people.warned(subsystem_id),
            },
            None,
            escalate_after_days(),
        )
    return warning_id


def _qmo_people() -> list[dict]:
    return people.department_administrators(registry().quality_office)


# -- indicator warnings ---------------------------------------------------------------------------


def _relation(conn) -> str | None:
    found = conn.execute("select to_regclass(%s)", [INDICATOR_RELATION]).fetchone()[0]
    return INDICATOR_RELATION if found else None


def _indicator_rows(conn, relation: str) -> list[dict]:
    """The control-point values of the latest period of each point and unit."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            f"""
            select distinct on (control_point_code, unit_type, unit_id)
                control_point_code as point_code, control_point_name as point_name,
                unit_type || ':' || coalesce(unit_id, '全校') as scope_key,
                coalesce(unit_id, '全校') as scope_name, period_id as period,
                owner_department, status, value as actual_value, unit,
                target_value, warning_value, standard_value
            from {relation}
            where status is not null
            order by control_point_code, unit_type, unit_id, period_id desc
            """  # relation is our own constant
        ).fetchall()


def sync_indicator_warnings(url: str | None = None) -> dict:
    """Open a warning per control point at 预警/未达标; resolve those back at 达标."""
    days = escalate_after_days()
    reg = registry()
    opened, updated, resolved = [], [], []
    with psycopg.connect(url or connection.warehouse_url()) as conn:
        relation = _relation(conn)
        if relation is None:
            return {"relation": None, "opened": [], "updated": [], "resolved": []}
        seen, flagged = set(), set()
        for row in _indicator_rows(conn, relation):
            scope = row["scope_key"]
            key = f"indicator|{row['point_code']}|{scope}|{row['period'] or ''}"
            seen.add(key)
            if row["status"] not in ("预警", "未达标"):
                continue
            flagged.add(key)
            dept = row["owner_department"]
            recipients = (
                people.department_administrators(dept) if dept in reg.departments else _qmo_people()
            )
            unit = row["unit"] or ""
            lines = "".join(
                f"，{label} {row[col]}{unit}"
                for label, col in (("目标值", "target_value"), ("合格线", "standard_value"),
                                   ("预警线", "warning_value"))
                if row[col] is not None
            )  # fmt: skip
            warning_id, new = _open_or_update(
                conn,
                key,
                {
                    "kind": "indicator",
                    "severity": row["status"],
                    "title": f"质控点{row['status']}：{row['scope_name']}"
                    f" {row['point_name'] or row['point_code']}",
                    "detail": f"{row['period'] or ''} 实际值 {row['actual_value']}{unit}"
                    f"{lines}（{relation}）",
                    "advice": "请责任部门分析原因，制定改进措施并在下一周期跟踪（诊改 8 字螺旋）。",
                    "departments": [dept] if dept else [],
                    "recipients": recipients,
                },
                None,
                days,
            )
            (opened if new else updated).append(warning_id)
        back_to_normal = conn.execute(
            "select warning_id from quality.warnings"
            " where kind = 'indicator' and status <> 'resolved' and warning_key = any(%s)",
            [sorted(seen - flagged)],
        ).fetchall()
        for (warning_id,) in back_to_normal:
            _resolve(conn, warning_id, SYSTEM, "质控点已达标")
            resolved.append(warning_id)
    return {"relation": relation, "opened": opened, "updated": updated, "resolved": resolved}


# -- escalation and the manual lifecycle ----------------------------------------------------------


def escalate(url: str | None = None, now: datetime | None = None, after_days: int | None = None):
    """Escalate warnings unresolved for `after_days` to the responsible department heads."""
    after = escalate_after_days() if after_days is None else after_days
    escalated = []
    with psycopg.connect(url or connection.warehouse_url()) as conn:
        with conn.cursor(row_factory=dict_row) as cur:
            due = cur.execute(
                """
                select warning_id, kind, subsystem, departments from quality.warnings
                where status <> 'resolved' and escalated_at is null
                  and opened_at <= coalesce(%s, now()) - %s
                order by warning_id
                """,
                [now, timedelta(days=after)],
            ).fetchall()
        reg = registry()
        for w in due:
            if w["kind"] == "data" and w["subsystem"] in reg.subsystems:
                to = people.managing_heads(w["subsystem"], reg)
            else:
                to = people.heads(list(w["departments"]) or [reg.quality_office], reg)
            conn.execute(
                "update quality.warnings set escalated_at = coalesce(%s, now()), escalated_to = %s"
                " where warning_id = %s",
                [now, json.dumps(to, ensure_ascii=False), w["warning_id"]],
            )
            for head in to:
                _event(
                    conn,
                    w["warning_id"],
                    "escalated",
                    actor=SYSTEM,
                    recipient_email=head["email"],
                    recipient_name=head["name"],
                    note=f"逾期 {after} 天未解决，升级至{head['department']}负责人",
                )
            escalated.append(w["warning_id"])
    return escalated


def acknowledge(warning_id: int, by: str, note: str = "", url: str | None = None) -> None:
    """The person responsible has seen the warning and is working on it."""
    with psycopg.connect(url or connection.warehouse_url()) as conn:
        status = _status(conn, warning_id)
        if status != "open":
            raise ValueError(f"预警 {warning_id} 当前状态为 {status}，只有待处理的预警可以确认")
        conn.execute(
            "update quality.warnings set status = 'acknowledged', acknowledged_at = now(),"
            " acknowledged_by = %s where warning_id = %s",
            [by, warning_id],
        )
        _event(conn, warning_id, "acknowledged", actor=by, note=note or None)


def resolve(warning_id: int, by: str, how: str, url: str | None = None) -> None:
    """Close a warning by hand, saying how it was dealt with."""
    if not how.strip():
        raise ValueError("请说明如何解决 (how)")
    with psycopg.connect(url or connection.warehouse_url()) as conn:
        status = _status(conn, warning_id)
        if status == "resolved":
            raise ValueError(f"预警 {warning_id} 已经解决")
        _resolve(conn, warning_id, by, how)


def _status(conn, warning_id: int) -> str:
    row = conn.execute(
        "select status from quality.warnings where warning_id = %s", [warning_id]
    ).fetchone()
    if row is None:
        raise ValueError(f"没有编号为 {warning_id} 的预警")
    return row[0]
