"""Annex 1 数据采集更正表 as HTML and PDF, filled from the recorded request and steps.

The layout follows Annex 1: 报送部门; 数据采集更正内容 with the filler's signature and date;
组织或归口管理部门意见 with both heads' signatures and dates; 分管副院长意见 with signature
and date; then 质管办's verification and the outcome. An electronic signature is the person's
name, the time, the decision and the SHA-256 of the request (`requests.signature`). The PDF
embeds Noto Sans CJK SC from the `mplfonts` wheel (the reports' toolchain, pip only).

Files go to `<state>/corrections/forms/<form_no>.{html,pdf}` and are registered in
`corrections.forms`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from zoneinfo import ZoneInfo

from include import display, settings
from include.corrections import connect
from include.corrections import requests as creq
from include.reports.render import cjk_font

DECISIONS = {"approve": "同意", "refuse": "不同意（退回）", "submit": "提交", "timeout": "超时"}
STATUS = {
    "submitted": "审批中",
    "approved": "已批准，待质管办核验",
    "verified": "已批准并经质管办核验，更正生效",
    "refused": "已退回填报人",
    "timed_out": "超时未办，已升级",
}
EVENTS = {
    "reminder": "催办", "escalation": "升级", "source_confirmed": "源头确认",
    "source_still_old": "源头仍为旧值", "remind": "", "escalate": "", "note": "", "timeout": "超时",
}  # fmt: skip
OPINION_STEPS = {
    "heads": ("organising_head", "managing_head", "department_heads"),
    "vp": ("vice_president",),
    "qo": ("quality_office",),
}


def forms_dir() -> Path:
    path = settings.state_dir() / "corrections" / "forms"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _fmt(ts) -> str:
    return ts.astimezone(ZoneInfo(settings.TIMEZONE)).strftime("%Y-%m-%d %H:%M") if ts else ""


def _sig(step: dict) -> dict:
    return {
        "title": step["step_kind"],
        "name": step["assignee_name"] or step["responded_by"] or "",
        "user": step["responded_by"] or "",
        "decision": DECISIONS.get(step["decision"], step["decision"]),
        "opinion": step["opinion"] or "",
        "date": _fmt(step["at"]),
        "signature": (step["signature"] or "")[:16],
    }


def context(request: dict) -> dict:
    """What the form prints, from a request as `requests.load` returns it."""
    steps = request["steps"]
    last = {}
    for s in steps:  # the latest answer of each step kind (a reminder does not sign)
        if s["decision"] in ("approve", "refuse", "submit"):
            last[s["step_kind"]] = s
    heads = [_sig(last[k]) for k in OPINION_STEPS["heads"] if k in last]
    titles = {
        "organising_head": "组织部门负责人",
        "managing_head": "归口管理部门负责人",
        "department_heads": "组织及归口管理部门负责人",
    }
    for h, k in zip(heads, [k for k in OPINION_STEPS["heads"] if k in last], strict=True):
        h["title"] = titles[k]
    vp = _sig(last["vice_president"]) if "vice_president" in last else None
    qo = _sig(last["quality_office"]) if "quality_office" in last else None
    filler = _sig(last["submit"]) if "submit" in last else None
    events = [
        f"{_fmt(s['at'])} {EVENTS.get(s['step_kind'], s['step_kind'])}"
        f"{EVENTS.get(s['decision'], s['decision'])}：{s['opinion'] or ''}"
        for s in steps
        if s["decision"] in ("remind", "escalate", "timeout", "note")
    ]
    return {
        "r": request,
        "status": STATUS.get(request["status"], request["status"]),
        "filler": filler,
        "heads": heads,
        "vp": vp,
        "qo": qo,
        "events": events,
        "submitted": _fmt(request["submitted_at"]),
    }


TEMPLATES = Path(__file__).with_name("templates")


def html(request: dict) -> str:
    return display.environment(TEMPLATES).get_template("annex1.html.j2").render(**context(request))


def pdf(request: dict) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    c = context(request)
    r = request
    font = cjk_font()

    def v(value) -> str:  # a value someone typed or a subsystem sent: cut and marked
        return display.shown(str(value)) if value is not None else ""

    def text(value: str) -> str:  # what a cell prints: markers for what the font cannot draw
        return display.pdf_text(value, font, limit=None)

    doc = FPDF(format="A4")
    doc.set_auto_page_break(True, margin=12)
    doc.add_font("cjk", "", str(cjk_font()))
    doc.add_font("cjk", "B", str(cjk_font()))
    doc.set_title(f"数据采集更正表 {r['form_no']}")
    doc.set_creator("校本数据中心")
    doc.add_page()
    doc.set_font("cjk", size=10)
    doc.cell(0, 6, "附件1", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("cjk", size=18)
    doc.cell(0, 12, "数据采集更正表", align="C", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("cjk", size=9.5)
    outcome = c["status"] + (f"（{v(r['status_reason'])}）" if r["status_reason"] else "")
    doc.multi_cell(
        0, 6, text(f"编号：{r['form_no']}　　办理结果：{outcome}"), new_x="LMARGIN", new_y="NEXT"
    )
    head = FontFace(fill_color=(238, 242, 247))

    def sig(s) -> str:
        return f"签字：{v(s['name'])}　日期：{s['date']}　电子签名 {s['signature']}"

    filler = c["filler"]
    content = "\n".join(
        f"{i['resource']} 记录 {v(i['source_key'])} 字段 {i['field']}（{i['column_name'] or ''}）："
        f"原值 {v(i['old_value']) or '（空）'} → 更正值 {v(i['new_value'])}"
        for i in r["items"]
    )
    content += (
        f"\n更正理由：{v(r['reason'])}"
        f"\n填报人（签字）：{v(r['filler_name'])}　日期：{c['submitted']}"
    )
    if filler:
        content += f"　电子签名 {filler['signature']}"
    heads = "\n".join(
        f"{h['title']}：{h['decision']}。{v(h['opinion'])}\n{sig(h)}" for h in c["heads"]
    )
    vp, qo = c["vp"], c["qo"]
    rows = [
        ("报送部门", f"{v(r['reporting_department'])}（子系统 {r['subsystem']}）"),
        ("数据采集更正内容", content),
        ("组织或归口管理部门意见", heads or "（未签）"),
        (
            "分管副院长意见",
            f"{vp['decision']}。{v(vp['opinion'])}\n{sig(vp)}" if vp else "（未签）",
        ),
        (
            "质管办核验",
            f"{qo['decision']}。{v(qo['opinion'])}\n核验人：{v(qo['name'])}　日期：{qo['date']}"
            f"　电子签名 {qo['signature']}"
            if qo
            else "（未核验）",
        ),
    ]
    with doc.table(
        col_widths=(44, 146),
        line_height=6,
        headings_style=head,
        first_row_as_headings=False,
        text_align="LEFT",  # justified lines spread a long value's words across the cell
    ) as t:
        for label, value in rows:
            row = t.row()
            row.cell(label, style=head)
            row.cell(text(value))
    if c["events"]:
        doc.ln(3)
        events = "办理记录：\n" + "\n".join(v(e) for e in c["events"])
        doc.multi_cell(0, 5, text(events), new_x="LMARGIN", new_y="NEXT")
    doc.ln(3)
    doc.set_font("cjk", size=7.5)
    doc.multi_cell(
        0, 4.5,
        f"申请内容 SHA-256：{r['request_hash']}\n"
        "电子签名 = SHA-256（姓名|时间|决定|申请哈希），前 16 位印于表内；"
        "完整签名见 corrections.steps.signature。",
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    return bytes(doc.output())


def render(request_id: int, url: str | None = None, dag_run_id: str | None = None) -> dict:
    """Write the form of a request (HTML and PDF) and register it; returns where it is."""
    with connect(url) as conn:
        request = creq.load(conn, request_id)
    out = forms_dir()
    html_path = out / f"{request['form_no']}.html"
    pdf_path = out / f"{request['form_no']}.pdf"
    html_path.write_text(html(request), encoding="utf-8")
    data = pdf(request)
    pdf_path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    with connect(url) as conn:
        conn.execute(
            """
            insert into corrections.forms (form_no, request_id, status, html_path, pdf_path,
                pdf_sha256, dag_run_id)
            values (%s, %s, %s, %s, %s, %s, %s)
            on conflict (form_no) do update set status = excluded.status,
                html_path = excluded.html_path, pdf_path = excluded.pdf_path,
                pdf_sha256 = excluded.pdf_sha256, generated_at = now(),
                dag_run_id = excluded.dag_run_id
            """,
            [request["form_no"], request_id, request["status"], str(html_path), str(pdf_path),
             digest, dag_run_id],
        )  # fmt: skip
    return {
        "form_no": request["form_no"],
        "status": request["status"],
        "html": str(html_path),
        "pdf": str(pdf_path),
        "pdf_sha256": digest,
    }
