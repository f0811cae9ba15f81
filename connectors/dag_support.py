"""What `dags/collect.py` needs, so the DAG file stays a thin loop over the subsystem files.

- `raw_asset(id, resource)`: the Airflow Asset of one raw dataset. The warehouse build DAG
  schedules on these; build them with this function on both sides so name and URI agree.
  URI scheme `postgres` (the PostgreSQL provider's, as the warehouse DAG's model Assets use)
  with a logical host `warehouse`: the asset names the dataset, not the server it lives on.
- `doc_md(subsystem, spec)`: the DAG's documentation, from the file (Articles 5–7).
- `schedule(subsystem)`: the DAG's timetable: `schedule.cron`, and `schedule.full_cron` (the
  periodic full re-read) when the file sets one, as one `MultipleCronTriggerTimetable`.
- `pull_mode(subsystem, params, dag_run)`: a scheduled run at a `full_cron` time reads in mode
  `full`; every other run as its `mode` param says (incremental by default).
- `run_pull(...)`: the task callable; credentials through Airflow's connection API.
- `checked_credentials(...)`: the connection is configuration, checked before any request. A
  missing or unusable connection (unknown id, no host, no key/secret) fails the task at once,
  without retries (`AirflowFailException`), with one Chinese line naming the subsystem, the
  connection and how to set it, and opens a data warning to the subsystem's collectors
  (`include.quality.warnings.connection_warning`), resolved again by the first pull that gets
  through. The client's `LinkError`s end the same way (`_link_failed`): credentials refused
  and a certificate that fails verification at once; an unreachable host only on the task's
  last try (earlier tries raise the same line and Airflow retries them with back-off).
- a source that answers "not submitted yet" (a `not_submitted` rule in its file) skips its pull
  at once, without retries; the DAG's last task `submission` (`check_submission`) then opens a
  timeliness warning to the organising department's collectors with the vendor's words, or
  resolves it once every pull of the run got through.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from connectors.client import LinkError
from connectors.collect import CollectError, NotSubmittedError, collect, credentials_from_parts
from connectors.spec import ApiSpec, spec_for
from include.registry import Subsystem

log = logging.getLogger(__name__)
ASSET_URI = "postgres://warehouse:5432/xiaoben/raw_{id}/{resource}"
FREQUENCY_ZH = {
    "hourly": "每小时", "daily": "每日", "weekly": "每周", "thrice_monthly": "每月三次",
    "monthly": "每月", "termly": "每学期", "yearly": "每年",
}  # fmt: skip
FULL_ZH = "这一时刻的定时运行从起始日期全量重读，补上回看期以前的变化与已结束记录的变化"


def raw_asset(subsystem_id: str, resource: str):
    from airflow.sdk import Asset

    return Asset(
        name=f"raw_{subsystem_id}.{resource}",
        uri=ASSET_URI.format(id=subsystem_id, resource=resource),
        group="raw",
    )


def doc_md(s: Subsystem, spec: ApiSpec) -> str:
    collectors = "；".join(
        "".join(x for x in (c.role, c.department and f"（{c.department}）", c.name) if x)
        for c in s.collectors
    )
    lines = [
        f"# 采集：{s.name_zh}（{s.name_en}）",
        "",
        s.description.strip(),
        "",
        f"- **采集内容**：{s.content}",
        f"- **数据采集员**：{collectors}",
        f"- **组织部门**：{'、'.join(s.organising_departments)}",
        f"- **归口管理部门（DAG owner）**：{'、'.join(s.managing_departments)}",
        f"- **采集时间**：`{s.cron}`（{s.timezone}），由归口管理部门确定（Article 7）",
        *([f"- **全量重读**：`{s.full_cron}`（{s.timezone}）：{FULL_ZH}"] if s.full_cron else []),
        f"- **采集计划**：{FREQUENCY_ZH.get(s.plan.frequency, s.plan.frequency)}，"
        f"每期结束后 {s.plan.deadline_hours} 小时内完整入库。{s.plan.note}",
        f"- **接口连接**：Airflow connection `{spec.connection}`（地址与密钥只在连接中）",
        f"- **配置文件**：`connectors/subsystems/{s.source_file.name}`",
        "",
        "| 任务 / 原始表 | 内容 | 主键 | 增量字段 |",
        "|---|---|---|---|",
    ]
    for name in spec.landed:
        r = spec.resources[name]
        cursor = f"`{r.cursor.field}`" if r.cursor else "全量刷新"
        key = " + ".join(f"`{k}`" for k in r.primary_key)
        lines.append(f"| `raw_{s.id}.{name}` | {r.description or name} | {key} | {cursor} |")
    lines += [
        "",
        "每个任务拉取一个资源并落地到 `raw_<子系统>.<资源>`（原样 JSONB，按主键与内容哈希去重），"
        "不合规记录进入 `landing.rejects`，每次拉取在 `landing.run_log` 留一行。"
        "参数 `mode=full` 从配置的起始日期全量重拉（先列 id 再获取的资源也重新获取已结束的记录）；"
        "`since`/`until` 指定时间窗。",
    ]
    return "\n".join(lines)


def schedule(s: Subsystem):
    """The collection DAG's timetable: the managing department's collection times and, if the
    file sets `schedule.full_cron`, the full re-reads, in one DAG.

    Why one DAG and not a second `collect__<id>__full`: the id stays one name everywhere, and
    `max_active_runs=1` keeps the weekly full read and the hourly incremental ones from running
    over each other on the same raw tables and cursors; the run's own logical time says which
    kind it is (`pull_mode`), since a timetable cannot give a scheduled run its own params.
    """
    from include import settings

    timetable = settings.timetable(s.cron, s.timezone)  # None while the main job runs
    if timetable is None or not s.full_cron or _among(s.full_cron, s.cron, s.timezone):
        return timetable  # the full re-reads are some of the collection runs themselves
    from airflow.sdk import MultipleCronTriggerTimetable

    return MultipleCronTriggerTimetable(s.cron, s.full_cron, timezone=s.timezone)


def _among(full_cron: str, cron: str, timezone: str, times: int = 400) -> bool:
    """Whether each of the next `times` firings of `full_cron` is a firing of `cron` too."""
    from zoneinfo import ZoneInfo

    from croniter import croniter

    firings = croniter(full_cron, datetime.now(ZoneInfo(timezone)))
    return all(croniter.match(cron, firings.get_next(datetime)) for _ in range(times))


def pull_mode(s: Subsystem, params: dict, dag_run: Any) -> str:
    """`full` for a scheduled run at a `schedule.full_cron` time, else the run's `mode` param."""
    mode = params.get("mode") or "incremental"
    when = getattr(dag_run, "logical_date", None) or getattr(dag_run, "run_after", None)
    if s.full_cron and when is not None and getattr(dag_run, "run_type", None) == "scheduled":
        from zoneinfo import ZoneInfo

        from croniter import croniter

        if croniter.match(s.full_cron, when.astimezone(ZoneInfo(s.timezone))):
            return "full"
    return mode


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _link_message(subsystem_id: str, conn_id: str, problem: str, fix: str | None = None) -> str:
    """One Chinese line: the subsystem, its connection, what is wrong and how to fix it."""
    from connectors.spec import registry

    name = registry().subsystems[subsystem_id].name_zh
    fix = fix or (
        f"请在 Airflow 界面 管理 → 连接 中配置 {conn_id}（类型 HTTP，主机填接口地址，登录名/密码"
        f"填接口密钥），或设置环境变量 AIRFLOW_CONN_{conn_id.upper()}"
    )
    return f"{name}（{subsystem_id}）的 Airflow 连接 {conn_id} {problem}：{fix}"


