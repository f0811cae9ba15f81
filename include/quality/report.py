""" "What was wrong with subsystem X on day D, and who was told" — from the results history.

The view `quality.day_report` has one row per failed or warned check result, with the warning
it raised, the people mailed about that warning (name, address, time) and the pulls held;
the report adds the indicator warnings open that day on control points computed from the
subsystem's data (`control_points.source_subsystems`):

    select * from quality.day_report where subsystem = 'academic' and day = '2026-09-22';
"""

from __future__ import annotations

from datetime import date

import psycopg
from psycopg.rows import dict_row

from include.warehouse import connection

POINTS = "marts.dim_control_points"


def known_subsystem(subsystem: str) -> str:
    """The subsystem id if Table 1 has it; otherwise a ValueError naming the valid ids."""
    from include.registry import registry

    ids = sorted(registry().subsystems)
    if subsystem not in ids:
        raise ValueError(f"没有编号为 {subsystem} 的子系统；可用的子系统：{'、'.join(ids)}")
    return subsystem


def what_was_wrong(subsystem: str, day: date | str, url: str | None = None) -> list[dict]:
    """Every failed or warned check of `subsystem` on `day` (Asia/Shanghai), and who was told."""
    known_subsystem(subsystem)
    with (
        psycopg.connect(connection.url_for("quality", url)) as conn,
        conn.cursor(row_factory=dict_row) as cur,
    ):
        return cur.execute(
            """
            select * from quality.day_report
            where subsystem = %s and day = %s
            order by verified_at, dataset, check_name
            """,
            [subsystem, day],
        ).fetchall()


def indicator_warnings(subsystem: str, day: date | str, url: str | None = None) -> list[dict]:
    """Indicator warnings open on `day` whose control point is computed from `subsystem`
    (control_points.source_subsystems), with the people mailed about them."""
    known_subsystem(subsystem)
    with (
        psycopg.connect(connection.url_for("quality", url)) as conn,
        conn.cursor(row_factory=dict_row) as cur,
    ):
        if cur.execute("select to_regclass(%s) as r", [POINTS]).fetchone()["r"] is None:
            return []
        return cur.execute(
            f"""
            select w.warning_id, w.severity, w.title, w.detail, w.status, w.failing_count,
                coalesce((
                    select array_agg(distinct e.recipient_name || ' <' || e.recipient_email || '>')
                    from quality.warning_events as e
                    where e.warning_id = w.warning_id and e.event = 'mailed'
                ), '{{}}') as told
            from quality.warnings as w
            inner join {POINTS} as p on p.control_point_code = split_part(w.warning_key, '|', 2)
            where w.kind = 'indicator'
              and %(subsystem)s = any(string_to_array(p.source_subsystems, ';'))
              and (w.opened_at at time zone 'Asia/Shanghai')::date <= %(day)s
              and coalesce((w.resolved_at at time zone 'Asia/Shanghai')::date, 'infinity')
                  >= %(day)s
            order by w.warning_id
            """,  # POINTS is our own constant
            {"subsystem": subsystem, "day": day},
        ).fetchall()


def holds_on(subsystem: str, day: date | str, url: str | None = None) -> list[dict]:
    """Batches of `subsystem` held or released on `day`: why, and who released them."""
    known_subsystem(subsystem)
    with (
        psycopg.connect(connection.url_for("quality", url)) as conn,
        conn.cursor(row_factory=dict_row) as cur,
    ):
        return cur.execute(
            """
            select pull_id, dataset, held_at, reason, released_at, released_by, release_kind,
                   release_note
            from quality.holds
            where subsystem = %(s)s
              and %(d)s in ((held_at at time zone 'Asia/Shanghai')::date,
                            (released_at at time zone 'Asia/Shanghai')::date)
            order by pull_id
            """,
            {"s": subsystem, "d": day},
        ).fetchall()


