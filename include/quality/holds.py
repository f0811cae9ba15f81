"""Write–audit–publish (Article 11): failing batches are held; people can see and release them.

A pull (one batch of one raw resource) that fails a *blocking* check is put on hold in
`quality.holds`; dbt staging reads raw only through `publishable()`, which skips pulls with an
open hold, so the batch never reaches the marts. A hold ends in one of two ways:

- **re-check**: every quality run re-verifies the pulls on hold; when no blocking check fails
  for a held pull any more, it is released with `release_kind = 'recheck'`;
- **acceptance**: a quality administrator of the subsystem's managing or organising department
  (or of 质管办) accepts the batch as it is — `release(pull_id, by, reason)` records who, when
  and why (`release_kind = 'accepted'`). An accepted pull is not re-verified.

`xiaoben quality release --pull N --by EMAIL --reason TEXT` calls `release`.
"""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row

from include import audit
from include.registry import registry
from include.warehouse import connection

RECHECK = "质量检查（复核通过）"  # who releases a held pull that passes its re-check


class ReleaseError(ValueError):
    """A release that is not allowed; the message says why and what to do."""


def apply(conn: psycopg.Connection, run_id: int, verified_pulls: dict[str, list[int]]) -> dict:
    """Hold pulls that failed a blocking check in this run; release held pulls that passed."""
    failing = conn.execute(
        """
        select p.pull_id, r.dataset, r.subsystem, r.resource,
               array_agg(distinct r.check_name order by r.check_name) as checks
        from quality.check_results as r
        cross join lateral unnest(r.failing_pull_ids) as p (pull_id)
        where r.run_id = %s and r.outcome = 'failed' and r.blocking
        group by 1, 2, 3, 4
        """,
        [run_id],
    ).fetchall()
    held = []
    for pull_id, dataset, subsystem, resource, checks in failing:
        inserted = conn.execute(
            """
            insert into quality.holds
                (pull_id, subsystem, resource, dataset, run_id, reason, failed_checks)
            values (%s, %s, %s, %s, %s, %s, %s)
            on conflict (pull_id) do update set failed_checks = excluded.failed_checks
                where quality.holds.released_at is null
            returning (xmax = 0) as new
            """,
            [
                pull_id, subsystem, resource, dataset, run_id,
                f"阻断性检查未通过：{'；'.join(checks)}", checks,
            ],
        ).fetchone()  # fmt: skip
        if inserted and inserted[0]:
            held.append(pull_id)
    still_failing = {row[0] for row in failing}
    verified = [p for pulls in verified_pulls.values() for p in pulls]
    with conn.transaction():  # each release and its audit event together
        released = [
            row[0]
            for row in conn.execute(
                """
                update quality.holds set released_at = now(), released_by = %s,
                    release_kind = 'recheck', release_run_id = %s,
                    release_note = '复核时阻断性检查全部通过'
                where released_at is null and pull_id = any(%s) and not (pull_id = any(%s))
                returning pull_id
                """,
                [RECHECK, run_id, verified, list(still_failing)],
            ).fetchall()
        ]
        for pull_id in released:
            audit.record(
                conn, "hold_release", f"quality.holds/{pull_id}", RECHECK,
                before={"released_at": None},
                after={"released_by": RECHECK, "release_kind": "recheck", "release_run_id": run_id},
                detail={"reason": "复核时阻断性检查全部通过"},
            )  # fmt: skip
    return {"held": held, "released": released}


def _administrators(subsystem: str) -> dict[str, str]:
    """email → name of everyone who may accept a held batch of this subsystem."""
    reg = registry()
    s = reg.subsystems[subsystem]
    allowed = {}
    for dept in (*s.managing_departments, *s.organising_departments, reg.quality_office):
        for qa in reg.departments[dept].quality_administrators:
            allowed[qa.email] = qa.name
    return allowed


def release(
    pull_id: int, by: str, reason: str, url: str | None = None, via: dict | None = None
) -> dict:
    """A quality administrator accepts a held batch: it is published at the next warehouse build.

    `by` is the administrator's e-mail address (or name). Raises ReleaseError when the pull is
    not on hold, when `by` is not a quality administrator of the subsystem's managing or
    organising department or of 质管办, or when no reason is given. The release is written to
    the audit trail in the same transaction; `via` ({airflow_user, dag_id, airflow_run_id})
    says which Airflow account triggered it.
    """
    if not reason or not reason.strip():
        raise ReleaseError("请写明放行理由 (--reason)：为什么接受这批数据")
    with psycopg.connect(connection.url_for("quality", url)) as conn:
        hold = conn.execute(
            "select subsystem, released_at from quality.holds where pull_id = %s for update",
            [pull_id],
        ).fetchone()
        if hold is None:
            raise ReleaseError(f"批次 {pull_id} 没有被暂扣 (not on hold)")
        subsystem, released_at = hold
        if released_at is not None:
            raise ReleaseError(f"批次 {pull_id} 已于 {released_at:%Y-%m-%d %H:%M} 放行")
        allowed = _administrators(subsystem)
        email = by if by in allowed else next((e for e, n in allowed.items() if n == by), None)
        if email is None:
            names = "、".join(f"{n} <{e}>" for e, n in allowed.items())
            raise ReleaseError(
                f"{by} 不是 {subsystem} 归口管理或组织部门（或质管办）的质量管理员，不能放行；"
                f"可放行的人：{names}"
            )
        who = f"{allowed[email]} <{email}>"
        conn.execute(
            """
            update quality.holds set released_at = now(), released_by = %s,
                release_kind = 'accepted', release_note = %s
            where pull_id = %s
            """,
            [who, reason.strip(), pull_id],
        )
        via = via or {}
        audit.record(
            conn, "hold_release", f"quality.holds/{pull_id}", email,
            before={"released_at": None},
            after={"released_by": who, "release_kind": "accepted"},
            detail={"subsystem": subsystem, "reason": reason.strip(),
                    "airflow_user": via.get("airflow_user")},
            dag_id=via.get("dag_id"), airflow_run_id=via.get("airflow_run_id"),
        )  # fmt: skip
        # The warnings about this batch say who accepted it; they resolve at the next run,
        # when the accepted pull is no longer among the pulls verified.
        conn.execute(
            """
            insert into quality.warning_events (warning_id, event, actor, note)
            select w.warning_id, 'note', %s, %s
            from quality.warnings as w
            where w.status <> 'resolved' and %s = any(w.pull_ids)
            """,
            [who, f"暂扣批次 {pull_id} 已由质量管理员接受放行：{reason.strip()}", pull_id],
        )
    return {"pull_id": pull_id, "released_by": who, "release_kind": "accepted"}


def list_holds(url: str | None = None, open_only: bool = False) -> list[dict]:
    """What was held, why, and who released it."""
    with (
        psycopg.connect(connection.url_for("quality", url)) as conn,
        conn.cursor(row_factory=dict_row) as cur,
    ):
        return cur.execute(
            """
            select pull_id, dataset, subsystem, resource, held_at, reason, failed_checks,
                   released_at, released_by, release_kind, release_note
            from quality.holds
            where not %s or released_at is null
            order by held_at desc, pull_id desc
            """,
            [open_only],
        ).fetchall()