def _connection_failed(subsystem_id: str, conn_id: str, problem: str, fix: str | None = None):
    """Warn the collectors, log the one line, then an AirflowFailException (no retry) to raise."""
    from airflow.sdk.exceptions import AirflowFailException

    from include.quality.warnings import connection_warning

    message = _link_message(subsystem_id, conn_id, problem, fix)
    log.error("%s", message)
    try:
        connection_warning(subsystem_id, conn_id, message, fix)
    except Exception as exc:  # the task still fails with the message; the warning is extra
        log.warning("预警未能写入 (warning not stored): %s", exc)
    return AirflowFailException(message)


def _link_failed(subsystem_id: str, conn_id: str, fault: LinkError, ti: Any) -> Exception:
    """What a pull whose link failed raises: a permanent fault, or a transient one on the task's
    last try, fails at once and warns the collectors; an earlier try of a transient one raises
    the same line and is retried with Airflow's back-off (no warning for a blip)."""
    last = ti is None or getattr(ti, "try_number", 1) > getattr(ti, "max_tries", 0)
    if fault.permanent or last:
        return _connection_failed(subsystem_id, conn_id, fault.problem, fault.fix)
    from airflow.sdk.exceptions import AirflowException

    message = _link_message(subsystem_id, conn_id, fault.problem, fault.fix)
    tries = f"第 {ti.try_number} 次，共 {ti.max_tries + 1} 次"
    log.error("%s（%s，稍后自动重试）", message, tries)
    return AirflowException(f"{message}（{tries}，稍后自动重试）")


