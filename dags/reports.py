"""分析报告 (analysis reports, Articles 12 and 13), generated after each period closes.

- `reports__department_monthly` / `reports__department_term`: each managing department's data
  analysis report — its subsystems' volumes, timeliness, check pass rates by principle,
  rejects, warnings, corrections and the 质控点 it owns, with generated findings — mailed to
  the department head, its quality administrators and 质管办.
- `reports__school_term` / `reports__school_year`: the school-level 人才培养状态分析报告 from
  质管办 (scorecard, five layers, data quality, late department reports), mailed to the
  leadership and 质管办.

Trigger by hand with `period_id` (2026-09, 2026-2027-1 or 2026-2027) for any period; a period
already mailed is not mailed again unless `resend` is set. Every figure is traced in
`reports.figures`; outputs are under `.xiaoben/reports/<period>/` and registered in
`reports.reports`. Sections: `include/reports/sections.yml`.

手动触发可指定任意周期；同一周期已发送的报告不会重复发送，除非勾选“重新发送”。
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param

from include import settings
from include.registry import registry
from include.reports import tasks
from include.reports.schedule import EXAMPLE, REPORT_DAGS

START = pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai")
DEFAULTS = {"owner": registry().quality_office, "retries": 2, "retry_delay": timedelta(minutes=5)}
for dag_id, name, kind, period_kind, cron in REPORT_DAGS:
    with DAG(
        dag_id=dag_id,
        dag_display_name=name,
        description=f"{name}：生成 HTML 与 PDF、登记并发送邮件",
        schedule=settings.timetable(cron),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULTS,
        tags=["reports", "报告"],
        doc_md=__doc__,
        params={
            "period_id": Param(
                "",
                type="string",
                description=f"统计周期，如 {EXAMPLE[period_kind]}；留空则为运行前最近结束的周期",
            ),
            "resend": Param(
                False, type="boolean", description="重新发送：本周期已发送过也再发送一次"
            ),
        },
    ):
        PythonOperator(
            task_id=f"{kind}_reports",
            task_display_name=name,
            python_callable=tasks.run_reports,
            op_kwargs={"kind": kind, "period_kind": period_kind},
        )
