"""质量检查与预警 (quality checks and early warnings), run by 质管办 (Articles 4, 10, 11).

- `quality__landing` follows every raw Asset: it verifies the Soda contracts of
  `soda/contracts/raw_*` on the pulls not audited yet and on the pulls on hold, stores every
  result in `quality.check_results`, holds pulls that fail a blocking check (write–audit–
  publish: dbt staging skips them) and releases held pulls that pass, and opens or resolves
  data warnings. Its outlet `quality.raw_audited` is what a warehouse build can follow to
  publish only audited batches.
- `quality__warehouse` follows the marts Asset: it verifies `soda/contracts/marts/*` and turns
  quality control points at 预警 / 未达标 into indicator warnings for their owner departments.
- `quality__digest` runs daily at 08:30 and after each warehouse audit: warnings unresolved
  for `XIAOBEN_ESCALATE_AFTER_DAYS` days escalate to the department head, then everyone with
  unresolved warnings gets one digest e-mail (at most one per person per day) through the
  Airflow connection `smtp_default`.

Code: `include/quality/`; contracts: `soda/`; results: schema `quality` in the warehouse.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, AssetAny, AssetOrTimeSchedule, CronTriggerTimetable

from connectors.dag_support import raw_asset
from connectors.spec import api_specs
from include.assets import MARTS, RAW_AUDITED, WARNINGS
from include.quality import tasks
from include.registry import registry

START = pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai")
DEFAULTS = {"owner": registry().quality_office, "retries": 2, "retry_delay": timedelta(minutes=2)}
TAGS = ["quality", "质量", "预警"]


raw_assets = [raw_asset(sid, r) for sid, spec in api_specs().items() for r in spec.landed]

with DAG(
    dag_id="quality__landing",
    description="质量检查：原始层数据契约、暂扣与放行、数据预警",
    schedule=AssetAny(*raw_assets),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULTS,
    tags=[*TAGS, "raw"],
    doc_md=__doc__,
):
    PythonOperator(task_id="audit_raw", python_callable=tasks.audit_landing, outlets=[RAW_AUDITED])

with DAG(
    dag_id="quality__warehouse",
    description="质量检查：数据集市数据契约、质控点指标预警",
    schedule=[MARTS],
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULTS,
    tags=[*TAGS, "marts"],
    doc_md=__doc__,
):
    PythonOperator(task_id="audit_marts", python_callable=tasks.audit_warehouse, outlets=[WARNINGS])

with DAG(
    dag_id="quality__digest",
    description="预警升级与每日预警邮件（每人每天至多一封）",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("30 8 * * *", timezone="Asia/Shanghai"),
        assets=AssetAny(WARNINGS),
    ),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULTS,
    tags=[*TAGS, "mail"],
    doc_md=__doc__,
):
    PythonOperator(task_id="escalate_and_mail", python_callable=tasks.send_digests)
