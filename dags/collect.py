"""采集 DAG 工厂 (collection): one `collect__<id>` per subsystem file with an `api:` section.

Adding a subsystem is adding `connectors/subsystems/<id>.yml` (Article 6): its DAG, raw schema
and run log follow with no code change. Each DAG takes from its file

- the schedule (`schedule.cron` in `schedule.timezone`: the managing department's collection
  times, Article 7; and `schedule.full_cron`, when set, the times a scheduled run re-reads
  everything in mode `full`: `connectors.dag_support.schedule` says why one DAG), the owner
  (the managing departments), tags and the documentation;
- one task per resource, in sorted order, with no dependencies between them, so a failing
  resource never hides the others' results, then `submission` (报送及时性), a teardown that
  runs whatever they did (a failed pull still fails the run): a source that answered "not
  submitted yet" gets a timeliness warning. A pull task
  pulls its resource (incremental from the stored cursor unless the run's `mode` param says
  `full`), lands it in `raw_<id>.<resource>` and writes its `landing.run_log` row. Its outlet
  is the Asset `raw_<id>.<resource>` (`connectors.dag_support.raw_asset`), which the warehouse
  build follows.

A broken subsystem file breaks only itself: its DAG `collect__<file name>` is still built, as
a DAG that fails at once with the file's one-line error (file, field, problem, fix) in its
description, documentation and task log, and every valid file gets its normal DAG.

The code lives in `connectors/`; this file only loops over the files.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param, get_parsing_context
from airflow.sdk.exceptions import AirflowFailException

from connectors.dag_support import check_submission, doc_md, raw_asset, run_pull, schedule
from include.assets import WARNINGS
from include.registry import RESERVED_TASK, registry_and_errors

START = pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai")


def params() -> dict:
    return {
        "mode": Param(
            "incremental",
            enum=["incremental", "full"],
            title="采集方式",
            description="增量：从上次采集的游标继续，已结束的记录不再逐条获取；"
            "全量：从配置的起始日期重新拉取（子系统文件 schedule.full_cron 的定时运行自动全量）",
            values_display={"incremental": "增量采集", "full": "全量重拉"},
        ),
        "since": Param(
            None,
            type=["null", "string"],
            title="时间窗起点",
            description="含此时刻，ISO 时间如 2026-09-01T00:00:00+08:00；留空按游标",
        ),
        "until": Param(
            None,
            type=["null", "string"],
            title="时间窗终点",
            description="不含此时刻，ISO 时间；留空为现在",
        ),
    }


def broken_file(message: str, path: str | None = None) -> None:
    """Warn the file's collectors (`config_warning`), then fail at once with the file's line."""
    line = f"子系统文件有误，请修正后再采集 (fix the file): {message}"
    logging.getLogger(__name__).error("%s", line)
    if path:
        try:
            from include.quality.warnings import config_warning

            config_warning(Path(path), message)
        except Exception as exc:  # the task still fails with the line; the warning is extra
            logging.getLogger(__name__).warning("预警未能写入 (warning not stored): %s", exc)
    raise AirflowFailException(line)


_parsing = get_parsing_context().dag_id  # a task run only needs its own DAG built

registry, broken = registry_and_errors()

for error in broken:
    dag_id = "collect__" + re.sub(r"[^A-Za-z0-9_]", "_", error.path.stem)  # any file name
    if _parsing and _parsing != dag_id:
        continue
    with DAG(
        dag_id=dag_id,
        description=f"子系统文件有误，无法采集：{error}"[:200],
        schedule="@once",  # fails once, visibly, until the file is fixed
        start_date=START,
        catchup=False,
        tags=["collect", "配置错误", error.path.stem],
        doc_md=f"**子系统文件有误 (broken subsystem file)**\n\n`{error}`",
    ) as dag:
        PythonOperator(
            task_id="fix_the_subsystem_file",
            python_callable=broken_file,
            op_kwargs={"message": str(error), "path": str(error.path)},
            retries=0,
        )
    globals()[dag_id] = dag

for sid, s in registry.subsystems.items():
    spec = s.api
    dag_id = f"collect__{sid}"
    if spec is None or (_parsing and _parsing != dag_id):
        continue
    with DAG(
        dag_id=dag_id,
        dag_display_name=f"采集：{s.name_zh}",
        description=f"采集{s.name_zh}：{s.content}"[:200],
        schedule=schedule(s),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        max_active_tasks=spec.concurrency,
        default_args={
            "owner": s.owner,
            "retries": 2,
            "retry_delay": timedelta(minutes=1),
            "retry_exponential_backoff": 2.0,
            "max_retry_delay": timedelta(minutes=15),
            "execution_timeout": timedelta(hours=2),
        },
        tags=["collect", sid, s.name_zh],
        doc_md=doc_md(s, spec),
        params=params(),
    ) as dag:
        pulls = [
            PythonOperator(
                task_id=name,
                python_callable=run_pull,
                op_kwargs={"subsystem_id": sid, "resource": name},
                outlets=[raw_asset(sid, name)],
                doc_md=spec.resources[name].description or None,
            )
            for name in spec.landed
        ]
        # a teardown: it runs whatever the pulls did, and a failed pull still fails the run
        (
            pulls
            >> PythonOperator(
                task_id=RESERVED_TASK,
                task_display_name="报送及时性",
                python_callable=check_submission,
                op_kwargs={"subsystem_id": sid},
                outlets=[WARNINGS],
                priority_weight=100,  # the warning goes out before queued warehouse tasks run
                weight_rule="absolute",
                doc_md="数据源答复“尚未报送”的资源：向组织部门的采集人员发出即时性预警（随后邮件）；"
                "全部报送后解除。",
            ).as_teardown()
        )
    globals()[dag_id] = dag
