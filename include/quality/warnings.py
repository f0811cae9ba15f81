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
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from include import yamlfile
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
                severity = %s, detail = %s, advice = coalesce(%s, advice),
                failing_count = %s, sample_keys = %s,
                pull_ids = (select array(select distinct unnest(pull_ids || %s::bigint[])))
            where warning_id = %s
            """,
            [
                result_id, values["severity"], values["detail"], values.get("advice"),
                values.get("failing_count"),
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


def dataset_label(dataset: str, reg=None) -> str:
    """A dataset as its people call it: 教务管理系统·学生基本信息, 数据集市·录取与报到."""
    schema, _, table = dataset.partition(".")
    if schema.startswith("raw_"):
        sid = schema.removeprefix("raw_")
        reg = reg or registry()
        name = reg.subsystems[sid].name_zh if sid in reg.subsystems else sid
        try:
            from connectors.spec import api_specs

            what = getattr(api_specs()[sid].resources[table], "description", "") or table
        except Exception:  # a label only: an unreadable connector file must not stop warnings
            what = table
        return f"{name}·{what}"
    if schema == "marts":
        from include.quality.contracts import _mart_models

        described = _mart_models().get(table, ("",))[0]
        return f"数据集市·{described.split('：')[0] or table}"
    return dataset


def _data_detail(r: dict, label: str) -> str:
    verdict = "未通过" if r["outcome"] == "failed" else "需要注意"
    parts = [f"{label} 的检查“{r['check_name']}”{verdict}。"]
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
    with psycopg.connect(connection.url_for("quality", url)) as conn:
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
                label = dataset_label(r["dataset"], reg)
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
                        "title": f"{label}：{klass.title}"
                        + (
                            f"（{detail}）"
                            if (detail := catalog.split_qualifier(r["check_key"])[1])
                            else ""
                        ),
                        "detail": _data_detail(r, label),
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


def _resolve_key(conn, key: str, how: str) -> int | None:
    """Resolve the unresolved warning with this key, if any (the platform saw it fixed)."""
    row = conn.execute(
        "select warning_id from quality.warnings where warning_key = %s and status <> 'resolved'",
        [key],
    ).fetchone()
    if row:
        _resolve(conn, row[0], SYSTEM, how)
    return row[0] if row else None


def connection_warning(
    subsystem_id: str, conn_id: str, message: str | None, advice: str | None = None
) -> int | None:
    """A subsystem's link is broken (message: connection missing or wrong, credentials refused,
    certificate failed, host unreachable), or works again (None).

    Opens (or refreshes) a data warning to the subsystem's collectors, or resolves it.
    """
    key = f"connection|{subsystem_id}|{conn_id}"
    with psycopg.connect(connection.url_for("quality")) as conn:
        if message is None:
            _resolve_key(conn, f"config|{subsystem_id}", "子系统文件已改正，采集恢复")
            return _resolve_key(conn, key, f"连接 {conn_id} 已可用，采集恢复")
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
                "advice": advice
                or "请信息中心在 Airflow 界面 管理 → 连接 中配置该连接后重新运行采集",
                "departments": people.departments(subsystem_id),
                "recipients": people.warned(subsystem_id),
            },
            None,
            escalate_after_days(),
        )
    return warning_id


def config_warning(path: Path, message: str) -> int:
    """A subsystem file the registry refuses (`message`: its one line): nothing of that
    subsystem can be collected until it is fixed.

    Told, as far as the broken file can still be read: its collectors with a mailbox and the
    quality administrators of the managing departments it names; if it names none that can
    be read, 质管办 (who hears the warnings nobody else owns). The Information Center, who
    edits the file, sees the failed DAG in the Airflow UI. The first pull through after the
    fix resolves it (`connection_warning(..., None)`).
    """
    reg = registry()
    try:
        data = yamlfile.load(path.read_text(encoding="utf-8"), path.name)
    except Exception:  # unreadable is the finding itself; still warn
        data = None
    data = data if isinstance(data, dict) else {}
    found = [
        {"name": c["name"], "email": c["email"], "role": f"数据采集员（{c.get('role') or ''}）",
         "department": c.get("department")}
        for c in data.get("collectors") or []
        if isinstance(c, dict) and all(isinstance(c.get(k), str) for k in ("name", "email"))
    ]  # fmt: skip
    managing = data.get("managing_departments")
    managing = [managing] if isinstance(managing, str) else managing
    depts = [d for d in managing or [] if isinstance(d, str) and d in reg.departments]
    for dept in depts:
        found += people.department_administrators(dept, reg)
    name = data.get("name_zh") if isinstance(data.get("name_zh"), str) else path.stem
    with psycopg.connect(connection.warehouse_url()) as conn:
        warning_id, _ = _open_or_update(
            conn,
            f"config|{path.stem}",
            {
                "kind": "data",
                "subsystem": path.stem,
                "dataset": f"raw_{path.stem}",
                "check_key": "config",
                "principle": "即时性",
                "severity": "未通过",
                "title": f"{name}：子系统文件 {path.name} 有误，暂停采集",
                "detail": message,
                "advice": f"请信息中心按提示改正 connectors/subsystems/{path.name}，"
                "运行 ./run registry check 确认后重新运行采集",
                "departments": depts or [reg.quality_office],
                "recipients": people.unique(found) or _qmo_people(),
            },
            None,
            escalate_after_days(),
        )
    return warning_id


def not_submitted_warning(subsystem_id: str, messages: list[str] | None) -> int | None:
    """The source has not submitted its data (the vendor's messages), or has now (None).

    A timeliness finding against the subsystem's organising department, not a link fault: the
    collectors and quality administrators are told; the next successful pull resolves it.
    """
    key = f"not_submitted|{subsystem_id}"
    with psycopg.connect(connection.url_for("quality")) as conn:
        if messages is None:
            return _resolve_key(conn, key, "数据已报送，采集成功")
        s = registry().subsystems[subsystem_id]
        warning_id, _ = _open_or_update(
            conn,
            key,
            {
                "kind": "data",
                "subsystem": subsystem_id,
                "dataset": f"raw_{subsystem_id}",
                "check_key": "not_submitted",
                "principle": "即时性",
                "severity": "未通过",
                "title": f"{s.name_zh}：本期数据尚未报送，已过采集时间",
                "detail": "；".join(dict.fromkeys(messages)),
                "advice": (
                    f"请{'、'.join(s.organising_departments)}的数据采集人员尽快在{s.name_zh}中"
                    "完成本期数据报送；报送后平台在下一次计划采集时自动补采，信息中心也可在 "
                    f"Airflow 界面运行 DAG「采集：{s.name_zh}」立即补采"
                ),
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

STATUS_RANK = {"未达标": 0, "预警": 1}
UNIT_NOUN = {
    "school": ("", "全校"), "major": ("个", "专业"), "major_cluster": ("个", "专业群"),
    "course": ("门", "课程"), "staff": ("名", "教师"), "student": ("名", "学生"),
    "budget_item": ("个", "预算项目"),
}  # fmt: skip
ORGS_SHOWN = 8


def period_label(period_type: str | None, period: str | None) -> str:
    """2026-2027-1 → 2026-2027学年第一学期, 2026-09 → 2026年9月, and so on."""
    p = period or ""
    if period_type == "term" and p.count("-") == 2:
        year, term = p.rsplit("-", 1)
        return f"{year}学年第{'一' if term == '1' else '二'}学期"
    if period_type == "academic_year":
        return f"{p}学年"
    if period_type == "month" and "-" in p:
        year, month = p.split("-")
        return f"{year}年{int(month)}月"
    if period_type == "year":
        return f"{p}年度"
    return p


def figure(value, unit: str | None) -> str:
    """78.6700 % → 78.67%; 19.2 :1 → 19.2:1."""
    if value is None:
        return "—"
    return f"{float(value):.2f}".rstrip("0").rstrip(".") + (unit or "")


def _relation(conn) -> str | None:
    found = conn.execute("select to_regclass(%s)", [INDICATOR_RELATION]).fetchone()[0]
    return INDICATOR_RELATION if found else None


def _indicator_rows(conn, relation: str) -> list[dict]:
    """The judged control-point values of each point's latest judged period (values not yet
    due, see control_points.due_after_days, have no status and are left out; a course last
    taught two terms ago is not warned about again)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            # The latest judged period of each point, computed once: a correlated max() per
            # row made this quadratic (47,000 rows at default scale held the mart for minutes).
            f"""
            with latest as (
                select control_point_code, max(period_id) as period_id
                from {relation}
                where status is not null
                group by control_point_code
            )
            select distinct on (v.control_point_code, v.unit_type, v.unit_id)
                v.control_point_code as point_code, v.control_point_name as point_name,
                v.period_type, v.period_id as period, v.unit_type, v.unit_id, v.unit_name,
                coalesce(v.org_unit_name, v.owner_department) as org_name,
                v.owner_department, v.status, v.value, v.unit, v.direction,
                v.target_value, v.warning_value, v.standard_value
            from {relation} as v
            inner join latest
                on latest.control_point_code = v.control_point_code
                and latest.period_id = v.period_id
            where v.status is not null
            order by v.control_point_code, v.unit_type, v.unit_id, v.period_id desc
            """  # relation is our own constant
        ).fetchall()


