"""Build the department analysis report (Article 12) and the school-level 人才培养状态分析报告
(Article 13) from the warehouse, as data: sections of tables, charts and text whose numbers are
references to traced figures (see figures.py). The section list is `sections.yml`.

部门数据分析报告与学校人才培养状态分析报告：章节见 sections.yml，数字全部经溯源取得。
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import psycopg
import yaml

from include.reports import findings as rules
from include.reports.figures import Figure, Tracer, UntracedFigure
from include.reports.periods import TZ, Period, PeriodError, resolve

SECTIONS_FILE = Path(__file__).with_name("sections.yml")
LEVELS = {"school": "学校", "major": "专业", "course": "课程", "teacher": "教师", "student": "学生"}
PRINCIPLES = ("原始性", "规范性", "完整性", "即时性")
CP = "marts.fct_control_point_values"


@cache
def config() -> dict:
    return yaml.safe_load(SECTIONS_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Ref:
    """A table cell or chart point that prints figure `key`."""

    key: str


@dataclass
class Table:
    columns: list[str]
    rows: list[list]
    note: str = ""


@dataclass
class Chart:
    title: str
    unit: str
    series: dict[str, list[tuple[str, Ref]]]  # series name -> [(x label, figure)]
    lines: dict[str, float] = field(default_factory=dict)  # 目标值/标准值/预警值
    png: bytes = b""
    cid: str = ""  # Content-ID of the image in the e-mail


@dataclass
class Section:
    kind: str
    title: str
    blocks: list = field(default_factory=list)


@dataclass
class Report:
    kind: str
    period: Period
    department: str
    title: str
    generated_at: datetime
    sections: list[Section]
    figures: dict[str, Figure]
    refused: list[Figure]
    findings: list[rules.Finding]
    recipients: list[dict]

    def figure(self, key: str) -> Figure:
        """The traced figure `key`; UntracedFigure when it was refused or never measured."""
        fig = self.figures.get(key)
        if fig is None or not fig.traced:
            raise UntracedFigure(f"数字 {key} 无法溯源，不得印出")
        return fig


class Context:
    def __init__(self, conn, tracer: Tracer, period: Period, department: str, subsystems):
        self.conn, self.t, self.period = conn, tracer, period
        self.department, self.subsystems = department, subsystems
        self.previous: Period | None = None
        if period.previous_id:
            try:
                self.previous = resolve(conn, period.kind, period.previous_id)
            except PeriodError:
                self.previous = None
        self.report_rows: list[dict] = []


def _cell(fig: Figure | None):
    return Ref(fig.key) if fig is not None else "未印出（无法溯源）"


# ---- data status of subsystems (landing.run_log, landing.rejects, quality.*) -------------------

RUN_LOG_SQL = """
select {expr} from landing.run_log
where subsystem = %(subsystem)s and finished_at >= %(start)s and finished_at < %(end)s
"""
LAG_SQL = """
select round(extract(epoch from (least(%(end)s, now()) - max(finished_at))) / 3600, 1)
from landing.run_log
where subsystem = %(subsystem)s and status = 'success' and finished_at < %(end)s
"""
REJECTS_SQL = """
select count(*) from landing.rejects
where subsystem = any(%(subsystems)s) and received_at >= %(start)s and received_at < %(end)s
    {extra}
"""
PASS_RATE_SQL = """
select round(100.0 * count(*) filter (where outcome = 'passed') / nullif(count(*), 0), 1)
from (
    select distinct on (dataset, check_key) outcome, principle
    from quality.check_results
    where subsystem = any(%(subsystems)s) and outcome in ('passed', 'failed', 'warned')
        and verified_at >= %(start)s and verified_at < %(end)s
    order by dataset, check_key, verified_at desc
) as last_result
{where}
"""
FIRST_PULL_SQL = """
select subsystem, min(finished_at) from landing.run_log
where subsystem = any(%(subsystems)s) and status = 'success'
group by subsystem
having min(finished_at) >= %(end)s
order by subsystem
"""
WARNINGS_SQL = """
select count(*) from quality.warnings
where (subsystem = any(%(subsystems)s) or departments && %(departments)s)
    and opened_at < %(end)s and coalesce(resolved_at, 'infinity') >= %(end)s {extra}
