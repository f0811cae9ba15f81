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
import os
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from include import airflow_env, mail, orchestrate, service, settings
from include.warehouse import connection


def _say(text: str) -> None:
    print(text, flush=True)


def release_held_batches(api) -> bool:
    """Quality administrators release the batches a blocking check held (sandbox staff).

    Returns True when it released something, so the demo follows the runs that causes.
    """
    from sandbox.staff import release_held_batches as release

    released = release(api.base_url, api.username, api.password, str(mail.mail_dir()))
    return bool(released)


def catch_up_late_system(api) -> bool:
    """The late system's collectors submit their data (sandbox staff); the collection runs again,
    as its next scheduled pull would, and now gets through (the timeliness warning resolves)."""
    from sandbox.staff import submit_late_data

    subsystem = submit_late_data(service.sandbox_url())
    if subsystem is None:
        return False
    run = api.trigger(f"collect__{subsystem}", conf={}, logical_date=None)
    _say(f"    {subsystem} 已补报数据；补采 collect__{subsystem} ({run['dag_run_id']})")
    return True


def sandbox_periods(dag_ids: list[str]) -> dict[str, dict]:
    """Each report DAG's conf for the period the sandbox's college lives in (its term began
    at the sandbox's start), not the last period closed before today's wall clock."""
    from include.reports.periods import containing
    from include.reports.schedule import REPORT_DAGS

    start = date.fromisoformat(service.sandbox_options()["start"])
    with connection.connect() as conn:
        return {
            r.dag_id: {"period_id": containing(conn, r.period_kind, start).id}
            for r in REPORT_DAGS
            if r.dag_id in dag_ids
        }


def year_end_assessment(api) -> bool:
    """质管办 assesses the departments' data work for the sandbox's academic year: the run
    waits in its form for criterion (a), which the sandbox's 质管办 fills in through REST."""
    from sandbox.assessor import enter_criterion_a

    start = date.fromisoformat(service.sandbox_options()["start"])
    first = start.year if start.month >= 9 else start.year - 1
    year = f"{first}-{first + 1}"
    run = api.trigger("assessment__yearly", conf={"academic_year": year}, logical_date=None)
    _say(f"    assessment__yearly {year} ({run['dag_run_id']})：等待质管办录入 (a) 项")
    enter_criterion_a(
        api.base_url, run_id=run["dag_run_id"], username=api.username, password=api.password,
        wait_seconds=900,
    )  # fmt: skip
    return True


def acknowledge_warnings(api) -> bool:
    """Each quality administrator acknowledges a warning from their mail (sandbox staff)."""
    from sandbox.staff import acknowledge_warnings as acknowledge

    done = acknowledge(api.base_url, api.username, api.password, str(mail.mail_dir()))
    return bool(done)


def play_corrections(api) -> bool:
    """Campus staff file three corrections (Annex 1) and sign them through the REST API as
    themselves (sandbox/people_play.py); prints where the forms are."""
    from include.corrections.requests import OPEN_STATUSES
    from sandbox import people_play

    with connection.connect() as conn:
        keys = [r[0] for r in conn.execute(
            "select s.source_key from raw_academic.students s where s.payload ->> 'mzm' = '01' "
            "and not exists (select 1 from corrections.items i join corrections.requests r "
            "using (request_id) where i.source_key = s.source_key and r.status = any(%s)) "
            "order by s.source_key limit 3", [list(OPEN_STATUSES)],
        )]  # fmt: skip
    requests_ = [
        {"reporting_department": "教务处", "subsystem": "academic",
         "items": [{"resource": "students", "source_key": k, "field": "mzm", "new_value": "02"}],
         "reason": "民族码与户口簿不符，依据户口簿更正", "filler_name": "黄晓燕",
         "filler_user": "huang.xiaoyan", "filler_email": "huang.xiaoyan@hngy.example.cn"}
        for k in keys
    ]  # fmt: skip
    runs = people_play.demo(api, airflow_env.passwords_file(), requests_, say=_say)
    with connection.connect() as conn:
        for form_no, status, pdf in conn.execute(
            "select f.form_no, f.status, f.pdf_path from corrections.forms f "
            "join corrections.requests r using (request_id) where r.dag_run_id = any(%s) "
            "order by f.form_no", [list(runs.values())],
        ):  # fmt: skip
            _say(f"    数据采集更正表 {form_no}（{status}）：{pdf}")
    return False  # the runs have ended; the warehouse build applies the overlay next time


# Steps after the first wave of DAG runs has settled; each gets the REST client and returns
# True when it started something the demo should follow. With `settle` False the next step goes
# on at once and the runs of both are followed together (one warehouse build, not two).
AFTER_QUALITY: list[tuple[str, Callable, bool]] = [
    ("迟报系统补报数据，重新采集 (the late system submits)", catch_up_late_system, False),
    ("质量管理员放行暂扣批次 (release held batches)", release_held_batches, True),
    ("质量管理员确认预警 (acknowledge warnings)", acknowledge_warnings, True),
    ("校园人员办理数据采集更正 (corrections, Annex 1)", play_corrections, True),
]


