"""`xiaoben` — the platform's command line (the README's `./run` calls it).

xiaoben demo              the main job: the whole platform end to end on the sandbox
xiaoben up|down|status    the platform as a service (PostgreSQL, sandbox, Airflow)
xiaoben test [ARGS]       linters and tests (what CI runs)
xiaoben db start|stop|status|url [--role bi]|bootstrap
xiaoben registry check    Table 1 as loaded from connectors/, or one line per broken file
xiaoben sync              regenerate what the subsystem files declare (dbt staging, contracts)
xiaoben airflow ARGS      the airflow command with the platform's environment (UI, CLI)
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from include import settings


def _say(text: str) -> None:
    print(text, flush=True)


# -- registry -----------------------------------------------------------------------------------
def cmd_registry_check(_args) -> int:
    """Every file the DAG folder reads, validated in one pass; one line per broken file."""
    from include.registry import RegistryError, load_subsystems

    try:
        reg, errors = load_subsystems()
    except RegistryError as exc:  # departments.yml: every subsystem depends on it
        errors, reg = [exc], None
    for exc in errors:
        print(f"错误 (registry error): {exc}", file=sys.stderr)
    if errors:
        return 2
    _say(
        f"{len(reg.subsystems)} 个子系统 (subsystems), {len(reg.departments)} 个部门 (departments)"
    )
    for s in reg.subsystems.values():
        org = "、".join(s.organising_departments)
        if len(s.organising_departments) > 4:
            first = "、".join(s.organising_departments[:3])
            org = f"{first} 等 {len(s.organising_departments)} 个部门"
        _say(
            f"- {s.id:<20} {s.name_zh}\n"
            f"    归口管理部门 managing: {'、'.join(s.managing_departments)}\n"
            f"    组织部门 organising:   {org}\n"
            f"    数据采集员 collectors: {'、'.join(c.role for c in s.collectors)}\n"
            f"    采集时间 schedule:     {s.cron} ({s.timezone}); "
            f"计划 plan: {s.plan.frequency}, 每期截止 +{s.plan.deadline_hours} h"
        )
    from include.sync import stale

    for line in stale(reg):  # what the DAG folder reads next: staging, contracts, groups
        _say(f"提示 (note): 生成文件已过期，请运行 `./run sync` (stale, run ./run sync): {line}")
    return 0


def cmd_sync(_args) -> int:
    """Regenerate every file derived from the subsystem files (dbt staging, contracts, …)."""
    from include.registry import RegistryError, load_registry
    from include.sync import _rel, sync

    try:
        reg = load_registry()
    except RegistryError as exc:
        print(f"错误 (registry error): {exc}", file=sys.stderr)
        return 2
    written, hand = sync(reg)
    for path in hand:
        _say(f"保留手写模型 (hand-written, left alone): {_rel(path)}")
    for path in written:
        _say(f"已生成 (written): {_rel(path)}")
    _say(
        f"{len(written)} 个文件已更新，{len(hand)} 个手写模型未改动 "
        "(files written, hand-written models kept)"
    )
    return 0


# -- database -----------------------------------------------------------------------------------
def cmd_db(args) -> int:
    from include.warehouse import connection
    from include.warehouse.bootstrap import bootstrap
    from include.warehouse.roles import QMO

    server = connection.embedded()
    configured = connection.configured_url()
    if args.action in ("start", "stop", "status") and configured:
        _say(f"已配置外部数据库 (configured server, not embedded): {configured}")
        return 0
    if args.action == "start":
        server.start()
        _say(f"嵌入式 PostgreSQL 已启动: {server.url(settings.warehouse_db())}")
    elif args.action == "stop":
        server.stop()
        _say("嵌入式 PostgreSQL 已停止 (stopped)")
    elif args.action == "status":
        _say(f"{server.status()}  data={server.datadir}  port={server.port}")
    elif args.action == "url":
        _say(bi_url() if args.role == "bi" else connection.role_url(QMO) if args.role == "qmo"
             else connection.warehouse_url())  # fmt: skip
    elif args.action == "bootstrap":
        _say(json.dumps(bootstrap(), ensure_ascii=False, indent=2))
    return 0


def bi_url() -> str:
    """The read-only BI role's URL (the one to give FineBI, Superset, Metabase …)."""
    from include.warehouse import connection
    from include.warehouse.roles import BI

    return connection.role_url(BI)


# -- service ------------------------------------------------------------------------------------
def cmd_up(args) -> int:
    from include import service

    service.up(args)
    return 0


def cmd_down(_args) -> int:
    from include import service

    service.down()
    return 0


def cmd_status(_args) -> int:
    from include import service

    return service.status()


# -- airflow ------------------------------------------------------------------------------------
def _airflow(
    args: list[str], extra_env: dict | None = None, **kwargs
) -> subprocess.CompletedProcess:
    from include import airflow_env

    exe = Path(sys.executable).with_name("airflow")
    return subprocess.run([str(exe), *args], env=airflow_env.environ(extra_env), **kwargs)


def cmd_airflow(args) -> int:
    from include.warehouse.bootstrap import bootstrap

    bootstrap()
    return _airflow(args.rest).returncode