"""


def _window(p: Period) -> dict:
    return {"start": p.start_at, "end": p.end_at}


def subsystem_status(ctx: Context, sid: str, name: str) -> dict:
    t, p = ctx.t, ctx.period
    base = {"subsystem": sid, **_window(p)}
    figs = {
        "pulls": t.measure(
            f"dq:{sid}:pulls",
            f"{name} 成功采集次数",
            "landing.run_log",
            RUN_LOG_SQL.format(expr="count(*) filter (where status = 'success')"),
            base,
            [sid],
            "次",
        ),
        "failed": t.measure(
            f"dq:{sid}:failed_pulls",
            f"{name} 失败采集次数",
            "landing.run_log",
            RUN_LOG_SQL.format(expr="count(*) filter (where status = 'failed')"),
            base,
            [sid],
            "次",
        ),
        "not_submitted": t.measure(
            f"dq:{sid}:not_submitted",
            f"{name} 数据源尚未报送的采集次数",
            "landing.run_log",
            RUN_LOG_SQL.format(expr="count(*) filter (where status = 'not_submitted')"),
            base,
            [sid],
            "次",
        ),
        "landed": t.measure(
            f"dq:{sid}:landed",
            f"{name} 新落地记录数",
            "landing.run_log",
            RUN_LOG_SQL.format(expr="coalesce(sum(landed), 0)"),
            base,
            [sid],
            "条",
        ),
        "lag": t.measure(
            f"dq:{sid}:lag_hours",
            f"{name} 最近一次成功采集距期末（小时）",
            "landing.run_log",
            LAG_SQL,
            base,
            [sid],
            "小时",
        ),
        "rejected": t.measure(
            f"dq:{sid}:rejected",
            f"{name} 拒收记录数",
            "landing.rejects",
            REJECTS_SQL.format(extra=""),
            {"subsystems": [sid], **_window(p)},
            [sid],
            "条",
        ),
        "pass_rate": t.measure(
            f"dq:{sid}:pass_rate",
            f"{name} 检查通过率",
            "quality.check_results",
            PASS_RATE_SQL.format(where=""),
            {"subsystems": [sid], **_window(p)},
            [sid],
            "%",
        ),
        "open": t.measure(
            f"dq:{sid}:open_warnings",
            f"{name} 未解决预警",
            "quality.warnings",
            WARNINGS_SQL.format(extra=""),
            {"subsystems": [sid], "departments": [], "end": p.end_at},
            [sid],
            "条",
        ),
        "overdue": t.measure(
            f"dq:{sid}:overdue_warnings",
            f"{name} 逾期预警",
            "quality.warnings",
            WARNINGS_SQL.format(extra="and due_at < least(%(end)s, now())"),
            {"subsystems": [sid], "departments": [], "end": p.end_at},
            [sid],
            "条",
        ),
    }
    if ctx.previous:
        figs["pass_rate_prev"] = t.measure(
            f"dq:{sid}:pass_rate:{ctx.previous.id}",
            f"{name} 检查通过率（{ctx.previous.label}）",
            "quality.check_results",
            PASS_RATE_SQL.format(where=""),
            {"subsystems": [sid], **_window(ctx.previous)},
            [sid],
            "%",
        )
    return figs


def section_data_quality(ctx: Context, spec: dict) -> list:
    from include.registry import registry

    subsystems = registry().subsystems
    rows = []
    for sid in ctx.subsystems:
        s = subsystems[sid]
        f = subsystem_status(ctx, sid, s.name_zh)
        ctx.status = getattr(ctx, "status", {}) | {sid: (s, f)}
        rows.append(
            [
                s.name_zh,
                "、".join(s.managing_departments),
                _cell(f["pulls"]),
                _cell(f["failed"]),
                _cell(f["not_submitted"]),
                _cell(f["landed"]),
                _cell(f["lag"]),
                f"{s.plan.deadline_hours} 小时",
                _cell(f["pass_rate"]),
                _cell(f["rejected"]),
                _cell(f["open"]),
                _cell(f["overdue"]),
            ]
        )
    cols = [
        "子系统",
        "归口管理部门",
        "成功采集",
        "失败采集",
        "未报送",
        "新落地记录",
        "距期末（小时）",
        "规定时限",
        "检查通过率",
        "拒收",
        "未解决预警",
        "逾期预警",
    ]
    note = (
        "距期末：期末（或当前，取早者）与最近一次成功采集结束的间隔；"
        "规定时限为各子系统采集计划中的报送时限（见“规定时限”一列）。"
    )
    # Subsystems the platform began collecting after the period: their 0 pulls are not a fault.
    late = ctx.conn.execute(FIRST_PULL_SQL, {"subsystems": ctx.subsystems, **_window(ctx.period)})
    firsts = [f"{subsystems[sid].name_zh}（{at.astimezone(TZ):%Y-%m-%d}）" for sid, at in late]
    if firsts:
        joined = "、".join(firsts)
        note += (
            f"本期结束时以下子系统尚未接入平台，括号内为首次采集日期：{joined}；"
            "其本期采集次数为 0 是因为平台当时尚未运行，不表示源系统未按时报送。"
        )
    return [Table(cols, rows, note)]


def section_check_principles(ctx: Context, spec: dict) -> list:
    rows = []
    for principle in PRINCIPLES:
        params = {"subsystems": ctx.subsystems, **_window(ctx.period), "principle": principle}
        fig = ctx.t.measure(
            f"pr:{principle}:pass_rate",
            f"{principle} 检查通过率",
            "quality.check_results",
            PASS_RATE_SQL.format(where="where principle = %(principle)s"),
            params,
            ctx.subsystems,
            "%",
        )
        rows.append([principle, _cell(fig)])
    return [Table(["数据原则", "检查通过率（每项检查取本期最后一次结果）"], rows)]


def section_rejects(ctx: Context, spec: dict) -> list:
    reasons = ctx.t.rows(
        "select reason_code, min(reason) as example from landing.rejects "
        "where subsystem = any(%(subsystems)s) and received_at >= %(start)s "
        "and received_at < %(end)s group by reason_code order by reason_code",
        {"subsystems": ctx.subsystems, **_window(ctx.period)},
    )
    if not reasons:
        return ["本期没有拒收记录。"]
    rows = []
    for r in reasons:
        params = {"subsystems": ctx.subsystems, **_window(ctx.period), "code": r["reason_code"]}
        fig = ctx.t.measure(
            f"rj:{r['reason_code']}",
            f"拒收（{r['reason_code']}）",
            "landing.rejects",
            REJECTS_SQL.format(extra="and reason_code = %(code)s"),
            params,
            ctx.subsystems,
            "条",
        )
        rows.append([r["reason_code"], _cell(fig), r["example"][:60]])
    return [Table(["原因代码", "条数", "示例说明"], rows)]


def section_warnings(ctx: Context, spec: dict) -> list:
    p = ctx.period
    params = {"subsystems": ctx.subsystems, "departments": [ctx.department], "end": p.end_at}
    open_ = ctx.t.measure(
        "wn:open",
        "未解决预警",
        "quality.warnings",
        WARNINGS_SQL.format(extra=""),
        params,
        ctx.subsystems,
        "条",
    )
    overdue = ctx.t.measure(
        "wn:overdue",
        "逾期未解决预警",
        "quality.warnings",
        WARNINGS_SQL.format(extra="and due_at < least(%(end)s, now())"),
        params,
        ctx.subsystems,
        "条",
    )
    listing = ctx.t.rows(
        """select w.warning_id, w.title, w.severity, w.due_at,
            coalesce((select string_agg(distinct e.recipient_name, '、')
                      from quality.warning_events e
                      where e.warning_id = w.warning_id and e.event = 'mailed'), '') as told,
            coalesce((select string_agg(distinct x->>'name', '、')
                      from jsonb_array_elements(w.recipients) as x), '') as recipients
        from quality.warnings w
        where (w.subsystem = any(%(subsystems)s) or w.departments && %(departments)s)
            and w.opened_at < %(end)s and coalesce(w.resolved_at, 'infinity') >= %(end)s
            and w.due_at < least(%(end)s, now())
        order by w.due_at, w.warning_id limit 15""",
        params,
    )
    blocks: list = [Table(["未解决预警", "其中逾期"], [[_cell(open_), _cell(overdue)]])]
    if listing:
        blocks.append(
            Table(
                ["预警", "级别", "处理期限", "已通知"],
                [
                    [
                        r["title"][:40],
                        r["severity"],
                        f"{r['due_at'].astimezone(TZ):%Y-%m-%d}",
                        r["told"] or r["recipients"] or "（未记录）",
                    ]
                    for r in listing
                ],
                "逾期预警（最多列 15 条，全部见 quality.warnings）",
            )
        )
    return blocks


# Correction forms (Annex 1) of a subsystem by outcome in the period, from the history mart:
# closed in the period as verified (in effect), refused or timed out; open at the period's end.
CORRECTIONS_SQL = """
select {expr} from marts.correction_history
where subsystem_id = %(subsystem)s and {where}
"""
CLOSED_IN = "status = '{}' and closed_at >= %(start)s and closed_at < %(end)s"
CORRECTION_OUTCOMES = {
    "verified": ("已核验生效", CLOSED_IN.format("verified")),
    "refused": ("已退回", CLOSED_IN.format("refused")),
    "timed_out": ("超时未办", CLOSED_IN.format("timed_out")),
    "open": ("期末审批中", "submitted_at < %(end)s and coalesce(closed_at, 'infinity') >= %(end)s"),
}
FORMS_SQL = """
select distinct on (form_no) form_no, status, reporting_department, filler_name, verified_by,
    approvals, count(*) over (partition by form_no) as items
