"""The ranked assessment report (HTML + PDF) through the analysis reports' toolchain.

The report is a `include.reports.builder.Report` whose numbers are traced figures
(`include.reports.figures.Tracer`): each score or fact is read back from `assessment.results` /
`assessment.facts` by a query, and traced to the pulls and responsible departments of the
department's subsystems; `include.reports.render` draws the HTML and the PDF. Mailed to the
leading group (分管院领导) and 质管办 through `include.mail`.

年终考核报告：沿用分析报告的渲染与溯源；发送给领导小组与质管办。
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from pathlib import Path

from include import mail, settings
from include.assessment.compute import Assessment, Fact, Result, scopes
from include.assessment.rules import CRITERIA
from include.reports import render
from include.reports.builder import Ref, Report, Section, Table, recipients
from include.reports.figures import Figure, Tracer
from include.reports.findings import Finding
from include.reports.periods import TZ

log = logging.getLogger(__name__)

SCORE_SQL = (
    "select {column} from assessment.results "
    "where run_id = %(run_id)s and department = %(department)s"
)
FACT_SQL = "select {column} from assessment.facts where fact_id = %(fact_id)s"
SCOPE_ZH = {"own": "本部门组织", "managed": "所管（组织部门结果）", "department": "部门"}
CRITERION_COLUMNS = {"a": "score_a", "b": "score_b", "c": "score_c", "d": "score_d"}


def output_dir() -> Path:
    return settings.state_dir() / "assessment"


class _Figures:
    def __init__(self, conn, a: Assessment):
        self.t = Tracer(conn, until=a.as_of)
        self.a = a
        self.subs = {
            r.department: [s for v in scopes(r.department).values() for s in v] for r in a.results
        }

    def score(self, r: Result, column: str, label: str, value) -> Ref | str:
        if value is None:
            return "—"
        fig = Figure(
            f"{r.department}:{column}",
            f"{r.department} {label}",
            float(value),
            "分",
            "assessment.results",
            SCORE_SQL.format(column=column),
            {"run_id": self.a.run_id, "department": r.department},
            self.subs[r.department],
        )
        return Ref(fig.key) if self.t.add(fig) else "未印出（无法溯源）"

    def fact(self, f: Fact, column: str, value, unit: str) -> Ref | str:
        if value is None:
            return "无数据"
        fig = Figure(
            f"fact:{f.fact_id}:{column}",
            f"{f.department} {f.label}（{SCOPE_ZH[f.scope]}）{_COLUMN_ZH[column]}",
            float(value),
            unit,
            f"assessment.facts ← {f.source_relation}",
            FACT_SQL.format(column=column),
            {"fact_id": f.fact_id},
            f.subsystems or self.subs[f.department],
        )
        return Ref(fig.key) if self.t.add(fig) else "未印出（无法溯源）"


_COLUMN_ZH = {"value": "", "score": "得分", "numerator": "分子", "denominator": "分母"}


def _fmt_time(iso: str | None) -> str:
    return datetime.fromisoformat(iso).astimezone(TZ).strftime("%Y-%m-%d %H:%M") if iso else "—"


def _pull_lines(items: list[dict], limit: int) -> list[str]:
    out = []
    by_sub: dict[str, list[dict]] = {}
    for e in items:
        by_sub.setdefault(e["subsystem"], []).append(e)
    for sid, es in by_sub.items():
        late = sorted({(e["pull_id"], e["finished_at"]) for e in es if e["pull_id"]})
        missing = [e for e in es if not e["pull_id"]]
        out.append(
            f"采集未按期：{sid} 共 {len(es)} 个采集期的数据未在截止时间前入库"
            f"（{_fmt_time(es[0]['period_end'])} 至 {_fmt_time(es[-1]['period_end'])} 期间），"
            f"其中 {len(missing)} 期至计算时仍无成功采集"
        )
        for pull_id, finished in late[:limit]:
            first = next(e for e in es if e["pull_id"] == pull_id)
            n = sum(1 for e in es if e["pull_id"] == pull_id)
            out.append(
                f"　迟到的采集 #{pull_id}：{_fmt_time(finished)} 才完成，补入 {n} 期，"
                f"最早一期应在 {_fmt_time(first['deadline'])} 前入库"
            )
    return out


STEP_ZH = {
    "organising_head": "组织部门负责人",
    "managing_head": "归口管理部门负责人",
    "department_heads": "组织及归口管理部门负责人",
    "vice_president": "分管副院长",
    "quality_office": "质管办核验",
    "escalation": "逾期升级的步骤",
}
DECISION_ZH = {"approve": "同意", "refuse": "不同意"}


def _answered(e: dict, verb: str) -> str:
    if e.get("decision") == "escalate":
        return "两次逾期未签，已升级（流程终止）"
    if e["answered_at"]:
        return f"{_fmt_time(e['answered_at'])} {verb}"
    return "至计算时仍未答复"


def evidence_lines(facts: list[Fact], limit: int = 8) -> list[str]:
    """Plain sentences naming the late or missing pulls, open warnings, missing reports."""
    out: list[str] = []
    for f in facts:
        pulls = [e for e in f.evidence if e["kind"] in ("missing_pull", "late_pull")]
        if pulls:
            out += _pull_lines(pulls, limit)
        others = [e for e in f.evidence if e not in pulls]
        for e in others[:limit]:
            if e["kind"] == "warning_open":
                state = (
                    f"{_fmt_time(e['resolved_at'])} 才解决"
                    if e["resolved_at"]
                    else "至计算时仍未解决"
                )
                out.append(
                    f"预警未按期解决：#{e['warning_id']} {e['subsystem']}「{e['title']}」"
                    f"（{_fmt_time(e['opened_at'])} 开启），{state}"
                )
            elif e["kind"] == "not_submitted":
                out.append(
                    f"数据未按时报送：{e['subsystem']}.{e['resource']} 在 "
                    f"{_fmt_time(e['started_at'])} 按计划采集时，源系统答复"
                    f"「{e['message'] or '数据尚未报送'}」（采集 #{e['pull_id']}）"
                )
            elif e["kind"] == "slow_step":
                out.append(
                    f"更正审批步骤等待 {e['hours']:g} 小时：更正表 {e['form_no']}"
                    f"（{e['subsystem']}，{e['reporting_department']} 报送）"
                    f"{STEP_ZH.get(e['step_kind'], '待签步骤')} {e['assignee_name'] or '—'}，"
                    f"{_fmt_time(e['asked_at'])} 起待签，"
                    + _answered(e, DECISION_ZH.get(e["decision"], "签署"))
                )
            elif e["kind"] == "slow_review":
                out.append(
                    f"部门审核任务等待 {e['hours']:g} 小时：#{e['review_id']} {e['subsystem']} "
                    f"{e['period']}（审核人 {e['reviewer_user']}），"
                    f"{_fmt_time(e['asked_at'])} 下达，" + _answered(e, "答复")
                )
            elif e["kind"] in ("missing_report", "late_report"):
                what = (
                    "缺报"
                    if e["kind"] == "missing_report"
                    else f"迟报（{_fmt_time(e['generated_at'])} 生成，报告 #{e['report_id']}）"
                )
                due = _fmt_time(e["due_at"])
                out.append(f"部门数据分析报告 {e['period_id']} {what}，应在 {due} 前生成")
        if len(others) > limit:
            out.append(f"……另有 {len(others) - limit} 条，见 assessment.facts #{f.fact_id}")
    return out


APPEALS_SQL = """
select p.appeal_id, p.department, p.fact_id, f.label, p.reason, p.filed_by, p.filed_at,
    p.decision, p.decision_reason, p.decided_by, p.decided_at, p.recomputed_run_id