def format_report(
    subsystem: str,
    day: date | str,
    rows: list[dict],
    indicators: list[dict] | None = None,
    batches: list[dict] | None = None,
) -> str:
    indicators, batches = indicators or [], batches or []
    if not rows and not indicators and not batches:
        return f"{subsystem} 在 {day} 没有未通过或需提醒的检查，也没有指标预警。"
    lines = [f"{subsystem} 在 {day} 的质量问题（{len(rows)} 项检查结果）："]
    for r in rows:
        count = f"，{r['failing_count']} 条" if r["failing_count"] is not None else ""
        samples = f"，样例 {'、'.join(r['sample_keys'])}" if r["sample_keys"] else ""
        held = f"，暂扣批次 {', '.join(map(str, r['held_pulls']))}" if r["held_pulls"] else ""
        lines.append(
            f"- {r['verified_at']:%H:%M} [{r['principle']}/{r['outcome']}] {r['dataset']}："
            f"{r['check_name']}{count}{samples}{held}"
        )
        if r["warning_id"]:
            lines.append(f"    预警 {r['warning_id']}（{r['warning_status']}）已通知：")
            lines.extend(f"      {t}" for t in r["told"] or ["（尚未发出邮件）"])
    for h in batches:
        how = "质量管理员接受" if h["release_kind"] == "accepted" else "复核通过"
        done = (
            f"，{h['released_at']:%m-%d %H:%M} 由 {h['released_by'] or '系统'} 放行（{how}"
            + (f"：{h['release_note']}" if h["release_note"] else "")
            + "）"
            if h["released_at"]
            else "，仍在暂扣中"
        )
        lines.append(f"- 暂扣批次 {h['pull_id']}（{h['dataset']}）：{h['reason']}{done}")
    if indicators:
        lines.append(f"指标预警（由 {subsystem} 的数据计算的质控点，{len(indicators)} 项）：")
    for w in indicators:
        lines.append(f"- 预警 {w['warning_id']}（{w['status']}）【{w['severity']}】{w['title']}")
        lines.append(f"    {w['detail']}")
        lines.append("    已通知：" + ("、".join(w["told"]) or "（尚未发出邮件）"))
    return "\n".join(lines)


def summary(url: str | None = None) -> dict:
    """The main job's quality figures: records refused by reason (landing.rejects, Chinese
    reason names), batches held / released / still held, and warnings opened, acknowledged and
    resolved (data and indicator), how many people were mailed, each held batch with who
    released it, and to whom the warnings were routed (department, role, person)."""
    from include.quality.contracts import REJECT_REASONS

    with psycopg.connect(connection.url_for("quality", url)) as conn:
        rejects = {
            REJECT_REASONS.get(code, code): n
            for code, n in conn.execute(
                "select reason_code, count(*) from landing.rejects group by 1 order by 2 desc"
            ).fetchall()
        }
        held, released = conn.execute(
            "select count(*), count(released_at) from quality.holds"
        ).fetchone()
        opened, acknowledged, resolved, data, indicator = conn.execute(
            """
            select count(*), count(acknowledged_at), count(resolved_at),
                   count(*) filter (where kind = 'data'), count(*) filter (where kind = 'indicator')
            from quality.warnings
            """
        ).fetchone()
        (mailed,) = conn.execute(
            "select count(distinct recipient_email) from quality.warning_events"
            " where event = 'mailed'"
        ).fetchone()
        routed = [
            {"department": dept, "role": role, "name": name, "warnings": n}
            for dept, role, name, n in conn.execute(
                """
                select r ->> 'department',
                       (array_agg(r ->> 'role' order by length(r ->> 'role') desc))[1],
                       r ->> 'name', count(*)
                from quality.warnings as w, jsonb_array_elements(w.recipients) as r
                group by r ->> 'department', r ->> 'name'
                order by 4 desc, 1, 3
                """
            ).fetchall()
        ]
        hold_rows = conn.execute(
            """
            select pull_id, subsystem, resource, reason, released_by, release_kind
            from quality.holds
            order by held_at, pull_id
            """
        ).fetchall()
    return {
        "rejects": rejects,
        "holds": {"held": held, "released": released, "open": held - released},
        "held_batches": [
            {
                "pull_id": pull_id, "subsystem": subsystem, "resource": resource,
                "reason": reason, "released_by": by, "release_kind": kind,
            }
            for pull_id, subsystem, resource, reason, by, kind in hold_rows
        ],
        "routed": routed,
        "warnings": {
            "opened": opened, "acknowledged": acknowledged, "resolved": resolved,
            "data": data, "indicator": indicator, "people_mailed": mailed,
        },
    }  # fmt: skip