from marts.correction_history
where subsystem_id = %(subsystem)s and {where}
order by form_no
"""
ACTIVE_SQL = """
select distinct subsystem_id from marts.correction_history
where subsystem_id = any(%(subsystems)s) and submitted_at < %(end)s
    and coalesce(closed_at, 'infinity') >= %(start)s
"""


def _form(row: dict) -> dict:
    """One form as a figure's correction: number, outcome, who filled, signed and verified."""
    signed = [a["name"] for a in row["approvals"] if a.get("decision") == "approve" and a["name"]]
    return {
        "form_no": row["form_no"],
        "status": row["status"],
        "reporting_department": row["reporting_department"],
        "filler": row["filler_name"],
        "signed_by": list(dict.fromkeys(signed)),
        "verified_by": row["verified_by"],
        "items": int(row["items"]),
    }


def correction_figures(ctx: Context, sid: str, name: str) -> dict[str, Figure | None]:
    """Per outcome, the number of forms of subsystem `sid`; each figure lists its forms (number,
    outcome, filler, signers, 质管办's verifier) as its corrections."""
    out = {}
    for what, (label, where) in CORRECTION_OUTCOMES.items():
        params = {"subsystem": sid, **_window(ctx.period)}
        forms = ctx.t.rows(FORMS_SQL.format(where=where), params)
        out[what] = ctx.t.measure(
            f"cr:{sid}:{what}",
            f"{name} 更正表 {label}",
            "marts.correction_history",
            CORRECTIONS_SQL.format(expr="count(distinct form_no)", where=where),
            params,
            [sid],
            "份",
            corrections=[_form(f) for f in forms],
            by_subsystem=True,
        )
    return out


