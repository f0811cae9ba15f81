"""Appeals (Article 16): a department contests a flagged fact within the window the rules file
sets; 质管办 decides with a reason; an upheld appeal takes that indicator out of the
department's score and the year is recomputed (a new run, report and mail).

申诉：部门在规定天数内对被标记的事实提出申诉；质管办裁决并说明理由；申诉成立则该指标不计分并重新计算。
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from include import audit
from include.assessment.rules import load
from include.reports.periods import TZ


class AppealError(ValueError):
    """An appeal that cannot be filed or decided; one line saying why and what to do."""


def file(
    conn: psycopg.Connection,
    fact_id: int,
    reason: str,
    filed_by: str,
    now: datetime | None = None,
) -> int:
    """File an appeal against fact `fact_id` (its department's); returns appeal_id."""
    row = conn.execute(
        """select f.run_id, f.department, f.indicator, coalesce(u.sent_at, u.computed_at)
        from assessment.facts as f join assessment.runs as u on u.run_id = f.run_id
        where f.fact_id = %s""",
        (fact_id,),
    ).fetchone()
    if row is None:
        raise AppealError(f"申诉：事实 #{fact_id} 不存在；请按报告中的事实编号填写")
    run_id, department, indicator, published = row
    window = load()[0].appeal_window_days
    if (now or datetime.now(TZ)) > published + timedelta(days=window):
        raise AppealError(
            f"申诉：事实 #{fact_id} 的考核结果发布于 {published.astimezone(TZ):%Y-%m-%d}，"
            f"已超过 {window} 天申诉期（rules.yml appeal_window_days）"
        )
    if not reason.strip():
        raise AppealError("申诉：请写明申诉理由")
    return conn.execute(
        """insert into assessment.appeals (run_id, department, fact_id, indicator, reason,
            filed_by) values (%s, %s, %s, %s, %s, %s) returning appeal_id""",
        (run_id, department, fact_id, indicator, reason.strip(), filed_by),
    ).fetchone()[0]


def decide(
    conn: psycopg.Connection,
    appeal_id: int,
    upheld: bool,
    reason: str,
    decided_by: str,
    actor: str | None = None,
) -> str:
    """Record 质管办's decision and reason; returns the academic year to recompute. The decision
    goes to the audit trail on `conn` (actor: the Airflow user who answered, else decided_by)."""
    if not reason.strip():
        raise AppealError(f"申诉 #{appeal_id}：请写明裁决理由")
    row = conn.execute(
        """update assessment.appeals as p set decision = %s, decision_reason = %s,
            decided_by = %s, decided_at = now()
        from assessment.runs as u
        where p.appeal_id = %s and u.run_id = p.run_id and p.decision is null
        returning u.academic_year""",
        ("upheld" if upheld else "rejected", reason.strip(), decided_by, appeal_id),
    ).fetchone()
    if row is None:
        raise AppealError(f"申诉 #{appeal_id} 不存在或已裁决")
    audit.record(
        conn, "appeal_decision", f"assessment.appeals/{appeal_id}", actor or decided_by,
        after={"decision": "upheld" if upheld else "rejected", "academic_year": row[0]},
        detail={"reason": reason.strip(), "decided_by": decided_by},
    )  # fmt: skip
    return row[0]


def recomputed(conn: psycopg.Connection, appeal_id: int, run_id: int) -> None:
    conn.execute(
        "update assessment.appeals set recomputed_run_id = %s where appeal_id = %s",
        (run_id, appeal_id),
    )
