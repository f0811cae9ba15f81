"""The task callables of `dags/quality.py`, kept here so the DAG file stays a few lines."""

from __future__ import annotations

import logging

from include.quality import digest, verify, warnings

log = logging.getLogger(__name__)


def _ids(context: dict) -> dict:
    dag = context.get("dag")
    return {"dag_id": dag.dag_id if dag else None, "airflow_run_id": context.get("run_id")}


def _report_errors(result: dict) -> None:
    # A contract that could not run leaves its checks not evaluated (quality.day_report shows
    # them); the run is marked `error` in quality.check_runs rather than failing the DAG, so
    # one broken contract does not hide the other datasets' findings.
    for error in result["errors"]:
        log.error("数据契约执行出错: %s", error)


def audit_landing(**context) -> dict:
    """Verify the raw contracts on new and held pulls, hold/release, open/resolve warnings."""
    result = verify.run("raw", "landing", **_ids(context))
    result["warnings"] = warnings.sync_data_warnings(result["run_id"])
    _report_errors(result)
    log.info("质量检查（原始层）: %s", result)
    return result


def audit_warehouse(**context) -> dict:
    """Verify the mart contracts, then the indicator warnings of the control-point mart."""
    result = verify.run("marts", "warehouse", **_ids(context))
    result["warnings"] = warnings.sync_data_warnings(result["run_id"])
    result["indicators"] = warnings.sync_indicator_warnings()
    _report_errors(result)
    log.info("质量检查（数据集市）: %s", result)
    return result


def send_digests(**context) -> dict:
    """Escalate overdue warnings, then send today's digests (at most one per person per day)."""
    escalated = warnings.escalate()
    sent = digest.send_digests()
    log.info("预警升级 %d 项，发送日报 %d 封", len(escalated), len(sent))
    return {"escalated": escalated, "sent": [s["email"] for s in sent]}


def _final(message: str) -> Exception:
    """A failure a retry cannot fix (a person's input): the task fails at once, in Chinese."""
    from airflow.sdk.exceptions import AirflowFailException

    return AirflowFailException(message)


def _params(context: dict) -> dict:
    """The trigger form's values; a run nobody filled in (no 操作人) is skipped, not failed."""
    from airflow.sdk.exceptions import AirflowSkipException

    p = {k: (v.strip() if isinstance(v, str) else v) for k, v in context["params"].items()}
    if not p.get("by"):
        raise AirflowSkipException("未填写操作人（邮箱），本次运行未做任何操作")
    return p


def release_hold(**context) -> dict:
    """放行暂扣批次: a quality administrator accepts a held batch (trigger form of the DAG)."""
    from include.quality import holds

    p = _params(context)
    try:
        via = {**_ids(context), "airflow_user": context["dag_run"].triggering_user_name}
        result = holds.release(int(p["pull_id"]), p["by"], p["reason"], via=via)
    except holds.ReleaseError as exc:
        raise _final(f"不能放行：{exc}") from None
    log.info("暂扣批次 %s 已放行：%s", p["pull_id"], result)
    return result


def acknowledge_warning(**context) -> dict:
    """确认预警: the responsible person acknowledges (or resolves) a warning."""
    p = _params(context)
    warning_id = int(p["warning_id"])
    try:
        if p["action"] == "resolve":
            warnings.resolve(warning_id, p["by"], p["note"])
        else:
            warnings.acknowledge(warning_id, p["by"], p["note"])
    except warnings.AlreadyResolved as exc:  # resolved since the mail was read: not an error
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException(str(exc)) from None
    except ValueError as exc:
        raise _final(str(exc)) from None
    log.info("预警 %s：%s（%s）", warning_id, p["action"], p["by"])
    return {"warning_id": warning_id, "action": p["action"], "by": p["by"]}
