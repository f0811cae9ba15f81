"""数据仓库构建 (warehouse): dbt staging → intermediate → marts, after any raw update.

# 数据仓库构建

质管办统一建设的校本数据中心（第三条、第十一条）：把各子系统核验后的数据整合为数据集市。

- **何时运行**：质量检查 DAG `quality__landing` 审核完新入库的原始数据后（资产
  `quality.raw_audited`）自动运行，也可手动触发。被阻断性检查暂扣的批次不进入集市。
- **做什么**：`dbt_seed` 载入代码集与表一；`dbt_staging` 构建并测试全部 staging 模型；
  之后每个中间模型、集市和快照各一个任务（`dbt build`，含其测试），按依赖顺序执行。
- **产出**：资产 `marts`（质量检查与报表 DAG 随之运行）。BI 工具以只读角色 `xiaoben_bi`
  读取 `marts` 模式（个人标识已脱敏，带中文注释）；`./run db url --role bi` 给出连接地址。
- **责任**：每个集市属于其归口管理部门；`marts.data_responsibility` 说明每张表、每列由谁负责。

English, for engineers:

The unified school-based data center of Articles 3 and 11: 质管办 integrates the whole
school's verified data here and serves it to departments and BI tools.

- **Trigger.** The Asset `quality.raw_audited`, produced by `quality__landing` once it has
  audited the newly landed raw batches and held those that failed a blocking check
  (write–audit–publish: a build never sees a batch before its audit); also runnable by hand.
- **Tasks.** `dbt_seed` loads the code sets and Table 1 seeds; `dbt_staging` builds and tests
  every staging model in one dbt invocation (one view per raw resource, the latest published
  version of each record: pulls with an open hold in `quality.holds` are skipped); then
  astronomer-cosmos renders one task per intermediate model, mart and snapshot, each running
  `dbt build` for that node (model plus its tests), in dependency order. Large facts (card
  transactions, attendance, grades) are incremental.
- **Output.** The Asset `marts`, which the quality and report DAGs follow. BI tools read the
  `marts` schema as `xiaoben_bi` (personal identifiers masked), with Chinese comments.
- **Responsibility.** Every mart belongs to the dbt group of its managing department; the
  table `marts.data_responsibility` says who answers for each table and column.
- **Parsing.** The dbt graph comes from `dbt_project/target/manifest.json`, rebuilt by
  `dbt parse` only when a project file changed (`include/warehouse/dbt.py`), so parsing this
  file needs no database and takes well under a second once the manifest is current.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG
from cosmos import DbtTaskGroup, ExecutionConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior
from cosmos.operators.local import DbtBuildLocalOperator, DbtSeedLocalOperator

from include.assets import MARTS, RAW_AUDITED
from include.registry import registry
from include.warehouse import dbt

DBT = {
    "project_dir": str(dbt.DBT_DIR),
    "profile_config": dbt.profile_config(),
    "invocation_mode": InvocationMode.DBT_RUNNER,
    "install_deps": False,
}

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
    # Seeds are small: reload them in full so a code set that gains a column never blocks a run.
    dbt_seed = DbtSeedLocalOperator(task_id="dbt_seed", full_refresh=True, **DBT)
    dbt_staging = DbtBuildLocalOperator(
        task_id="dbt_staging", select=["path:models/staging"], **DBT
    )
    dbt_marts = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(dbt.DBT_DIR, manifest_path=dbt.manifest_path()),
        profile_config=dbt.profile_config(),
        execution_config=ExecutionConfig(invocation_mode=InvocationMode.DBT_RUNNER),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            select=["path:models/intermediate", "path:models/marts", "path:snapshots"],
            test_behavior=TestBehavior.BUILD,
        ),
        operator_args={"install_deps": False},
    )
    publish_marts = EmptyOperator(task_id="publish_marts", outlets=[MARTS])
    dbt_seed >> dbt_staging >> dbt_marts >> publish_marts
