"""数据采集更正审批 (Article 11, Annex 1 数据采集更正表).

Trigger with `{"request": {...}}` (reporting_department, subsystem, items: [{resource,
source_key, field, new_value}], reason, filler_name, filler_user, filler_email); optional
`step_timeout_seconds` (default two days per step). The request is validated and recorded
first — a bad one fails at once with one Chinese line, before any approval starts. Then the
organising and managing departments' heads sign (in parallel, once when they are the same
person), the vice-president in charge, and 质管办 verifies; only then the correction enters
the overlay the warehouse build applies in staging. Every human step is a human-in-the-loop
task assigned to one person (Browse → Required Actions, or the REST API). The form (HTML and
PDF) is rendered for every outcome and registered in `corrections.forms`.

提交更正申请后依次由组织部门与归口管理部门负责人、分管副院长签署，质管办核验后生效；任何一步
不同意即退回填报人；逾期先催办，再次逾期则升级并终止。
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

from include.corrections import tasks
from include.corrections.operators import ReviewStep, SignStep
from include.registry import registry

QUALITY_OFFICE = registry().quality_office

STEPS = [  # (task id, display name)
    ("organising_head", "组织部门负责人签署"),
    ("managing_head", "归口管理部门负责人签署"),
    ("department_heads", "组织及归口管理部门负责人签署"),
]

with DAG(
    dag_id="corrections__approve",
    dag_display_name="数据采集更正审批",
    description="附件1 数据采集更正表：校验申请、逐级签署、质管办核验、生成更正表",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    default_args={"owner": QUALITY_OFFICE, "retries": 2, "retry_delay": timedelta(seconds=30)},
    tags=["corrections", "更正"],
    doc_md=__doc__,
):
    submit = PythonOperator(
        task_id="submit", task_display_name="受理更正申请", python_callable=tasks.submit
    )
    heads = [SignStep(task_id=t, task_display_name=n, step=t) for t, n in STEPS]
    vp = SignStep(task_id="vice_president", task_display_name="分管副院长签署",
                  step="vice_president", trigger_rule="none_failed_min_one_success")  # fmt: skip
    qo = SignStep(task_id="quality_office", task_display_name="质管办核验",
                  step="quality_office", trigger_rule="none_failed")  # fmt: skip
    form = PythonOperator(
        task_id="form", task_display_name="生成更正表", python_callable=tasks.render_form,
        trigger_rule="all_done",
    )  # fmt: skip
    submit >> heads >> vp >> qo >> form

with DAG(
    dag_id="corrections__review",
    dag_display_name="部门数据审核",
    description="第十一条：各部门审核本部门数据，逐项确认或退回填报人",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    default_args={"owner": QUALITY_OFFICE, "retries": 2, "retry_delay": timedelta(seconds=30)},
    tags=["corrections", "审核"],
    # conf {"subsystem": "academic", "period": "2026-09"}: not DAG params, which Airflow would
    # merge into the reviewer's form.
    doc_md=__doc__,
):
    open_review = PythonOperator(
        task_id="open_review", task_display_name="列出本期问题", python_callable=tasks.open_review
    )
    open_review >> ReviewStep(task_id="review", task_display_name="质量管理员逐项审核")