def section_corrections(ctx: Context, spec: dict) -> list:
    """Forms per subsystem and outcome; with `only_with_forms` (the school report) only the
    subsystems that had a form open during the period are listed."""
    from include.registry import registry

    subsystems = registry().subsystems
    listed = ctx.subsystems
    if spec.get("only_with_forms"):
        active = ctx.t.rows(ACTIVE_SQL, {"subsystems": listed, **_window(ctx.period)})
        listed = sorted(r["subsystem_id"] for r in active)
    if not listed:
        return ["本期没有提交或办结的数据更正表（marts.correction_history）。"]
    rows = []
    for sid in listed:
        figs = correction_figures(ctx, sid, subsystems[sid].name_zh)
        ctx.corrections = getattr(ctx, "corrections", {}) | {sid: (subsystems[sid].name_zh, figs)}
        forms = sorted({c["form_no"] for f in figs.values() if f for c in f.corrections})
        cells = [_cell(figs[w]) for w in CORRECTION_OUTCOMES]
        rows.append([subsystems[sid].name_zh, *cells, "、".join(forms) or "—"])
    columns = ["子系统", *(label for label, _ in CORRECTION_OUTCOMES.values()), "更正表编号"]
    note = (
        "附件 1 数据采集更正表（marts.correction_history）：已核验生效、已退回、超时未办为本期办结"
        "的表数，期末审批中为期末尚未办结的表数；填报人、签署人与核验人见附录数字溯源。"
    )
    return [Table(columns, rows, note)]