from assessment.appeals as p
join assessment.runs as u on u.run_id = p.run_id
left join assessment.facts as f on f.fact_id = p.fact_id
where u.academic_year = %s
order by p.appeal_id
"""
DECIDED_ZH = {"upheld": "申诉成立：该指标不计分，已重新计算", "rejected": "驳回申诉"}


def appeals_table(conn, year: str) -> Table | str:
    """Every appeal of the year: what was contested, why, and 质管办's decision and reason."""
    rows = []
    for r in conn.execute(APPEALS_SQL, (year,)).fetchall():
        aid, dept, fid, label, why, by, at, decision, reason, decider, decided, rerun = r
        rows.append(
            [
                f"#{aid}",
                dept,
                f"#{fid} {label or ''}",
                f"{why}（{by}，{at.astimezone(TZ):%Y-%m-%d %H:%M}）",
                DECIDED_ZH.get(decision, "待质管办裁决")
                + (f"（考核计算 #{rerun}）" if rerun else ""),
                reason or "—",
                f"{decider}，{decided.astimezone(TZ):%Y-%m-%d %H:%M}" if decided else "—",
            ]
        )
    if not rows:
        return "本学年无申诉。"
    return Table(
        [
            "申诉",
            "部门",
            "被申诉的事实",
            "申诉理由（申诉人、时间）",
            "裁决",
            "裁决理由",
            "裁决人、时间",
        ],
        rows,
        "记录见 assessment.appeals；裁决由质管办在 Airflow 表单中作出，裁决人与时间自动记录。",
    )


