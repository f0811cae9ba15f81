"""Render a built report: charts (matplotlib, PNG), HTML (also the mail body) and PDF (fpdf2).

Both outputs print numbers only through `Report.figure()`, which refuses untraced figures.
The CJK font is Noto Sans CJK SC from the `mplfonts` wheel (SIL OFL): matplotlib draws the
chart labels with it and fpdf2 embeds a subset of it in the PDF, so no system font is needed.

报告渲染：图表、HTML（亦为邮件正文）与 PDF；中文字体随 pip 包安装并嵌入 PDF。
"""

from __future__ import annotations

import base64
import io
import json
from functools import cache
from pathlib import Path

from markupsafe import Markup

from include import display
from include.reports.builder import Chart, Ref, Report, Table
from include.reports.figures import Figure

TEMPLATES = Path(__file__).with_name("templates")


@cache
def cjk_font() -> Path:
    import mplfonts

    return Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"


@cache
def _matplotlib():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager, pyplot

    font_manager.fontManager.addfont(str(cjk_font()))
    name = font_manager.FontProperties(fname=str(cjk_font())).get_name()
    pyplot.rcParams.update({"font.family": name, "axes.unicode_minus": False})
    return pyplot


def chart_png(report: Report, chart: Chart) -> bytes:
    plt = _matplotlib()
    fig, ax = plt.subplots(figsize=(6, 2.6), dpi=110)
    for name, points in chart.series.items():
        xs = [x for x, _ in points]
        ys = [report.figure(ref.key).value for _, ref in points]
        ax.plot(xs, ys, marker="o", label=name)
        for x, y in zip(xs, ys, strict=True):
            if y is not None:
                ax.annotate(
                    f"{y:g}",
                    (x, y),
                    textcoords="offset points",
                    xytext=(0, 5),
                    ha="center",
                    fontsize=8,
                )
    for label, value in chart.lines.items():
        ax.axhline(
            value,
            linestyle="--",
            linewidth=0.8,
            color="#2f855a" if label == "目标值" else "#c05621",
            label=f"{label} {value:g}",
        )
    ax.set_title(chart.title, fontsize=11)
    ax.set_ylabel(chart.unit)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def charts(report: Report) -> list[Chart]:
    return [b for s in report.sections for b in s.blocks if isinstance(b, Chart)]


def draw_charts(report: Report) -> None:
    for n, chart in enumerate(charts(report), 1):
        if not chart.png:
            chart.png = chart_png(report, chart)
            chart.cid = f"chart{n}.{report.kind}.{report.period.id}@xiaoben"


def filters(fig: Figure) -> str:
    shown = {
        k: (v.isoformat(timespec="minutes") if hasattr(v, "isoformat") else v)
        for k, v in fig.params.items()
    }
    return json.dumps(shown, ensure_ascii=False)


def pulls(fig: Figure) -> str:
    ids = fig.pull_ids
    return f"{len(ids)} 批（#{ids[0]}–#{ids[-1]}）" if len(ids) > 1 else f"#{ids[0]}"


TRACE_NOTE = (
    "每个数字的来源、筛选条件、数据截止时间（所涉子系统最新一次成功采集）、采集批次、更正与责任人；"
    "更正：集市数字列出所涉子系统已生效的更正表（附件 1，已叠加在暂存层），更正表计数列出所计的表；"
    "各表的填报人、签署人与核验人及完整 SQL 见数据库表 reports.figures。"
)


def forms(fig: Figure, shown: int = 3) -> str:
    """The trace's corrections cell: the form numbers involved (the first few, then how many)."""
    numbers = list(dict.fromkeys(c["form_no"] for c in fig.corrections))
    if not numbers:
        return "无"
    more = f" 等 {len(numbers)} 份" if len(numbers) > shown else ""
    return "、".join(numbers[:shown]) + more


def html(report: Report, inline_images: bool = False) -> str:
    """The HTML file (charts as data: URIs) or, with inline_images, the mail body whose charts
    are `cid:` references to related image parts (mail clients often block data: URIs)."""
    draw_charts(report)
    env = display.environment(TEMPLATES)  # escaped; values through display.shown
    return env.get_template("report.html.j2").render(
        report=report,
        fig=lambda ref: report.figure(ref.key).text(),
        img=lambda chart: Markup(  # our own PNG: never cut for display
            f"cid:{chart.cid}"
            if inline_images
            else "data:image/png;base64," + base64.b64encode(chart.png).decode()
        ),
        filters=filters,
        pulls=pulls,
        forms=forms,
        trace_note=TRACE_NOTE,
    )