# ---- control points (marts.fct_control_point_values) -------------------------------------------

POINTS_SQL = """
select control_point_code, level, name_zh, unit, direction, target_value, standard_value,
    warning_value, period_type, unit_type, owner_department, source_subsystems
from marts.dim_control_points {where} order by control_point_code
"""
CP_VALUE_SQL = """
select value from marts.fct_control_point_values
where control_point_code = %(code)s and period_id = %(period)s and unit_type = 'school'
"""
CP_AGG_SQL = """
select {expr} from marts.fct_control_point_values
where control_point_code = %(code)s and period_id = %(period)s and value is not null
"""
CP_AGGS = {
    "units": ("count(*)", "统计单位数", "个"),
    "reached": ("count(*) filter (where status = '达标')", "达标单位数", "个"),
    "missed": ("count(*) filter (where status = '未达标')", "未达标单位数", "个"),
    "reach_rate": (
        "round(100.0 * count(*) filter (where status = '达标') / nullif(count(*), 0), 1)",
        "达标率",
        "%",
    ),
}


def _point_periods(ctx: Context, point: dict) -> list[str]:
    target = ctx.period.control_point_period(point["period_type"])
    if target is None:
        return []
    return [
        r["period_id"]
        for r in ctx.t.rows(
            "select distinct period_id from marts.fct_control_point_values "
            "where control_point_code = %(code)s and period_id <= %(period)s order by period_id",
            {"code": point["control_point_code"], "period": target},
        )
    ]


def point_figures(ctx: Context, point: dict) -> dict:
    """Figures of one control point: per period available up to the report's, the school value
    (school-level points) or the units reached and the reach rate (unit-level points)."""
    code, subs = point["control_point_code"], point["source_subsystems"].split(";")
    out: dict[str, dict[str, Figure | None]] = {}
    for pid in _point_periods(ctx, point):
        params = {"code": code, "period": pid}
        if point["unit_type"] == "school":
            out[pid] = {
                "value": ctx.t.measure(
                    f"cp:{code}:{pid}:value",
                    f"{point['name_zh']}（{pid}）",
                    CP,
                    CP_VALUE_SQL,
                    params,
                    subs,
                    point["unit"],
                )
            }
        else:
            out[pid] = {
                name: ctx.t.measure(
                    f"cp:{code}:{pid}:{name}",
                    f"{point['name_zh']} {label}（{pid}）",
                    CP,
                    CP_AGG_SQL.format(expr=expr),
                    params,
                    subs,
                    unit,
                )
                for name, (expr, label, unit) in CP_AGGS.items()
            }
    return out