def _rolled_up(rows: list[dict]) -> dict:
    """One warning's fields for one control point and period: the units below the lines,
    worst first, each named in words with its figure."""
    first = rows[0]
    flagged = [r for r in rows if r["status"] in STATUS_RANK]
    sign = 1 if first["direction"] == "higher_is_better" else -1
    flagged.sort(key=lambda r: (STATUS_RANK[r["status"]], sign * float(r["value"] or 0)))
    unit = first["unit"] or ""
    cmp = "≥" if first["direction"] == "higher_is_better" else "≤"
    measure, noun = UNIT_NOUN.get(first["unit_type"], ("个", "单位"))
    label = period_label(first["period_type"], first["period"])
    worst = "未达标" if any(r["status"] == "未达标" for r in flagged) else "预警"
    below = sum(1 for r in flagged if r["status"] == "未达标")
    lines = (
        f"合格线 {cmp}{figure(first['standard_value'], unit)}，"
        f"预警线 {cmp}{figure(first['warning_value'], unit)}，"
        f"目标值 {cmp}{figure(first['target_value'], unit)}"
    )
    if first["unit_type"] == "school":
        title = f"质控点{worst}：全校 {first['point_name']}（{first['point_code']}，{label}）"
        detail = f"{label}全校{first['point_name']} {figure(first['value'], unit)}；{lines}。"
    else:
        title = (
            f"质控点{worst}：{first['point_name']}（{first['point_code']}，{label}）"
            f" {len(flagged)} {measure}{noun}未达到预警线"
        )
        orgs: dict[str, int] = {}
        for r in flagged:
            orgs[r["org_name"] or "未知院系"] = orgs.get(r["org_name"] or "未知院系", 0) + 1
        by_org = "、".join(
            f"{name} {n}" for name, n in sorted(orgs.items(), key=lambda kv: -kv[1])[:ORGS_SHOWN]
        ) + ("等" if len(orgs) > ORGS_SHOWN else "")
        detail = (
            f"{label}共评判 {len(rows)} {measure}{noun}，未达标（低于合格线）{below}、"
            f"预警（低于预警线）{len(flagged) - below}；{lines}。按院系/部门：{by_org}。"
        )
    return {
        "kind": "indicator",
        "severity": worst,
        "title": title,
        "detail": detail,
        "advice": "请逐一核实名单中的单位，分析原因、制定改进措施，并在下一周期跟踪改进效果"
        "（诊改“8 字形”质量改进螺旋）。",
        "failing_count": len(flagged),
        "sample_keys": [
            f"{r['unit_name'] or r['unit_id']}：{figure(r['value'], unit)}（{r['status']}）"
            for r in flagged
        ],
        "departments": [first["owner_department"]] if first["owner_department"] else [],
    }