def _cell(report: Report, cell) -> str:
    return report.figure(cell.key).text() if isinstance(cell, Ref) else str(cell)


def pdf(report: Report) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    draw_charts(report)
    doc = FPDF(orientation="L", format="A4")
    doc.set_auto_page_break(True, margin=12)
    doc.add_font("cjk", "", str(cjk_font()))
    doc.add_font("cjk", "B", str(cjk_font()))
    doc.set_title(report.title)
    doc.set_creator("校本数据中心")
    doc.add_page()
    doc.set_font("cjk", size=16)
    _para(doc, 0, 9, report.title)
    doc.set_font("cjk", size=9)
    _para(
        doc,
        0,
        5,
        f"{report.department} · 生成于 {report.generated_at:%Y-%m-%d %H:%M} · "
        f"统计周期 {report.period.start} 至 {report.period.end}（不含）· "
        f"{len(report.figures)} 个数字均可溯源（见附录）"
        + (f"；{len(report.refused)} 个无法溯源未印出" if report.refused else ""),
    )
    head = FontFace(fill_color=(237, 242, 247))
    for section in report.sections:
        doc.ln(3)
        doc.set_font("cjk", size=13)
        _para(doc, 0, 8, section.title)
        doc.set_font("cjk", size=9)
        if section.kind == "findings":
            for i, f in enumerate(report.findings, 1):
                _para(doc, 0, 5.5, f"{i}. 【{f.severity}】{f.text}")
            if not report.findings:
                _para(doc, 0, 5.5, "本期未发现变差、未达标或逾期的情况。")
            continue
        if section.kind == "trace":
            _para(
                doc,
                0,
                5,
                TRACE_NOTE,
            )
            doc.set_font("cjk", size=6.5)
            rows = [
                ["数字", "值", "来源与筛选", "截止时间", "采集批次", "更正", "责任部门与责任人"]
            ]
            rows += [
                [
                    f.label,
                    f.text(),
                    f"{f.source_relation} {filters(f)}",
                    f"{f.as_of:%Y-%m-%d %H:%M}",
                    pulls(f),
                    forms(f),
                    "、".join(f.responsible_departments) + " " + "、".join(f.responsible_people),
                ]
                for f in report.figures.values()
            ]
            _table(doc, rows, head, (38, 14, 70, 20, 22, 26, 77))
            continue
        for block in section.blocks:
            if isinstance(block, str):
                _para(doc, 0, 5.5, block)
            elif isinstance(block, Table):
                rows = [block.columns] + [[_cell(report, c) for c in r] for r in block.rows]
                _table(doc, rows, head, None)
                if block.note:
                    doc.set_font("cjk", size=7.5)
                    _para(doc, 0, 4.5, block.note)
                    doc.set_font("cjk", size=9)
            elif isinstance(block, Chart):
                doc.image(io.BytesIO(block.png), w=150)
    return bytes(doc.output())


def _para(doc, _w, h: float, text: str) -> None:
    doc.multi_cell(0, h, display.pdf_text(text, cjk_font()), new_x="LMARGIN", new_y="NEXT")


def _table(doc, rows: list[list[str]], head, widths) -> None:
    with doc.table(
        col_widths=widths,
        headings_style=head,
        line_height=doc.font_size * 1.5,
        text_align="LEFT",
        width=doc.epw,
    ) as table:
        for r in rows:
            row = table.row()
            for c in r:
                row.cell(display.pdf_text(c, cjk_font()))


def write(report: Report, folder: Path) -> tuple[Path, Path]:
    """Write `<folder>/<name>.html` and `.pdf`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    who = "school" if report.kind == "school" else report.department
    stem = f"{report.kind}_{report.period.id}_{who}"
    h, p = folder / f"{stem}.html", folder / f"{stem}.pdf"
    h.write_text(html(report), encoding="utf-8")
    p.write_bytes(pdf(report))
    return h, p
