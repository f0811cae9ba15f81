"""年终考核 (year-end assessment of departments' data work, Articles 14–16).

Runs on 10 September, after the academic year has closed and August's department reports were
due. First 质管办 enters criterion (a) — 部门负责人重视程度与组织措施, one score (0–100) per
department, plus any people confirmed to have entered erroneous data that caused consequences —
in the form of the task **录入 (a) 项得分** (Browse → Required Actions). The form records who
entered it and when. Then (b) timeliness, (c) data quality and (d) responsiveness are computed
from warehouse rows (`landing.run_log`, `reports.reports`, `quality.check_results`,
`landing.rejects`, `marts.identity_issues`, `quality.warnings`, and — for how fast each
department's people answered — `corrections.steps` and `corrections.reviews`) with the
weights, curves and pass line of `include/assessment/rules.yml` (质管办 owns it). Results
go to `assessment.*` (readable by BI); the ranked report (HTML + PDF) lists the departments
below the pass line as 不得参与评优评先 with their evidence and is mailed to the leading group
and 质管办.

Trigger by hand with `academic_year` (e.g. 2026-2027) for any year; empty = the year closed
before the run. 手动触发可指定学年；留空则为运行前最近结束的学年。
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.hitl import HITLEntryOperator, HITLOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param

from include import settings
from include.assessment import tasks
from include.assessment.compute import departments
from include.registry import registry

QUALITY_OFFICE = registry().quality_office
# Who may decide an appeal: 质管办's head and quality administrators (their Airflow users);
# anyone else — the appealing department included — gets 403 (Article 16: 质管办 decides).
_qmo = registry().departments[QUALITY_OFFICE]
DECIDERS = [{"id": p.login, "name": p.name} for p in (_qmo.head, *_qmo.quality_administrators)]

FORM_PARAMS = {
    d: Param(
        None,
        type=["null", "number"],
        minimum=0,
        maximum=100,
        title=d,
        description=f"{d}：部门负责人重视程度与组织措施（0–100 分；留空 = 未录入）",
    )
    for d in departments()
}
FORM_PARAMS[tasks.MARKED] = Param(
    "",
    type="string",
    title="经确认数据错误并造成后果的人员",
    description="写成 部门：姓名、姓名；部门：姓名（第十六条，只由质管办确认后填写）",
)
FORM_PARAMS[tasks.COMMENT] = Param("", type="string", title="说明", description="录入说明（可空）")

with DAG(
    dag_id="assessment__yearly",
    dag_display_name="年终考核（各部门数据工作）",
    description="质管办录入 (a) 项，计算 (b)(c)(d) 项，排名、标记不得参与评优评先并发送报告",
    schedule=settings.timetable("0 8 10 9 *"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": QUALITY_OFFICE, "retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["assessment", "考核"],
    doc_md=__doc__,
    params={
        "academic_year": Param(
            "", type="string", description="学年，如 2026-2027；留空则为运行前最近结束的学年"
        ),
    },
):
    form = HITLEntryOperator(
        task_id=tasks.FORM_TASK,
        task_display_name="录入 (a) 项得分",
        subject="年终考核：录入各部门 (a) 项得分（部门负责人重视程度与组织措施）",
        body=(
            "请质管办为每个部门录入 0–100 分；留空的部门按规则文件处理（见报告说明）。"
            "经确认数据错误并造成后果的人员写成 部门：姓名、姓名。录入人与时间自动记录。"
        ),
        params=FORM_PARAMS,
        response_timeout=timedelta(days=14),
    )
    assess = PythonOperator(
        task_id="assess",
        task_display_name="计算考核、生成并发送报告",
        python_callable=tasks.assess,
        trigger_rule="all_done",
    )
    form >> assess

with DAG(
    dag_id="assessment__appeal",
    dag_display_name="年终考核申诉",
    description="部门对被标记的事实提出申诉，质管办裁决并说明理由；申诉成立则重新计算并发送报告",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    default_args={"owner": QUALITY_OFFICE, "retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["assessment", "考核"],
    doc_md="""部门在 rules.yml 规定的申诉期内，对考核报告中被标记的事实（按事实编号）提出申诉；
质管办（负责人或质量管理员，只有他们可以裁决）在 **裁决申诉** 表单中选择“申诉成立”或
“驳回申诉”并写明理由（录入人与时间自动记录）。
申诉成立：该指标不计入该部门得分，重新计算当年考核并发送报告。""",
    params={
        "fact_id": Param(0, type="integer", minimum=1, description="报告中的事实编号"),
        "reason": Param("", type="string", minLength=1, description="申诉理由"),
        "filed_by": Param("", type="string", minLength=1, description="申诉人（部门与姓名）"),
    },
):
    file_appeal = PythonOperator(
        task_id="file_appeal", task_display_name="登记申诉", python_callable=tasks.file_appeal
    )
    decide_appeal = HITLOperator(
        task_id=tasks.DECIDE_TASK,
        task_display_name="裁决申诉",
        subject="年终考核申诉：请质管办裁决",
        body="申诉事实 #{{ params.fact_id }}；理由：{{ params.reason }}（{{ params.filed_by }}）",
        options=[tasks.UPHOLD, tasks.REJECT],
        assigned_users=DECIDERS,
        # null default: Airflow validates a form's params before the task runs, so an empty
        # default would fail every run; an empty answer is refused by apply_decision
        params={
            "decision_reason": Param(None, type=["null", "string"], minLength=1, title="裁决理由")
        },
        response_timeout=timedelta(days=14),
    )
    apply_decision = PythonOperator(
        task_id="apply_decision",
        task_display_name="记录裁决并重新计算",
        python_callable=tasks.apply_decision,
    )
    file_appeal >> decide_appeal >> apply_decision