def sync_indicator_warnings(url: str | None = None) -> dict:
    """One warning per control point and period with units at 预警/未达标, listing those units;
    resolve warnings whose point is back at 达标 (or has moved on to a new period)."""
    days = escalate_after_days()
    reg = registry()
    opened, updated, resolved = [], [], []
    with psycopg.connect(connection.url_for("quality", url)) as conn:
        relation = _relation(conn)
        if relation is None:
            return {"relation": None, "opened": [], "updated": [], "resolved": []}
        groups: dict[str, list[dict]] = {}
        for row in _indicator_rows(conn, relation):
            key = f"indicator|{row['point_code']}|{row['period'] or ''}"
            groups.setdefault(key, []).append(row)
        flagged = set()
        for key, rows in sorted(groups.items()):
            if not any(r["status"] in STATUS_RANK for r in rows):
                continue
            flagged.add(key)
            values = _rolled_up(rows)
            dept = rows[0]["owner_department"]
            owners = people.department_administrators(dept) if dept in reg.departments else []
            values["recipients"] = people.unique(owners + _qmo_people())
            warning_id, new = _open_or_update(conn, key, values, None, days)
            (opened if new else updated).append(warning_id)
        judged_points = {key.split("|")[1] for key in groups}
        stale = conn.execute(
            "select warning_id, warning_key from quality.warnings"
            " where kind = 'indicator' and status <> 'resolved' and not (warning_key = any(%s))",
            [sorted(flagged)],
        ).fetchall()
        for warning_id, key in stale:
            if key.split("|")[1] not in judged_points:
                continue  # not judged this time (not due yet, or no data): nothing to say
            how = "质控点已达标" if key in groups else "已由该质控点最新一期的预警取代"
            _resolve(conn, warning_id, SYSTEM, how)
            resolved.append(warning_id)
    return {"relation": relation, "opened": opened, "updated": updated, "resolved": resolved}


# -- escalation and the manual lifecycle ----------------------------------------------------------


def escalate(url: str | None = None, now: datetime | None = None, after_days: int | None = None):
    """Escalate warnings unresolved for `after_days` to the responsible department heads."""
    after = escalate_after_days() if after_days is None else after_days
    escalated = []
    with psycopg.connect(connection.url_for("quality", url)) as conn:
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


class AlreadyResolved(ValueError):
    """The warning was resolved after the mail that named it: nothing left to acknowledge."""


def acknowledge(warning_id: int, by: str, note: str = "", url: str | None = None) -> None:
    """The person responsible has seen the warning and is working on it."""
    with psycopg.connect(connection.url_for("quality", url)) as conn:
        status = _status(conn, warning_id)
        if status == "resolved":
            raise AlreadyResolved(f"预警 {warning_id} 已经解决，无需再确认")
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
    with psycopg.connect(connection.url_for("quality", url)) as conn:
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
