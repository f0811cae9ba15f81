"""The task callables of `dags/reports.py`: which period, then build, register and mail."""

from __future__ import annotations

import logging
from datetime import datetime

import psycopg

from include.reports import builder, deliver
from include.reports.periods import TZ, closed_before

log = logging.getLogger(__name__)


def _period(period_kind: str, params: dict, context: dict) -> str:
    """The period asked for by hand, else the latest one closed before the run."""
    if params.get("period_id"):
        return str(params["period_id"]).strip()
    from include.warehouse import connection

    moment = context.get("logical_date") or datetime.now(TZ)
    with psycopg.connect(connection.url_for("reports")) as conn:
        return closed_before(conn, period_kind, moment).id


def _require_marts() -> None:
    """A schedule that fires before the first warehouse build (a fresh `./run up`) skips."""
    from airflow.sdk.exceptions import AirflowSkipException

    from include.warehouse import connection

    with psycopg.connect(connection.url_for("reports")) as conn:
        (built,) = conn.execute("select to_regclass('marts.fct_control_point_values')").fetchone()
    if built is None:
        raise AirflowSkipException(
            "数据集市尚未建成（首次部署，数据仓库构建尚未完成），本期报告跳过；"
            "仓库构建后在 Airflow 中重新触发本 DAG (marts not built yet: skipped)"
        )


def run_reports(kind: str, period_kind: str, **context) -> list[dict]:
    """Every department report, or the school report, for the run's period."""
    params = context.get("params") or {}
    _require_marts()
    period_id = _period(period_kind, params, context)
    dag = context.get("dag")
    ids = {"dag_id": dag.dag_id if dag else None, "airflow_run_id": context.get("run_id")}
    departments = builder.department_list() if kind == "department" else [None]
    results = []
    for department in departments:
        r = deliver.produce(
            kind, period_kind, period_id, department, force=bool(params.get("resend")), **ids
        )
        log.info(
            "报告：%s → %s（%s）；邮件：%s",
            r["title"],
            r["pdf"],
            r["html"],
            "已发送"
            if r["sent"]
            else "本周期已发送过，未重发"
            if r["skipped_as_already_sent"]
            else "未发送",
        )
        results.append(r)
    return results