def quality_summary(say: Callable[[str], None] = _say) -> dict:
    """Rejects by reason, holds and their release, warnings and to whom they were routed."""
    from include.quality.report import summary

    s = summary()
    say("    拒收记录 (rejects by reason):")
    for reason, n in s["rejects"].items():
        say(f"      {reason:<20} {n:>6}")
    if not s["rejects"]:
        say("      （无）")
    h = s["holds"]
    say(f"    暂扣批次 (holds): {h['held']} 个，已放行 {h['released']}，仍暂扣 {h['open']}")
    for b in s["held_batches"]:
        by = f"由 {b['released_by']} 放行" if b["released_by"] else "仍暂扣"
        say(f"      批次 {b['pull_id']} {b['subsystem']}.{b['resource']}：{b['reason']}；{by}")
    w = s["warnings"]
    say(
        f"    预警 (warnings): 开出 {w['opened']}（数据 {w['data']}，指标 {w['indicator']}），"
        f"已确认 {w['acknowledged']}，已解决 {w['resolved']}，邮件通知 {w['people_mailed']} 人"
    )
    say("    预警发给 (routed to):")
    for r in s["routed"]:
        who = f"{r['department'] or ''} {r['role']} {r['name']}"
        say(f"      {who:<34} {r['warnings']:>4} 条")
    return s


def outputs_summary(say: Callable[[str], None] = _say) -> None:
    """Where the reports and the assessment are, whom they were mailed to, who is flagged."""
    with connection.connect() as conn:
        reports = conn.execute(
            "select kind, period_id, department, pdf_path, sent_at is not null,"
            " jsonb_array_length(recipients) from reports.reports order by report_id"
        ).fetchall()
        assessed = conn.execute(
            "select a.academic_year, a.pdf_path, a.sent_at is not null,"
            " array_agg(r.department order by r.rank) filter (where r.barred)"
            " from assessment.runs a left join assessment.results r using (run_id)"
            " group by a.run_id order by a.run_id desc limit 1"
        ).fetchone()
    say(f"    分析报告 (reports): {len(reports)} 份")
    for kind, period, department, pdf, sent, people in reports:
        what = "校级" if kind == "school" else department
        mailed = f"已发送 {people} 人" if sent else "未发送"
        say(f"      {period} {what}：{pdf}（{mailed}）")
    if assessed:
        year, pdf, sent, barred = assessed
        say(f"    年终考核 {year}：{pdf}（{'已发送' if sent else '未发送'}）")
        say(f"      不得参与评优评先：{'、'.join(barred) if barred else '无'}")


def run(args) -> int:
    started = time.monotonic()
    since = datetime.now(UTC)
    # the main job's college is the realistic one (defects, noise, a late system, a held
    # batch); `--clean` gives the perfect college
    args.profile = "clean" if getattr(args, "clean", False) else "realistic"
    _say("==> [1/4] 启动服务 (./run up)")
    # Run once: the demo triggers every DAG itself; `./run down && ./run up` for the schedules.
    os.environ["XIAOBEN_SCHEDULES"] = "off"
    service.up(args, say=_say)
    api = service.api()

    _say("==> [2/4] 触发采集 DAG，跟随资产驱动的 DAG (REST API v2, real scheduler)")
    orchestrate.trigger_and_follow(api, say=_say, since=since)

    _say("==> [3/4] 校园中的人 (the college's staff, through the platform)")
    pending = False
    for title, step, settle in AFTER_QUALITY:
        _say(f"    {title}")
        pending = step(api) or pending
        if settle and pending:
            pending = False
            orchestrate.follow_until_idle(
                api, since, [d["dag_id"] for d in api.dags() if orchestrate.is_asset_driven(d)],
                say=_say,
            )  # fmt: skip

    reports = [d["dag_id"] for d in api.dags() if orchestrate.reads_marts(d)]
    if reports:
        _say("    报告 (reports, once the warehouse is built)")
        from include.reports.schedule import REPORT_DAGS

        confs = sandbox_periods(reports)
        for kind in ("department", "school"):  # the school report lists late department reports
            only = [r.dag_id for r in REPORT_DAGS if r.kind == kind and r.dag_id in reports]
            orchestrate.trigger_and_follow(api, only=only, say=_say, since=since, confs=confs)

    _say("    质管办年终考核 (year-end assessment; the sandbox's 质管办 enters criterion (a))")
    if year_end_assessment(api):
        orchestrate.follow_until_idle(api, since, [], say=_say)

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
    quality_summary(_say)
    outputs_summary(_say)
    mails = mail.read_messages()
    _say("    输出位置 (outputs):")
    _say(f"      Airflow 界面:        {airflow_env.api_url()}  (用户 admin，密码见")
    _say(f"                           {airflow_env.passwords_file()})")
    warehouse = connection.shown(connection.warehouse_url())
    _say(f"      数据仓库 warehouse:  {warehouse}（完整地址：./run db url）")
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