# -- sandbox ------------------------------------------------------------------------------------
def cmd_sandbox(args) -> int:
    try:
        from sandbox.__main__ import main as sandbox_main
    except ImportError:  # the production image leaves the sandbox out (Dockerfile)
        raise SystemExit("此安装不含校园沙箱（sandbox/ 只用于试用与测试）") from None

    return sandbox_main(args.rest)


# -- quality ------------------------------------------------------------------------------------
def cmd_quality(args) -> int:
    from include.quality.cli import main as quality_main

    return quality_main(args.rest)


# -- demo ---------------------------------------------------------------------------------------
def cmd_demo(args) -> int:
    from include import demo

    return demo.run(args)


# -- test ---------------------------------------------------------------------------------------
PASS_THROUGH = ("test", "airflow", "sandbox", "quality")


def cmd_test(args) -> int:
    """ruff, sqlfluff and pytest; the first failure stops the run and sets the exit code."""
    bin_dir = Path(sys.executable).parent
    root = str(settings.ROOT)
    steps = [
        ("ruff check", [bin_dir / "ruff", "check", root]),
        ("ruff format --check", [bin_dir / "ruff", "format", "--check", root]),
    ]
    if any((settings.DBT_DIR / "models").rglob("*.sql")):
        steps.append(("sqlfluff lint", [bin_dir / "sqlfluff", "lint", str(settings.DBT_DIR)]))
    steps.append(("pytest", [sys.executable, "-m", "pytest", *args.rest]))
    for name, cmd in steps:
        _say(f"==> {name}")
        started = time.monotonic()
        code = subprocess.run([str(c) for c in cmd], cwd=root).returncode
        outcome = "ok" if code == 0 else f"failed ({code})"
        _say(f"    {name}: {outcome} in {time.monotonic() - started:.0f} s")
        if code != 0:
            return code
    return 0


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # run as a program, not called from Python (a test process must not die)
        # `xiaoben registry check | head` should end quietly, as other Unix tools do.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    parser = argparse.ArgumentParser(prog="xiaoben", description="校本数据中心 command line")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="the main job: every DAG end to end on the campus sandbox")
    demo.add_argument("--scale", type=int, default=10000, help="students in the sandbox college")
    demo.add_argument("--days", type=int, default=14, help="days of term the sandbox has run")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--start", default="2026-09-01", help="first day of term in the sandbox")
    demo.add_argument("--clean", action="store_true", help="完美学院：沙箱不注入任何缺陷")
    demo.add_argument("--stop", action="store_true", help="结束后停止服务（默认保持运行）")
    demo.set_defaults(func=cmd_demo)

    up = sub.add_parser("up", help="启动服务：PostgreSQL、校园沙箱、邮件捕获、Airflow 各组件")
    up.add_argument("--scale", type=int, help="沙箱在校生人数（默认沿用上次，首次 10000）")
    up.add_argument("--days", type=int, help="沙箱开学后天数")
    up.add_argument("--seed", type=int)
    up.add_argument("--start", help="沙箱学期开始日期")
    up.add_argument("--no-sandbox", action="store_true", help="不启动沙箱（已配置真实子系统连接）")
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="停止服务（up 启动的全部进程与嵌入式 PostgreSQL）")
    down.set_defaults(func=cmd_down)
    status = sub.add_parser("status", help="服务各进程是否在运行、日志位置、界面地址")
    status.set_defaults(func=cmd_status)

    test = sub.add_parser("test", help="linters and the test suite (later words go to pytest)")
    test.set_defaults(func=cmd_test)

    db = sub.add_parser("db", help="the warehouse database")
    db.add_argument("action", choices=["start", "stop", "status", "url", "bootstrap"])
    db.add_argument(
        "--role", choices=["platform", "bi", "qmo"], default="platform",
        help="url: bi = 只读 BI 角色 xiaoben_bi（交给 BI 工具的地址）；"
             "qmo = 质管办只读角色 xiaoben_qmo（含审计记录 audit.events）",
    )  # fmt: skip
    db.set_defaults(func=cmd_db)

    reg = sub.add_parser("registry", help="Table 1 (connectors/subsystems/*.yml)")
    reg.add_argument("action", choices=["check"])
    reg.set_defaults(func=cmd_registry_check)

    sync = sub.add_parser(
        "sync", help="从子系统文件重新生成 dbt staging、数据契约等 (regenerate derived files)"
    )
    sync.set_defaults(func=cmd_sync)

    af = sub.add_parser("airflow", help="run airflow with the platform's environment")
    af.set_defaults(func=cmd_airflow)

    sandbox = sub.add_parser("sandbox", help="the campus sandbox: serve | examples (see --help)")
    sandbox.set_defaults(func=cmd_sandbox)

    quality = sub.add_parser("quality", help="quality results, holds, warnings (see --help)")
    quality.set_defaults(func=cmd_quality)

    # Pass-through commands hand every later word (options included) to the tool they wrap.
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in PASS_THROUGH:
        return parser.parse_args(argv[:1]).func(argparse.Namespace(rest=argv[1:]))
    args = parser.parse_args(argv)
    from include.airflow_api import AirflowApiError

    try:
        return args.func(args)
    except AirflowApiError as exc:  # the service did not answer: one line, not a traceback
        raise SystemExit(str(exc)) from None


if __name__ == "__main__":
    sys.exit(main())
