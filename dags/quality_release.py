"""放行暂扣批次、确认预警：质量管理员在 Airflow 界面里完成的两件事（第十条、第十一条）。

- **放行暂扣批次** (`quality_release`): a batch that failed a blocking check is on hold and
  never reaches the marts. A quality administrator of the subsystem's managing or organising
  department (or of 质管办) who has checked it and accepts it as it is opens this DAG, clicks
  触发 (Trigger) and fills in the batch number (the hold mail names it), the reason and their
  e-mail. The release is recorded in `quality.holds` (who, when, why); the warehouse build
  that follows publishes the batch.
- **确认预警** (`quality_acknowledge`): the person a warning mail went to acknowledges it
  (已知悉，正在处理) or closes it, saying how it was dealt with.

A run without 操作人 does nothing (it is skipped: a scheduler test run of every DAG stays
harmless). A wrong number, a person who may not release, or a missing reason fails the run with
a Chinese message saying why, without retrying (a person's input does not improve by
retrying; a database that is briefly away is retried).
Code: `include/quality/holds.py`, `include/quality/warnings.py`.
"""

from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param

from include.assets import RAW_AUDITED
from include.quality import tasks
from include.registry import registry

START = pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai")
DEFAULTS = {"owner": registry().quality_office, "retries": 2}
TAGS = ["quality", "质量", "人工操作"]
BY = Param("", type="string", title="操作人", description="您的邮箱（部门名册中登记的）")

with DAG(
    dag_id="quality_release",
    dag_display_name="放行暂扣批次",
    description="质量管理员核实后放行被阻断性检查暂扣的采集批次",
    schedule=None,
    start_date=START,
    catchup=False,
    default_args=DEFAULTS,
    tags=TAGS,
    doc_md=__doc__,
    params={
        "pull_id": Param(
            1, type="integer", minimum=1, title="批次号",
            description="暂扣的采集批次号（预警邮件中“暂扣的采集批次”）",
        ),
        "reason": Param("", type="string", title="放行理由", description="为什么接受这批数据"),
        "by": BY,
    },
):  # fmt: skip
    PythonOperator(
        task_id="release", task_display_name="放行", python_callable=tasks.release_hold,
        outlets=[RAW_AUDITED],
    )  # fmt: skip

with DAG(
    dag_id="quality_acknowledge",
    dag_display_name="确认预警",
    description="预警的责任人确认（已知悉，正在处理）或关闭预警",
    schedule=None,
    start_date=START,
    catchup=False,
    default_args=DEFAULTS,
    tags=TAGS,
    doc_md=__doc__,
    params={
        "warning_id": Param(
            1, type="integer", minimum=1, title="预警编号", description="预警邮件中的预警编号"
        ),
        "action": Param(
            "acknowledge", type="string", enum=["acknowledge", "resolve"], title="操作",
            values_display={"acknowledge": "确认：已知悉，正在处理", "resolve": "关闭：已解决"},
        ),
        "note": Param(
            "", type="string", title="处理说明", description="关闭预警时必填：如何解决的"
        ),
        "by": BY,
    },
):  # fmt: skip
    PythonOperator(
        task_id="acknowledge", task_display_name="确认或关闭",
        python_callable=tasks.acknowledge_warning,
    )  # fmt: skip
