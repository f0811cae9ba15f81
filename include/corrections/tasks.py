"""The plain Python tasks of the correction DAG: submit (validate and record) and form."""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowFailException

from include.corrections import form, requests, workflow
from include.corrections.chain import signers


def submit(**context) -> dict:
    """Validate the request in the run's conf and record it; a bad one fails at once with its
    one-line Chinese reason, before any approval starts, and nothing is written."""
    conf = context["dag_run"].conf or {}
    try:
        req = requests.Request.from_dict(conf.get("request") or {})
        out = requests.submit(req)
    except (requests.CorrectionError, TypeError) as exc:
        raise AirflowFailException(f"更正申请不予受理：{exc}") from None
    with workflow.connect() as conn:
        conn.execute(
            "update corrections.requests set dag_run_id = %s where request_id = %s",
            [context["run_id"], out["request_id"]],
        )
    chain = signers(req.subsystem, req.reporting_department)
    out["chain"] = [f"{s.title} {s.name} ({s.user})" for s in chain]
    return out


def render_form(**context) -> dict:
    """Annex 1 for whatever the outcome (verified, refused, timed out): a DAG output."""
    submitted = context["ti"].xcom_pull(task_ids="submit")
    if not submitted:
        raise AirflowFailException("申请未受理，无更正表可生成")
    out = form.render(submitted["request_id"], dag_run_id=context["run_id"])
    print(f"数据采集更正表 {out['form_no']}（{out['status']}）：{out['pdf']}")
    return out


def open_review(**context) -> dict:
    from include.corrections import review

    conf = context["dag_run"].conf or {}
    if not conf.get("subsystem") or not conf.get("period"):
        raise AirflowFailException(
            '请在运行配置中给出 {"subsystem": "academic", "period": "2026-09"}'
        )
    return review.open_review(conf["subsystem"], conf["period"], dag_run_id=context["run_id"])
