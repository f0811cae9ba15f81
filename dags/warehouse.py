"""数据仓库构建 (warehouse): one `dbt build` of the project after any audited raw update.

# 数据仓库构建

质管办统一建设的校本数据中心（第三条、第十一条）：把各子系统核验后的数据整合为数据集市。

- **何时运行**：质量检查 DAG `quality__landing` 审核完新入库的原始数据后（资产
  `quality.raw_audited`）自动运行，也可手动触发。被阻断性检查暂扣的批次不进入集市。
- **做什么**：唯一的任务 `dbt_build` 一次运行 `dbt build`：代码集与表一种子（全量重载）、全部
  staging、中间模型、五层集市和快照，以及它们的全部测试，按依赖顺序并行执行；全部成功后发布
  资产 `marts`。
- **逐个模型查看**：每个中间模型、集市和快照都是一个资产（如 `marts.dim_students`）；构建成功后
  每个资产记一条事件，附该模型的状态、耗时、行数和测试结果（界面“资产”页）。任务日志与 XCom
  逐个列出全部节点。
- **失败与重试**：有模型或测试失败时任务失败，一行中文说明是哪些节点；自动重试（2 次，间隔
  2 分钟）运行 `dbt retry`，只重建失败的节点及其下游，已成功的不再重跑。
- **产出**：资产 `marts`（质量检查与报表 DAG 随之运行）。BI 工具以只读角色 `xiaoben_bi`
  读取 `marts` 模式（个人标识已脱敏，带中文注释）；`./run db url --role bi` 给出连接地址。
- **责任**：每个集市属于其归口管理部门；`marts.data_responsibility` 说明每张表、每列由谁负责。

English, for engineers:

The unified school-based data center of Articles 3 and 11: 质管办 integrates the whole
school's verified data here and serves it to departments and BI tools.

- **Trigger.** The Asset `quality.raw_audited`, produced by `quality__landing` once it has
  audited the newly landed raw batches and held those that failed a blocking check
  (write–audit–publish: a build never sees a batch before its audit); also runnable by hand.
- **Tasks.** `dbt_build` runs one `dbt build` of the whole project (seeds reloaded in full,
  staging views reading the latest published version of each record — pulls with an open hold
  in `quality.holds` are skipped — intermediate models, marts, snapshots and every test) with
  dbt's threads, and emits the Asset `marts` when every node and test succeeded. One task and
  one invocation instead of one Cosmos task per node: the DAG costs what dbt costs
  (BENCHMARKS.md, "Warehouse").
- **Per model.** Every intermediate model, mart and snapshot is an Asset whose event (on a
  successful build) carries its status, seconds, rows and tests in `extra`; the task log and
  XCom list every node (`include/warehouse/build.py`).
- **Retries.** An Airflow retry runs `dbt retry`, which re-executes only the nodes that failed
  or were skipped, from the previous attempt's `run_results.json` (kept per DAG run under
  `.xiaoben/dbt/`). Large facts (card transactions, attendance, grades) are incremental.
- **Output.** The Asset `marts`, which the quality and report DAGs follow. BI tools read the
  `marts` schema as `xiaoben_bi` (personal identifiers masked), with Chinese comments.
- **Responsibility.** Every mart belongs to the dbt group of its managing department; the
  table `marts.data_responsibility` says who answers for each table and column.
- **Parsing.** The Asset list comes from `dbt_project/target/manifest.json`, rebuilt by
  `dbt parse` only when a project file changed (`include/warehouse/dbt.py`), so parsing this
  file needs no database.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, task

from include.assets import MARTS, RAW_AUDITED
from include.registry import registry
from include.warehouse import build

with DAG(
    dag_id="warehouse",
    dag_display_name="数据仓库构建（dbt 分层模型）",
    description="数据仓库构建：dbt 分层模型（staging、intermediate、五层数据集市）",
    schedule=RAW_AUDITED,
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args={
        "owner": registry().quality_office,
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
    },
    tags=["warehouse", "dbt", "数据仓库"],
    doc_md=__doc__,
) as dag:
    # The Asset `marts` is an outlet of the build itself: it is published only when every
    # node and test succeeded, without a second task start (≈ 5 s on two cores).
    @task(task_display_name="dbt build（全部模型与测试）", outlets=[MARTS, *build.assets()])
    def dbt_build(run_id=None, ti=None, outlet_events=None) -> dict:
        return build.run(run_id, ti.try_number, outlet_events)

    dbt_build()