def _status(point: dict, value: float | None) -> str:
    if value is None:
        return "—"
    higher = point["direction"] == "higher_is_better"
    std, warn = float(point["standard_value"]), float(point["warning_value"])
    if (value < std) if higher else (value > std):
        return "未达标"
    if (value < warn) if higher else (value > warn):
        return "预警"
    return "达标"


def _points(ctx: Context, where: str = "", params: dict | None = None) -> list[dict]:
    return ctx.t.rows(POINTS_SQL.format(where=where), params or {})


def _point_rows(ctx: Context, points: list[dict]) -> tuple[list, list]:
    rows, charts = [], []
    for point in points:
        figs = point_figures(ctx, point)
        ctx.points = getattr(ctx, "points", {}) | {point["control_point_code"]: (point, figs)}
        if not figs:
            continue
        pids = list(figs)
        cur, prev = figs[pids[-1]], figs[pids[-2]] if len(pids) > 1 else None
        school = point["unit_type"] == "school"
        main = cur["value"] if school else cur["reach_rate"]
        main_prev = (prev["value"] if school else prev["reach_rate"]) if prev else None
        status = (
            _status(point, main.value)
            if school and main
            else (
                (f"未达标 {cur['missed'].text()}" if cur["missed"].value else "全部达标")
                if not school and cur["missed"]
                else "—"
            )
        )
        rows.append(
            [
                f"{point['control_point_code']} {point['name_zh']}",
                _cell(main) if main else "—",
                status,
                "—" if main_prev is None else _cell(main_prev),
                f"{point['target_value']:g}/{point['standard_value']:g}/{point['warning_value']:g}",
                pids[-1],
                point["owner_department"],
            ]
        )
        if len(pids) > 1:
            series = [
                (pid, Ref(f[("value" if school else "reach_rate")].key))
                for pid, f in figs.items()
                if f[("value" if school else "reach_rate")]
            ]
            lines = (
                {"目标值": float(point["target_value"]), "标准值": float(point["standard_value"])}
                if school
                else {}
            )
            charts.append(
                Chart(
                    f"{point['name_zh']}{'' if school else ' 达标率'}",
                    point["unit"] if school else "%",
                    {point["name_zh"]: series},
                    lines,
                )
            )
    return rows, charts


# The value and its status first: leaders read these tables on phones.
POINT_COLUMNS = [
    "质控点",
    "本期值",
    "状态",
    "上期",
    "目标/标准/预警",
    "周期",
    "责任部门",
]


def section_control_points(ctx: Context, spec: dict) -> list:
    points = _points(ctx, "where owner_department = %(d)s", {"d": ctx.department})
    if not points:
        return [f"{ctx.department}不负责质控点。"]
    rows, charts = _point_rows(ctx, points)
    return [
        Table(
            POINT_COLUMNS,
            rows,
            "本期值：学校层面的质控点为学校值；单位层面的质控点（专业、课程、"
            "教师、学生）为各单位的达标率。",
        ),
        *charts,
    ]


def section_scorecard(ctx: Context, spec: dict) -> list:
    rows, _ = _point_rows(ctx, _points(ctx))
    return [Table(POINT_COLUMNS, rows, "本期值：学校层面的质控点为学校值，其余为各单位的达标率。")]


def section_layer(ctx: Context, spec: dict) -> list:
    level = spec["level"]
    points = _points(ctx, "where level = %(l)s", {"l": level})
    if not points:
        return [f"{LEVELS[level]}层面没有配置质控点。"]
    rows, charts = _point_rows(ctx, points)
    return [
        Table(POINT_COLUMNS, rows, "本期值：学校层面的质控点为学校值，其余为各单位的达标率。"),
        *charts,
    ]


