"""Department review (Article 11): each department audits its own data, per subsystem and period.

`open_review()` lists what the checks flagged in one subsystem's data for one period — open
warnings (`quality.warnings`), failed checks (`quality.check_results`) and refused records
(`landing.rejects`) — as numbered items, and records the review task for the managing
department's quality administrator. The reviewer decides per item in one human-in-the-loop
step: every item is confirmed (the warnings are acknowledged in bulk) unless listed in
`returned`, which goes back to the filler (the subsystem's collectors) with the comment.
Only the assigned reviewer may answer, and the task lists only that department's items.
"""

from __future__ import annotations

import json
from datetime import date

from include import audit
from include.corrections import connect, workflow
from include.quality import people
from include.quality import warnings as qwarnings
from include.registry import Registry, registry


def period_bounds(period: str) -> tuple[date, date]:
    """'2026-09' -> [2026-09-01, 2026-10-01)."""
    y, m = (int(p) for p in period.split("-")[:2])
    return date(y, m, 1), date(y + (m == 12), m % 12 + 1, 1)


def reviewer(subsystem: str, reg: Registry | None = None):
    reg = reg or registry()
    dept = reg.departments[reg.subsystems[subsystem].managing_departments[0]]
    return dept, dept.quality_administrators[0]


def flagged(conn, subsystem: str, period: str) -> list[dict]:
    start, end = period_bounds(period)
    items = []
    for wid, title, detail in conn.execute(
        "select warning_id, title, coalesce(detail, '') from quality.warnings "
        "where subsystem = %s and status = 'open' and opened_at < %s order by warning_id",
        [subsystem, end],
    ):
        items.append({"kind": "warning", "ref": wid, "text": f"预警 {wid}：{title}。{detail}"})
    for rid, name, dataset, n in conn.execute(
        "select max(result_id), check_name, dataset, max(failing_count) from quality.check_results "
        "where subsystem = %s and outcome = 'failed' and verified_at >= %s and verified_at < %s "
        "group by check_name, dataset order by 1",
        [subsystem, start, end],
    ):
        items.append({"kind": "check", "ref": rid, "text": f"{dataset}：{name}（{n or 0} 条）"})
    for resource, code, field, n, sample in conn.execute(
        "select resource, reason_code, field, count(*), min(reason) from landing.rejects "
        "where subsystem = %s and received_at >= %s and received_at < %s "
        "group by resource, reason_code, field order by 1, 2, 3",
        [subsystem, start, end],
    ):
        items.append({"kind": "rejects", "ref": f"{resource}:{code}:{field}",
                      "text": f"{resource} 拒收 {n} 条（{code}，{field}）：{sample}"})  # fmt: skip
    for i, item in enumerate(items, 1):
        item["no"] = i
    return items


def open_review(subsystem: str, period: str, dag_run_id: str | None = None) -> dict:
    dept, qa = reviewer(subsystem)
    with connect() as conn:
        items = flagged(conn, subsystem, period)
        review_id = conn.execute(
            """
            insert into corrections.reviews (subsystem, period, department, reviewer_user, items,
                dag_run_id)
            values (%s, %s, %s, %s, %s, %s)
            on conflict (subsystem, period, department) do update set items = excluded.items,
                reviewer_user = excluded.reviewer_user, dag_run_id = excluded.dag_run_id,
                decided_at = null, decided_by = null, decisions = null
            returning review_id
            """,
            [subsystem, period, dept.name, qa.login, json.dumps(items, ensure_ascii=False),
             dag_run_id],
        ).fetchone()[0]  # fmt: skip
    return {"review_id": review_id, "department": dept.name, "reviewer": qa.login,
            "reviewer_name": qa.name, "items": items}  # fmt: skip


def decide(review_id: int, by: str, returned: list[int], comment: str, **ids) -> dict:
    """Confirm every item not returned (warnings acknowledged), return the others to the filler.
    The decision and who made it go to the audit trail with the review row (`ids`: dag_id,
    airflow_run_id)."""
    with connect() as conn:
        subsystem, items = conn.execute(
            "select subsystem, items from corrections.reviews where review_id = %s", [review_id]
        ).fetchone()
    returned_set = {int(n) for n in returned}
    decisions = []
    for item in items:
        back = item["no"] in returned_set
        decisions.append({**item, "decision": "returned" if back else "confirmed"})
        if item["kind"] == "warning" and not back:
            try:
                qwarnings.acknowledge(item["ref"], by, f"部门审核确认（审核任务 {review_id}）")
            except ValueError:
                pass  # already acknowledged or resolved meanwhile
    back_items = [d for d in decisions if d["decision"] == "returned"]
    if back_items:
        to = [(p["name"], p["email"]) for p in people.warned(subsystem)]
        lines = "\n".join(f"{d['no']}. {d['text']}" for d in back_items)
        text = f"以下问题经部门审核退回填报人，请核实并更正：\n{lines}\n\n审核意见：{comment}"
        workflow.notify(to, f"部门审核退回：{subsystem} 共 {len(back_items)} 项", text)
    with connect() as conn:
        conn.execute(
            "update corrections.reviews set decided_at = now(), decided_by = %s, decisions = %s "
            "where review_id = %s",
            [by, json.dumps(decisions, ensure_ascii=False), review_id],
        )
        audit.record(
            conn, "department_review", f"corrections.reviews/{review_id}", by,
            after={"confirmed": [d["no"] for d in decisions if d["decision"] == "confirmed"],
                   "returned": [d["no"] for d in back_items]},
            detail={"subsystem": subsystem, "comment": comment}, **ids,
        )  # fmt: skip
    return {"confirmed": len(decisions) - len(back_items), "returned": len(back_items)}
