"""Year-end assessment of departments' data work (Articles 14–16; issue 13).

`produce(year)` computes the assessment of academic year `year` from warehouse rows with the
rules in `rules.yml` (owned by 质管办), stores it in `assessment.*`, writes the ranked report
(HTML + PDF) and mails it to the leading group and 质管办. Criterion (a) is entered by 质管办
(`record_manual`, from the Airflow form in `dags/assessment.py`).

年终考核：由数据计算 (b)(c)(d)，(a) 由质管办录入；结果入 assessment.*，报告发送领导小组与质管办。
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from include import audit


def record_manual(
    conn: psycopg.Connection,
    year: str,
    entries: dict[str, dict],
    entered_by: str,
    source: str,
    entered_at=None,
    **ids,
) -> list[int]:
    """Store criterion (a) per department: {department: {score, comment, marked_people}}.

    Unknown departments or scores outside 0–100 are refused with a one-line message. Each entry
    goes to the audit trail on `conn` (actor: `responded_by` in `ids`, the Airflow user who
    answered the form, else `entered_by`)."""
    from include.assessment.compute import departments

    known = set(departments())
    out = []
    for dept, e in entries.items():
        if dept not in known:
            raise ValueError(f"(a) 录入：部门 {dept!r} 不在考核范围（{'、'.join(sorted(known))}）")
        score = float(e["score"])
        if not 0 <= score <= 100:
            raise ValueError(f"(a) 录入：{dept} 的得分 {score:g} 不在 0–100 之间")
        people = e.get("marked_people") or []
        if isinstance(people, str):
            people = [p.strip() for p in people.replace("，", ",").replace("、", ",").split(",")]
        row = conn.execute(
            """insert into assessment.manual_scores (academic_year, department, score, comment,
                marked_people, entered_by, entered_at, source, dag_id, airflow_run_id)
            values (%s, %s, %s, %s, %s, %s, coalesce(%s, now()), %s, %s, %s) returning entry_id""",
            (
                year,
                dept,
                score,
                e.get("comment") or None,
                [p for p in people if p],
                entered_by,
                entered_at,
                source,
                ids.get("dag_id"),
                ids.get("airflow_run_id"),
            ),
        ).fetchone()
        audit.record(
            conn, "assessment_entry", f"assessment.manual_scores/{row[0]}",
            ids.get("responded_by") or entered_by, at=entered_at,
            after={"academic_year": year, "department": dept, "score": score,
                   "marked_people": [p for p in people if p]},
            detail={"comment": e.get("comment"), "source": source, "entered_by": entered_by},
            dag_id=ids.get("dag_id"), airflow_run_id=ids.get("airflow_run_id"),
        )  # fmt: skip
        out.append(row[0])
    return out


def produce(
    year: str,
    *,
    url: str | None = None,
    send_mail: bool = True,
    folder: Path | None = None,
    rules_path: Path | None = None,
    **ids,
) -> dict:
    """Compute, store, render and mail the assessment of `year`; returns the output paths."""
    from include.assessment import compute, report
    from include.warehouse import connection

    with psycopg.connect(connection.url_for("assessment", url), autocommit=True) as conn:
        a = compute.compute(conn, year, rules_path=rules_path, **ids)
        rep = report.build(conn, a)
        html, pdf = report.write(conn, a, rep, folder)
        message_id = report.send(conn, a, rep, html, pdf) if send_mail else None
        return {
            "run_id": a.run_id,
            "title": rep.title,
            "html": str(html),
            "pdf": str(pdf),
            "ranking": [(r.rank, r.department, r.total) for r in a.results],
            "barred": [r.department for r in a.results if r.barred],
            "figures": len(rep.figures),
            "refused": len(rep.refused),
            "sent": message_id is not None,
            "message_id": message_id,
        }