def section_department_reports(ctx: Context, spec: dict) -> list:
    """Which departments' reports for the period exist, and which came late or are missing."""
    due_days = int(config().get("department_report_due_days", 7))
    due = ctx.period.end_at + timedelta(days=due_days)
    rows = ctx.t.rows(
        """select department, min(generated_at) as generated_at,
            bool_or(sent_at is not null) as sent
        from reports.reports where kind = 'department' and period_id = %(p)s
        group by department""",
        {"p": ctx.period.id},
    )
    done = {r["department"]: r for r in rows}
    ctx.report_rows = []
    for d in department_list():
        r = {"department": d, **done.get(d, {})}
        r["late"] = bool(r.get("generated_at") and r["generated_at"] > due)
        ctx.report_rows.append(r)
    table = [
        [
            r["department"],
            f"{r['generated_at'].astimezone(TZ):%Y-%m-%d %H:%M}"
            if r.get("generated_at")
            else "缺报",
            "迟报" if r["late"] else ("按时" if r.get("generated_at") else "—"),
            "已发送" if r.get("sent") else "未发送",
        ]
        for r in ctx.report_rows
    ]
    note = f"应在期末后 {due_days} 天内（{due:%Y-%m-%d} 前）生成；期限见 sections.yml。"
    return [Table(["部门", "首次生成时间", "是否按时", "邮件"], table, note)]


def section_findings(ctx: Context, spec: dict) -> list:
    return []  # filled after every other section has measured its figures


def section_trace(ctx: Context, spec: dict) -> list:
    return []  # rendered from the report's figures


# ---- the two reports ---------------------------------------------------------------------------


def department_list() -> list[str]:
    """Departments that get a report: those managing a subsystem (Table 1)."""
    from include.registry import registry

    names = {d for s in registry().subsystems.values() for d in s.managing_departments}
    return sorted(names)


def recipients(kinds: list[str], department: str) -> list[dict]:
    from include.registry import registry

    reg, out = registry(), []
    dept = reg.departments.get(department)
    qmo = reg.departments.get(reg.quality_office)
    for kind in kinds:
        if kind == "leadership":
            out += [
                {"name": v.name, "email": v.email, "role": v.title}
                for v in reg.vice_presidents.values()
            ]
        elif kind == "head" and dept:
            out.append({"name": dept.head.name, "email": dept.head.email, "role": "部门负责人"})
        elif kind == "quality_administrators" and dept:
            out += [
                {"name": q.name, "email": q.email, "role": "质量管理员"}
                for q in dept.quality_administrators
            ]
        elif kind == "qmo" and qmo:
            out.append({"name": qmo.head.name, "email": qmo.head.email, "role": "质管办负责人"})
            out += [
                {"name": q.name, "email": q.email, "role": "质管办质量管理员"}
                for q in qmo.quality_administrators
            ]
    seen, unique = set(), []
    for r in out:
        if r["email"] not in seen:
            seen.add(r["email"])
            unique.append(r)
    return unique


def build(
    conn: psycopg.Connection,
    kind: str,
    period: Period,
    department: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Build the `kind` report ('department' or 'school') for `period`."""
    from include.registry import registry

    cfg = config()[kind]
    now = now or datetime.now(TZ)
    if kind == "school":
        department = cfg["department"]
        subsystems = sorted(registry().subsystems)
    else:
        subsystems = sorted(
            s.id for s in registry().subsystems.values() if department in s.managing_departments
        )
    tracer = Tracer(conn, until=now + timedelta(seconds=1))
    ctx = Context(conn, tracer, period, department, subsystems)
    sections = []
    for spec in cfg["sections"]:
        blocks = globals()[f"section_{spec['kind']}"](ctx, spec)
        sections.append(Section(spec["kind"], spec["title"], blocks))
    found = rules.evaluate(ctx, config().get("findings", {}))
    for s in sections:
        if s.kind == "findings":
            s.blocks = [f.text for f in found] or ["本期未发现变差、未达标或逾期的情况。"]
    title = cfg["title"].format(department=department, period=period.label)
    return Report(
        kind,
        period,
        department,
        title,
        now,
        sections,
        tracer.figures,
        tracer.refused,
        found,
        recipients(cfg["recipients"], department),
    )
