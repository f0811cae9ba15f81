"""Register reports (`reports.reports`, `reports.figures`) and mail them.

Mail goes through the platform's SMTP connection (`include.mail`, Airflow's `smtp_default`):
the HTML is the body, the PDF the attachment. A period already mailed is not mailed again
unless `force=True`; a failed send is retried and every attempt is recorded on the row.

报告登记与邮件发送：同一周期已发送则重跑不再发送（除非要求重发）；发送失败重试并记录。
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

import psycopg

from include import mail, settings
from include.reports import render
from include.reports.builder import Report, build
from include.reports.periods import resolve

log = logging.getLogger(__name__)
ATTEMPTS = 3
RETRY_PAUSE = 2.0  # seconds, times the attempt number


def output_dir() -> Path:
    return settings.state_dir() / "reports"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def register(conn: psycopg.Connection, report: Report, html: Path, pdf: Path, **ids) -> int:
    """Insert the report and every printed figure with its trace; returns report_id."""
    for fig in report.figures.values():  # the last guard: nothing untraced is registered
        report.figure(fig.key)
    row = conn.execute(
        """insert into reports.reports (kind, period_kind, period_id, department, title,
            generated_at, dag_id, airflow_run_id, html_path, pdf_path, html_sha256, pdf_sha256,
            pdf_bytes, figures, refused_figures, findings, recipients)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        returning report_id""",
        (
            report.kind,
            report.period.kind,
            report.period.id,
            report.department,
            report.title,
            report.generated_at,
            ids.get("dag_id"),
            ids.get("airflow_run_id"),
            str(html),
            str(pdf),
            _sha(html),
            _sha(pdf),
            pdf.stat().st_size,
            len(report.figures),
            len(report.refused),
            json.dumps([f.as_dict() for f in report.findings], ensure_ascii=False),
            json.dumps(report.recipients, ensure_ascii=False),
        ),
    ).fetchone()
    report_id = row[0]
    with conn.cursor() as cur:
        cur.executemany(
            """insert into reports.figures (report_id, figure_key, label, value, unit,
                source_relation, query, params, subsystems, as_of, pull_ids, corrections,
                responsible_departments, responsible_people)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [
                (
                    report_id,
                    f.key,
                    f.label,
                    f.value,
                    f.unit,
                    f.source_relation,
                    f.query,
                    json.dumps(f.params, ensure_ascii=False, default=str),
                    f.subsystems,
                    f.as_of,
                    f.pull_ids,
                    json.dumps(f.corrections),
                    f.responsible_departments,
                    f.responsible_people,
                )
                for f in report.figures.values()
            ],
        )
    return report_id


def already_sent(conn, report: Report) -> bool:
    return bool(
        conn.execute(
            """select 1 from reports.reports where kind = %s and period_kind = %s and period_id = %s
            and department = %s and sent_at is not null limit 1""",
            (report.kind, report.period.kind, report.period.id, report.department),
        ).fetchone()
    )


def send(
    conn,
    report_id: int,
    report: Report,
    html: Path,
    pdf: Path,
    conn_id: str = mail.DEFAULT_CONN_ID,
) -> str:
    """Mail the report, retrying; records attempts, errors, Message-ID and sent_at."""
    to = [(r["name"], r["email"]) for r in report.recipients]
    text = (
        report.title
        + "\n\n"
        + "\n".join(f"{i}. 【{f.severity}】{f.text}" for i, f in enumerate(report.findings, 1))
        + f"\n\n全文见附件 PDF（{pdf.name}）。"
    )
    last = None
    for attempt in range(1, ATTEMPTS + 1):
        msg = mail.build_message(
            to,
            report.title,
            text,
            render.html(report, inline_images=True),
            headers={"X-Xiaoben-Report": str(report_id)},
        )
        body = next(p for p in msg.iter_parts() if p.get_content_type() == "text/html")
        for chart in render.charts(report):
            body.add_related(chart.png, "image", "png", cid=f"<{chart.cid}>")
        msg.add_attachment(
            pdf.read_bytes(), maintype="application", subtype="pdf", filename=pdf.name
        )
        try:
            message_id = mail.send(msg, conn_id=conn_id)
        except Exception as exc:
            last = f"{type(exc).__name__}: {exc}"
            conn.execute(
                "update reports.reports set send_attempts = %s, send_error = %s "
                "where report_id = %s",
                (attempt, last, report_id),
            )
            log.warning("报告 %s 第 %d 次发送失败：%s", report_id, attempt, last)
            time.sleep(RETRY_PAUSE * attempt)
            continue
        conn.execute(
            "update reports.reports set send_attempts = %s, send_error = null, "
            "message_id = %s, sent_at = now() where report_id = %s",
            (attempt, message_id, report_id),
        )
        return message_id
    raise RuntimeError(
        f"报告 {report_id} 发送 {ATTEMPTS} 次均失败：{last}；"
        "请检查 Airflow 连接 smtp_default（主机、端口、disable_ssl/disable_tls）"
    )


def produce(
    kind: str,
    period_kind: str,
    period_id: str,
    department: str | None = None,
    *,
    url: str | None = None,
    send_mail: bool = True,
    force: bool = False,
    folder: Path | None = None,
    **ids,
) -> dict:
    """Build, render, register and (unless already sent for the period) mail one report."""
    from include.warehouse import connection

    with psycopg.connect(connection.url_for("reports", url), autocommit=True) as conn:
        period = resolve(conn, period_kind, period_id)
        report = build(conn, kind, period, department)
        html, pdf = render.write(report, (folder or output_dir()) / period.id)
        skip = already_sent(conn, report) and not force
        report_id = register(conn, report, html, pdf, **ids)
        message_id = None
        if send_mail and not skip:
            message_id = send(conn, report_id, report, html, pdf)
        return {
            "report_id": report_id,
            "title": report.title,
            "html": str(html),
            "pdf": str(pdf),
            "figures": len(report.figures),
            "refused": len(report.refused),
            "findings": len(report.findings),
            "sent": message_id is not None,
            "message_id": message_id,
            "skipped_as_already_sent": skip and send_mail,
        }


def produce_all(period_kind: str, period_id: str, **kwargs) -> list[dict]:
    """Every department report, then the school report (which lists late departments)."""
    from include.reports.builder import department_list

    results = [
        produce("department", period_kind, period_id, d, **kwargs) for d in department_list()
    ]
    if period_kind != "month":
        results.append(produce("school", period_kind, period_id, **kwargs))
    return results