def build(conn, a: Assessment, now: datetime | None = None) -> Report:
    figs = _Figures(conn, a)
    rules = a.rules
    names = {c: rules.criteria[c].name for c in CRITERIA}
    ranking = []
    for r in a.results:
        trend = "—"
        if r.previous_total is not None:
            delta = r.total - r.previous_total
            trend = f"{'↑' if delta > 0 else '↓' if delta < 0 else '→'}"
        ranking.append(
            [
                str(r.rank),
                r.department,
                figs.score(r, "total", "综合得分", r.total),
                *(
                    figs.score(r, CRITERION_COLUMNS[c], f"({c}) 得分", r.scores[c])
                    for c in CRITERIA
                ),
                figs.score(r, "previous_total", "上一学年综合得分", r.previous_total),
                trend,
                "不得参与评优评先" if r.barred else "合格",
            ]
        )
    weights = "；".join(f"({c}) {names[c]} 权重 {rules.criteria[c].weight:g}" for c in CRITERIA)
    sections = [
        Section("findings", "结论"),
        Section(
            "ranking",
            "一、各部门考核得分与排名",
            [
                Table(
                    [
                        "名次",
                        "部门",
                        "综合",
                        "(a)",
                        "(b)",
                        "(c)",
                        "(d)",
                        "上一学年",
                        "趋势",
                        "结论",
                    ],
                    ranking,
                    f"规则 {rules.version}（include/assessment/rules.yml，SHA-256 "
                    f"{a.rules_sha[:12]}）：{weights}；合格线 {rules.pass_line:g} 分。"
                    f"归口管理部门的结果含其所管子系统组织部门的结果，占 "
                    f"{rules.layered.managed_share:g}（第十四条）。",
                )
            ],
        ),
    ]
    found: list[Finding] = []
    evidence_blocks: list = []
    by_dept: dict[str, list[Fact]] = {}
    for f in a.facts:
        by_dept.setdefault(f.department, []).append(f)
    for r in a.results:
        if not r.barred:
            continue
        why = (
            "；".join(r.vetoes)
            if r.vetoes and r.total >= rules.pass_line
            else f"综合得分 {r.total:g} 分，低于合格线 {rules.pass_line:g} 分"
        )
        found.append(
            Finding(
                "barred",
                "高",
                f"{r.department} {why}：不得参与本年度评优评先，部门负责人按第十六条追究责任。",
                [f"{r.department}:total"],
            )
        )
        lines = evidence_lines(by_dept.get(r.department, []))
        evidence_blocks.append(f"【{r.department}】")
        evidence_blocks += lines or ["（无逐条证据：扣分来自检查通过率等比例指标，见第五部分）"]
    marked = [
        [
            r.department,
            "、".join(r.manual["marked_people"]),
            r.manual["entered_by"],
            f"{r.manual['entered_at'].astimezone(TZ):%Y-%m-%d %H:%M}",
        ]
        for r in a.results
        if r.manual and r.manual["marked_people"]
    ]
    sections.append(
        Section("evidence", "二、不得参与评优评先的部门及证据", evidence_blocks or ["本年度无。"])
    )
    sections.append(
        Section(
            "people",
            "三、经确认数据错误并造成后果的人员（第十六条，由质管办录入）",
            [
                Table(
                    ["部门", "人员", "录入人", "录入时间"],
                    marked,
                    "只列质管办录入的人员，系统不作推断。",
                )
            ]
            if marked
            else ["质管办本年度未录入。"],
        )
    )
    sections.append(Section("appeals", "四、申诉与裁决（第十六条）", [appeals_table(conn, a.year)]))
    fact_rows, trace_rows = [], []
    for r in a.results:
        for f in by_dept.get(r.department, []):
            if f.value is None:
                continue
            fact_rows.append(
                [
                    r.department,
                    f"({f.criterion}) {f.label}",
                    SCOPE_ZH[f.scope],
                    figs.fact(f, "value", f.value, f.unit),
                    figs.fact(f, "score", f.score, "分"),
                    figs.fact(f, "numerator", f.numerator, ""),
                    figs.fact(f, "denominator", f.denominator, ""),
                    f"#{f.fact_id}",
                ]
            )
            fig = figs.t.figures.get(f"fact:{f.fact_id}:value")
            trace_rows.append(
                [
                    f"#{f.fact_id}",
                    f.source_relation,
                    f"{f.row_table}：{len(f.row_ids)} 行",
                    "、".join(f.subsystems) or "—",
                    f"{fig.as_of.astimezone(TZ):%Y-%m-%d %H:%M}" if fig else "—",
                    "、".join(fig.responsible_departments) if fig else "—",
                ]
            )
    notes = [f"{r.department}：{'；'.join(r.notes)}" for r in a.results if r.notes]
    counted = (
        "更正表 corrections.items 已存在，已计入每千条记录需更正数。"
        if a.corrections_counted
        else "更正流程尚未上线（无 corrections 表），未计入需更正数。"
    )
    sections.append(
        Section(
            "facts",
            "五、各部门各项指标的事实",
            [
                Table(
                    ["部门", "指标", "范围", "值", "得分", "分子", "分母", "事实"],
                    fact_rows,
                    "只列有数据的指标；查询、参数与所涉行号见 assessment.facts（按编号），"
                    "重跑查询即可复核。" + counted,
                ),
                "未评判的指标（无到期事项或无数据：不计分、不记 0 分，权重在其余指标间按规则文件"
                "的比例重新分配）：",
                *notes,
            ],
        )
    )
    sections.append(
        Section(
            "appendix",
            "附录：事实溯源",
            [
                Table(
                    ["事实", "来源表", "所涉行", "子系统", "数据截止", "责任部门"],
                    trace_rows,
                    "得分与名次取自 assessment.results，由事实按 rules.yml 计算；"
                    "每个事实的完整 SQL 与参数见 assessment.facts。",
                )
            ],
        )
    )
    qmo = _qmo()
    return Report(
        "assessment",
        a.period,
        qmo,
        f"{a.year}学年各部门数据工作年终考核结果",
        now or datetime.now(TZ),
        sections,
        figs.t.figures,
        figs.t.refused,
        found,
        recipients(list(rules.recipients), qmo),
    )


