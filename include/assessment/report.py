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


def evidence_lines(facts: list[Fact], limit: int = 12) -> list[str]:
    """Plain sentences naming the late or missing pulls, open warnings, missing reports."""
    out: list[str] = []
    for f in facts:
        items = f.evidence
        for e in items[:limit]:
            if e["kind"] == "missing_pull":
                out.append(
                    f"采集缺失：{e['subsystem']} 截至 {_fmt_time(e['period_end'])} 的数据"
                    f"应在 {_fmt_time(e['deadline'])} 前入库，至计算时仍无成功采集"
                )
            elif e["kind"] == "late_pull":
                out.append(
                    f"采集迟到：{e['subsystem']} 截至 {_fmt_time(e['period_end'])} 的数据"
                    f"应在 {_fmt_time(e['deadline'])} 前入库，实际由采集 #{e['pull_id']} "
                    f"于 {_fmt_time(e['finished_at'])} 完成"
                )
            elif e["kind"] == "warning_open":
                state = (
                    f"{_fmt_time(e['resolved_at'])} 才解决"
                    if e["resolved_at"]
                    else "至计算时仍未解决"
                )
                out.append(
                    f"预警未按期解决：#{e['warning_id']} {e['subsystem']}「{e['title']}」"
                    f"（{_fmt_time(e['opened_at'])} 开启），{state}"
                )
            elif e["kind"] in ("missing_report", "late_report"):
                what = (
                    "缺报"
                    if e["kind"] == "missing_report"
                    else f"迟报（{_fmt_time(e['generated_at'])} 生成，报告 #{e['report_id']}）"
                )
                due = _fmt_time(e["due_at"])
                out.append(f"部门数据分析报告 {e['period_id']} {what}，应在 {due} 前生成")
        if len(items) > limit:
            out.append(f"……{f.label}另有 {len(items) - limit} 条，见 assessment.facts #{f.fact_id}")
    return out


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
        found.append(
            Finding(
                "barred",
                "高",
                f"{r.department} 综合得分 {r.total:g} 分，低于合格线 {rules.pass_line:g} 分："
                "不得参与本年度评优评先，部门负责人按第十六条追究责任。",
                [f"{r.department}:total"],
            )
        )
        lines = evidence_lines(by_dept.get(r.department, []))
        evidence_blocks.append(f"【{r.department}】")
        evidence_blocks += lines or ["（无逐条证据：扣分来自检查通过率等比例指标，见第三部分）"]
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
    fact_rows = []
    for r in a.results:
        for f in by_dept.get(r.department, []):
            fact_rows.append(
                [
                    r.department,
                    f"({f.criterion}) {f.label}",
                    SCOPE_ZH[f.scope],
                    figs.fact(f, "value", f.value, f.unit),
                    figs.fact(f, "score", f.score, "分"),
                    figs.fact(f, "numerator", f.numerator, ""),
                    figs.fact(f, "denominator", f.denominator, ""),
                    f"#{f.fact_id} {f.source_relation}",
                ]
            )
    notes = [f"{r.department}：{'；'.join(r.notes)}" for r in a.results if r.notes]
    sections.append(
        Section(
            "facts",
            "四、各部门各项指标的事实",
            [
                Table(
                    ["部门", "指标", "范围", "值", "得分", "分子", "分母", "事实编号与来源"],
                    fact_rows,
                    "查询、参数与所涉行号见 assessment.facts（按编号），重跑查询即可复核。"
                    + (
                        "更正表 corrections.items 已存在，已计入每千条记录需更正数。"
                        if a.corrections_counted
                        else "更正流程尚未上线（无 corrections 表），未计入需更正数。"
                    ),
                ),
                *notes,
            ],
        )
    )
    trace_rows = [
        [
            f.label,
            Ref(key),
            f.source_relation,
            f"{f.as_of.astimezone(TZ):%Y-%m-%d %H:%M}",
            f"{len(f.pull_ids)} 批",
            "、".join(f.responsible_departments),
        ]
        for key, f in figs.t.figures.items()
    ]
    sections.append(
        Section(
            "appendix",
            "附录：数字溯源",
            [Table(["数字", "值", "来源", "数据截止", "采集批次", "责任部门"], trace_rows)],
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
