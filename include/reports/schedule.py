"""The report DAGs, as data: one row per DAG (read by `dags/reports.py` and by the demo).

Each report runs after its period closes (the cron), or by hand for any period.
"""

from __future__ import annotations

from typing import NamedTuple


class ReportDag(NamedTuple):
    dag_id: str
    name: str  # display name (Chinese)
    kind: str  # department / school
    period_kind: str  # month / term / year
    cron: str  # after the period closes


DEPARTMENT, SCHOOL = "部门数据分析报告", "人才培养状态分析报告"
REPORT_DAGS = [
    ReportDag(
        "reports__department_monthly", f"{DEPARTMENT}（月度）", "department", "month", "0 6 2 * *"
    ),
    ReportDag(
        "reports__department_term", f"{DEPARTMENT}（学期）", "department", "term", "0 6 2 2,9 *"
    ),
    ReportDag("reports__school_term", f"{SCHOOL}（学期）", "school", "term", "0 9 3 2,9 *"),
    ReportDag("reports__school_year", f"{SCHOOL}（学年）", "school", "year", "0 9 5 9 *"),
]
EXAMPLE = {"month": "2026-09", "term": "2026-2027-1", "year": "2026-2027"}
