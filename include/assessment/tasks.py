"""The task callables of `dags/assessment.py`: which year, the (a) form, then compute and mail.

年终考核 DAG 的任务：确定学年、质管办录入 (a) 项、计算、出报告并发送。
"""

from __future__ import annotations

import logging
from datetime import datetime

import psycopg
from airflow.sdk.exceptions import AirflowFailException

from include.reports.periods import TZ, closed_before

log = logging.getLogger(__name__)
FORM_TASK = "enter_criterion_a"
MARKED = "marked_people"
COMMENT = "comment"


def year_of(params: dict, context: dict) -> str:
    """The year asked for by hand, else the academic year closed before the run."""
    if params.get("academic_year"):
        return str(params["academic_year"]).strip()
    from include.warehouse import connection

    moment = context.get("logical_date") or datetime.now(TZ)
    with psycopg.connect(connection.url_for("assessment")) as conn:
        return closed_before(conn, "year", moment).id


def form_entries(params_input: dict) -> dict[str, dict]:
    """{department: {score, comment, marked_people}} from the form's answers.

    Marked people are written `部门：姓名、姓名；部门：姓名` (entered by 质管办, never inferred)."""
    marked: dict[str, list[str]] = {}
    for part in str(params_input.get(MARKED) or "").replace(";", "；").split("；"):
        if not part.strip():
            continue
        dept, _, names = part.replace(":", "：").partition("：")
        if not names:
            raise ValueError(f"(a) 录入：{MARKED} 的 {part!r} 应写成 部门：姓名、姓名")
        marked[dept.strip()] = [
            n.strip() for n in names.replace(",", "、").split("、") if n.strip()
        ]
    from include.assessment.compute import departments

    known = set(departments())  # the form also shows the run's own parameters: not scores
    out = {}
    for key, value in params_input.items():
        if key not in known or value in (None, ""):
            continue
        out[key] = {"score": value, "marked_people": marked.get(key, [])}
    for dept in set(marked) - set(out):
        raise ValueError(f"(a) 录入：{dept} 标记了人员但未录入 (a) 得分，请补录得分")
    comment = params_input.get(COMMENT)
    for e in out.values():
        e["comment"] = comment
    return out


def assess(**context) -> dict:
    """Record the (a) scores the form received (who and when), then compute, render and mail."""
    from include import assessment
    from include.warehouse import connection

    params = context.get("params") or {}
    year = year_of(params, context)
    dag = context.get("dag")
    ids = {"dag_id": dag.dag_id if dag else None, "airflow_run_id": context.get("run_id")}
    answer = context["ti"].xcom_pull(task_ids=FORM_TASK) or {}
    if answer.get("params_input"):
        user = answer.get("responded_by_user") or {}
        who = user.get("name") or user.get("id") or "unknown"
        with psycopg.connect(
            connection.url_for("assessment")
        ) as conn:  # one commit, audit included
            n = assessment.record_manual(
                conn,
                year,
                form_entries(answer["params_input"]),
                entered_by=who,
                source="hitl",
                entered_at=answer.get("responded_at"),
                responded_by=user.get("id"),
                **ids,
            )
        log.info("(a) 项：%s 录入 %d 个部门", who, len(n))
    else:
        log.warning("(a) 项表单未填写（超时或跳过）：按规则文件 missing_manual 处理")
    result = assessment.produce(year, **ids)
    log.info(
        "考核报告：%s；不得参与评优评先：%s", result["pdf"], "、".join(result["barred"]) or "无"
    )
    return result


# ---- appeals (dags/assessment.py, assessment__appeal) ------------------------------------------

DECIDE_TASK = "decide_appeal"
UPHOLD, REJECT = "申诉成立", "驳回申诉"


def file_appeal(**context) -> int:
    """The department's appeal from the run's parameters (who filed it: `filed_by`)."""
    from include.assessment import appeal
    from include.warehouse import connection

    p = context.get("params") or {}
    with psycopg.connect(connection.url_for("assessment"), autocommit=True) as conn:
        appeal_id = appeal.file(conn, int(p["fact_id"]), str(p["reason"]), str(p["filed_by"]))
    log.info("申诉 #%s：事实 #%s，%s", appeal_id, p["fact_id"], p["reason"])
    return appeal_id


def apply_decision(**context) -> dict:
    """Record 质管办's decision (who, when, reason); an upheld appeal recomputes and re-mails."""
    from include import assessment
    from include.assessment import appeal
    from include.warehouse import connection

    ti = context["ti"]
    appeal_id = ti.xcom_pull(task_ids="file_appeal")
    answer = ti.xcom_pull(task_ids=DECIDE_TASK) or {}
    user = answer.get("responded_by_user") or {}
    upheld = UPHOLD in (answer.get("chosen_options") or [])
    reason = (answer.get("params_input") or {}).get("decision_reason") or ""
    with psycopg.connect(connection.url_for("assessment"), autocommit=True) as conn:
        try:
            with conn.transaction():  # the decision and its audit event together
                year = appeal.decide(
                    conn, appeal_id, upheld, reason, user.get("name") or "unknown", user.get("id")
                )
        except appeal.AppealError as exc:  # one line, no retries: the decision must be redone
            raise AirflowFailException(str(exc)) from None
        if not upheld:
            return {"appeal_id": appeal_id, "upheld": False}
        result = assessment.produce(
            year, dag_id=context["dag"].dag_id, airflow_run_id=context.get("run_id")
        )
        appeal.recomputed(conn, appeal_id, result["run_id"])
    return {"appeal_id": appeal_id, "upheld": True, **result}