def _qmo() -> str:
    from include.registry import registry

    return registry().quality_office


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def send(conn, a: Assessment, report: Report, html: Path, pdf: Path) -> str:
    """Mail the report (HTML body, PDF attached); records Message-ID and time on the run."""
    to = [(r["name"], r["email"]) for r in report.recipients]
    text = (
        report.title
        + "\n\n"
        + "\n".join(f"{i}. {f.text}" for i, f in enumerate(report.findings, 1))
        + f"\n\n全文见附件 PDF（{pdf.name}）。"
    )
    msg = mail.build_message(
        to,
        report.title,
        text,
        render.html(report, inline_images=True),
        headers={"X-Xiaoben-Assessment": str(a.run_id)},
    )
    msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename=pdf.name)
    message_id = mail.send(msg)
    conn.execute(
        "update assessment.runs set message_id = %s, sent_at = now() where run_id = %s",
        (message_id, a.run_id),
    )
    return message_id


def write(conn, a: Assessment, report: Report, folder: Path | None = None) -> tuple[Path, Path]:
    html, pdf = render.write(report, (folder or output_dir()) / a.year)
    conn.execute(
        "update assessment.runs set html_path = %s, pdf_path = %s, recipients = %s "
        "where run_id = %s",
        (
            str(html),
            str(pdf),
            json.dumps(report.recipients, ensure_ascii=False),
            a.run_id,
        ),
    )
    return html, pdf
