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
from airflow.sdk import DAG, AssetAny

from connectors.dag_support import raw_asset
from connectors.spec import api_specs
from include import settings
from include.assets import MARTS, RAW_AUDITED, WARNINGS
from include.quality import tasks
from include.registry import registry

START = pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai")
DEFAULTS = {"owner": registry().quality_office, "retries": 2, "retry_delay": timedelta(minutes=2)}
TAGS = ["quality", "质量", "预警"]
DOCS = {
    "quality__landing": """# 质量检查：原始层

质管办负责（第四条、第十条）。每次有子系统数据入库（任一原始资产更新）后运行：

- 对尚未审核的采集批次、以及处于暂扣状态的批次，执行 `soda/contracts/raw_*` 数据契约；
- 结果写入 `quality.check_results`；阻断性检查未通过的批次被**暂扣**（不进入数据集市），
  已暂扣批次复核通过后**放行**；
- 打开或消除数据预警，发给该子系统的数据采集员与质量管理员。

产出资产 `quality.raw_audited`，数据仓库构建随之运行。
""",
    "quality__warehouse": """# 质量检查：数据集市与质控点

数据仓库构建完成（资产 `marts`）后运行：执行 `soda/contracts/marts/*` 数据契约，
并把处于「预警」或「未达标」的质量控制点转为指标预警，发给责任部门的质量管理员。
""",
    "quality__digest": """# 预警升级与每日预警邮件

每天 08:30 以及每次集市质量检查之后运行：超过 `XIAOBEN_ESCALATE_AFTER_DAYS` 天未处理的
预警升级到责任部门负责人；每位有未处理预警的人收到一封汇总邮件（每人每天至多一封），
经 Airflow 连接 `smtp_default` 发送。
""",
}


raw_assets = [raw_asset(sid, r) for sid, spec in api_specs().items() for r in spec.landed]

with DAG(
    dag_id="quality__landing",
    dag_display_name="质量检查：原始层（暂扣与放行）",
    description="质量检查：原始层数据契约、暂扣与放行、数据预警",
    schedule=AssetAny(*raw_assets),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULTS,
    tags=[*TAGS, "raw"],
    doc_md=DOCS["quality__landing"] + "\n---\n" + __doc__,
):
    PythonOperator(task_id="audit_raw", python_callable=tasks.audit_landing, outlets=[RAW_AUDITED])

with DAG(
    dag_id="quality__warehouse",
    dag_display_name="质量检查：数据集市与质控点预警",
    description="质量检查：数据集市数据契约、质控点指标预警",
    schedule=[MARTS],
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULTS,
    tags=[*TAGS, "marts"],
    doc_md=DOCS["quality__warehouse"] + "\n---\n" + __doc__,
):
    PythonOperator(task_id="audit_marts", python_callable=tasks.audit_warehouse, outlets=[WARNINGS])

with DAG(
    dag_id="quality__digest",
    dag_display_name="预警升级与每日预警邮件",
    description="预警升级与每日预警邮件（每人每天至多一封）",
    schedule=settings.timetable_or_assets("30 8 * * *", AssetAny(WARNINGS)),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULTS,
    tags=[*TAGS, "mail"],
    doc_md=DOCS["quality__digest"] + "\n---\n" + __doc__,
):
    PythonOperator(task_id="escalate_and_mail", python_callable=tasks.send_digests)