def checked_credentials(subsystem_id: str, spec: ApiSpec):
    """The subsystem's credentials from its Airflow connection, or fail the task at once."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(spec.connection)
    except AirflowNotFoundException:
        file = f"connectors/subsystems/{spec.source_file.name}"
        fix = (
            f"请在 Airflow 界面 管理 → 连接 中添加 {spec.connection}（类型 HTTP，主机填接口地址，"
            f"登录名/密码填接口密钥），或设置环境变量 AIRFLOW_CONN_{spec.connection.upper()}；"
            f"若连接名写错，改 {file} 的 api.connection"
        )
        raise _connection_failed(subsystem_id, spec.connection, "未配置", fix) from None
    if not (conn.host or "").strip():
        raise _connection_failed(subsystem_id, spec.connection, "缺少主机地址 (host)")
    if spec.auth.type != "none" and not (conn.login and conn.password):
        raise _connection_failed(subsystem_id, spec.connection, "缺少登录名或密码 (login/password)")
    try:
        return credentials_from_parts(
            conn.host, conn.login, conn.password, conn.schema, conn.port, conn.extra
        )
    except ValueError:  # extra is not JSON
        problem = '的 extra 不是合法的 JSON（应写成 {"ca_bundle": "<CA 证书文件路径>"} 或留空）'
        raise _connection_failed(subsystem_id, spec.connection, problem) from None


def _loader_url() -> str:
    """Collection writes raw_* and landing only: it logs in as xiaoben_loader (issue 15)."""
    from include.warehouse import connection

    return connection.url_for("collect")


def run_pull(subsystem_id: str, resource: str, **context: Any) -> dict:
    """Task callable of `collect__<id>.<resource>`: one pull, its run-log row as the XCom."""
    from connectors.spec import registry

    spec = spec_for(subsystem_id)
    creds = checked_credentials(subsystem_id, spec)
    params = context.get("params") or {}
    dag_run = context.get("dag_run")
    mode = pull_mode(registry().subsystems[subsystem_id], params, dag_run)
    if mode == "full" and (params.get("mode") or "incremental") != "full":
        log.info("定时全量重读 (schedule.full_cron): %s.%s 本次全量拉取", subsystem_id, resource)
    try:
        result = collect(
            subsystem_id,
            resource,
            mode=mode,
            since=params.get("since") or None,
            until=params.get("until") or None,
            dag_id=f"collect__{subsystem_id}",
            run_id=getattr(dag_run, "run_id", None),
            credentials=creds,
            db_url=_loader_url(),
        )
    except NotSubmittedError as exc:
        from airflow.sdk.exceptions import AirflowSkipException

        from connectors.spec import registry

        name = registry().subsystems[subsystem_id].name_zh
        raise AirflowSkipException(
            f"{name}.{resource}：数据源答复数据尚未报送（{exc.message}），本次不重试；"
            f"拉取 {exc.pull_id} 记为未报送，报送及时性任务将预警采集人员"
        ) from None
    except CollectError as exc:
        fault = exc.__cause__
        if isinstance(fault, LinkError):  # refused, certificate, unreachable
            raise _link_failed(subsystem_id, spec.connection, fault, context.get("ti")) from None
        raise
    try:
        from include.quality.warnings import connection_warning

        connection_warning(subsystem_id, spec.connection, None)  # works again: resolve
    except Exception as exc:
        log.warning("预警未能更新 (warning not resolved): %s", exc)
    log.info(
        "raw_%s.%s: pull %s %s %s listed=%s fetched=%s skipped_final=%s landed=%s duplicates=%s"
        " rejected=%s client=%s",
        subsystem_id, resource, result["pull_id"], result["mode"], result["status"],
        result["listed"], result["fetched"], result["skipped_final"], result["landed"],
        result["duplicates"], result["rejected"], result["client"],
    )  # fmt: skip
    return _plain(result)


RUN_PULLS_SQL = """
select resource, status, error from landing.run_log
where subsystem = %s and dag_id = %s and run_id = %s
order by resource, pull_id
"""


def check_submission(subsystem_id: str, **context: Any) -> dict:
    """Last task of `collect__<id>` (runs whatever the pulls did): a resource whose source said
    its data is not submitted opens a timeliness warning (the task succeeds, so the warning
    mail follows); a run with none resolves an open one and is skipped."""
    from airflow.sdk.exceptions import AirflowSkipException

    from include.quality.warnings import not_submitted_warning
    from include.warehouse import connection

    dag_run = context.get("dag_run")
    with connection.connect() as conn:
        pulls = conn.execute(
            RUN_PULLS_SQL,
            [subsystem_id, f"collect__{subsystem_id}", getattr(dag_run, "run_id", None)],
        ).fetchall()
    late = [(resource, error) for resource, status, error in pulls if status == "not_submitted"]
    if late:
        messages = [f"{resource}：{error}" for resource, error in late]
        warning_id = not_submitted_warning(subsystem_id, messages)
        log.warning("未报送预警 %s: %s", warning_id, "；".join(messages))
        return {"warning_id": warning_id, "not_submitted": [r for r, _ in late]}
    got_through = any(status == "success" for _, status, _ in pulls)
    resolved = not_submitted_warning(subsystem_id, None) if got_through else None
    raise AirflowSkipException(
        f"本次采集没有未报送的数据{f'；未报送预警 {resolved} 已解除' if resolved else ''}"
    )
