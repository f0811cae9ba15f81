""" "What was wrong with subsystem X on day D, and who was told" — from the results history.

The view `quality.day_report` has one row per failed or warned check result, with the warning
it raised, the people mailed about that warning (name, address, time) and the pulls held:

    select * from quality.day_report where subsystem = 'academic' and day = '2026-09-22';
"""

from __future__ import annotations

from datetime import date

import psycopg
from psycopg.rows import dict_row

from include.warehouse import connection


def what_was_wrong(subsystem: str, day: date | str, url: str | None = None) -> list[dict]:
    """Every failed or warned check of `subsystem` on `day` (Asia/Shanghai), and who was told."""
    with (
        psycopg.connect(url or connection.warehouse_url()) as conn,
        conn.cursor(row_factory=dict_row) as cur,
    ):
        return cur.execute(
            """
            select * from quality.day_report
            where subsystem = %s and day = %s
            order by verified_at, dataset, check_name
            """,
            [subsystem, day],
        ).fetchall()


def format_report(subsystem: str, day: date | str, rows: list[dict]) -> str:
    if not rows:
        return f"{subsystem} 在 {day} 没有未通过或需提醒的检查。"
    lines = [f"{subsystem} 在 {day} 的质量问题（{len(rows)} 项检查结果）："]
    for r in rows:
        count = f"，{r['failing_count']} 条" if r["failing_count"] is not None else ""
        samples = f"，样例 {'、'.join(r['sample_keys'])}" if r["sample_keys"] else ""
        held = f"，暂扣批次 {', '.join(map(str, r['held_pulls']))}" if r["held_pulls"] else ""
        lines.append(
            f"- {r['verified_at']:%H:%M} [{r['principle']}/{r['outcome']}] {r['dataset']}："
            f"{r['check_name']}{count}{samples}{held}"
        )
        if r["warning_id"]:
            lines.append(f"    预警 {r['warning_id']}（{r['warning_status']}）已通知：")
            lines.extend(f"      {t}" for t in r["told"] or ["（尚未发出邮件）"])
    return "\n".join(lines)
