"""The main job (`./run demo`): the platform as a service, run end to end on the campus sandbox.

1. service: `./run up` — PostgreSQL, sandbox, mail catcher, Airflow's api-server, scheduler,
   dag-processor and triggerer as long-running processes, connections in Airflow's metadata
   database, every DAG unpaused (`include/service.py`);
2. DAGs: trigger every collection DAG through the REST API v2 and follow the Asset-driven
   DAGs (quality checks, warehouse build, digest) the scheduler starts after them, with a
   progress line every few seconds (`include/orchestrate.py`);
3. people: the steps in `AFTER_QUALITY` play the college's staff through the platform's own
   interface (e.g. a quality administrator releasing a held batch), and the DAGs they cause
   are followed too;
4. summary: every run with its state and true duration, and where the outputs are.

The service keeps running afterwards (open the UI; `./run down` stops it, or pass `--stop`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

from include import airflow_env, mail, orchestrate, service, settings
from include.warehouse import connection


def _say(text: str) -> None:
    print(text, flush=True)


def release_held_batches(api) -> bool:
    """Quality administrators release the batches a blocking check held (sandbox staff).

    Returns True when it released something, so the demo follows the runs that causes.
    """
    try:
        from sandbox.staff import release_held_batches as release
    except ImportError:  # the sandbox's staff arrive with issue 10's realistic college
        return False
    released = release(api.base_url, api.username, api.password, str(mail.mail_dir()))
    return bool(released)


# Steps after the first wave of DAG runs has settled; each gets the REST client and returns
# True when it started something the demo should follow before the summary.
AFTER_QUALITY: list[tuple[str, Callable]] = [
    ("质量管理员放行暂扣批次 (release held batches)", release_held_batches),
]


def run(args) -> int:
    started = time.monotonic()
    since = datetime.now(UTC)
    args.profile = "clean" if getattr(args, "clean", False) else None
    _say("==> [1/4] 启动服务 (./run up)")
    service.up(args, say=_say)
    api = service.api()

    _say("==> [2/4] 触发采集 DAG，跟随资产驱动的 DAG (REST API v2, real scheduler)")
    orchestrate.trigger_and_follow(api, say=_say, since=since)

    _say("==> [3/4] 校园中的人 (the college's staff, through the platform)")
    for title, step in AFTER_QUALITY:
        _say(f"    {title}")
        if step(api):
            orchestrate.follow_until_idle(
                api, since, [d["dag_id"] for d in api.dags() if orchestrate.is_asset_driven(d)],
                say=_say,
            )  # fmt: skip

    _say("==> [4/4] 汇总 (summary)")
    results = orchestrate.summarise(orchestrate._runs_since(api, since))
    summary_file = service.log_path("dag_runs").with_suffix(".json")
    summary_file.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    for r in results:
        _say(f"    {r['dag_id']:<30} {r['run_type']:<16} {r['state']:<8} {r['seconds']:>7.1f} s")
    failed = [r for r in results if r["state"] == "failed"]
    later = [r for r in results if r["state"] not in ("success", "failed")]
    seconds = time.monotonic() - started
    _say(
        f"    共 {len(results)} 个运行, 失败 {len(failed)}"
        + (f", 定时采集仍在运行 {len(later)}" if later else "")
        + f", 用时 {seconds:.0f} s"
    )
    mails = mail.read_messages()
    _say("    输出位置 (outputs):")
    _say(f"      Airflow 界面:        {airflow_env.api_url()}  (用户 admin，密码见")
    _say(f"                           {airflow_env.passwords_file()})")
    _say(f"      数据仓库 warehouse:  {connection.warehouse_url()}")
    _say("      采集日志 run log:    landing.run_log (select * from landing.run_log)")
    _say(f"      DAG 运行汇总:        {summary_file}")
    _say(f"      服务日志:            {settings.state_dir() / 'logs'}")
    _say("      质量检查结果:        quality.check_results, quality.day_report")
    _say(f"      预警邮件 ({len(mails)} 封):     {mail.mail_dir()}")
    if getattr(args, "stop", False):
        service.down(say=_say)
    else:
        _say("    服务仍在运行，定时采集会按计划触发；停止: ./run down")
    return 1 if failed or not results else 0
