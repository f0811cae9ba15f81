"""The main job (`./run demo`): the whole platform end to end on the campus sandbox.

1. warehouse: start the embedded PostgreSQL (or use the configured server) and bootstrap it;
2. Airflow: migrate the metadata database;
3. sandbox: start the simulated campus systems on a loopback port;
4. DAGs: run every DAG once, producers before the DAGs that follow their Assets;
5. summary: what ran, how it went, and where the outputs are.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from include import airflow_env, mail, settings
from include.registry import registry
from include.warehouse import connection
from include.warehouse.bootstrap import bootstrap

SANDBOX_PORT = int(os.environ.get("XIAOBEN_SANDBOX_PORT", "8765"))


def _say(text: str) -> None:
    print(text, flush=True)


def _log_path(name: str) -> Path:
    path = settings.state_dir() / "logs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def sandbox_connections(base_url: str) -> dict[str, str]:
    """AIRFLOW_CONN_* for every subsystem whose file names a connection, pointing at the sandbox."""
    from sandbox import SUBSYSTEMS, Sandbox

    env = {}
    for s in registry().subsystems.values():
        conn_id = s.api.connection if s.api else None
        if not conn_id:
            continue
        if s.id not in SUBSYSTEMS:
            _say(f"    沙箱不模拟 {s.id}，需要真实连接 {conn_id} (not in the sandbox)")
            continue
        key, secret = Sandbox.credentials(s.id)
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(
            {"conn_type": "http", "host": f"{base_url}/{s.id}", "login": key, "password": secret}
        )
    return env


@contextmanager
def sandbox(args):
    """Start the sandbox as its own process; stop it when the job ends."""
    log = _log_path("sandbox.log").open("w")
    cmd = [
        sys.executable, "-m", "sandbox", "serve", "--port", str(SANDBOX_PORT),
        "--seed", str(args.seed), "--scale", str(args.scale), "--start", args.start,
        "--days", str(args.days),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=settings.ROOT)
    base = f"http://127.0.0.1:{SANDBOX_PORT}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"沙箱启动失败，见 {log.name}")
            try:
                if requests.get(f"{base}/_admin/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"沙箱 5 分钟内未就绪，见 {log.name}")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def run(args) -> int:
    started = time.monotonic()
    _say("==> [1/5] 数据仓库 (warehouse): 启动并初始化 PostgreSQL")
    info = bootstrap()
    _say(f"    {info['warehouse']}  raw schemas: {len(info['raw_schemas'])}")

    _say("==> [2/5] Airflow 元数据库迁移 (airflow db migrate)")
    airflow_env.apply()
    with _log_path("airflow-db-migrate.log").open("w") as log:
        migrate = subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
            env=airflow_env.environ(), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    if migrate.returncode != 0:
        _say(f"    失败，见 {log.name}")
        return migrate.returncode

    _say(f"==> [3/5] 校园沙箱 (campus sandbox): {args.scale} 名学生, 开学后 {args.days} 天")
    with sandbox(args) as base, mail.MailCatcher() as catcher:
        _say(f"    {base}  (API: sandbox/API.md)")
        _say(f"    邮件 (SMTP mail catcher): 127.0.0.1:{catcher.port} → {catcher.directory}")
        _say("==> [4/5] 运行全部 DAG (every DAG, end to end)")
        summary_file = _log_path("dag_runs.json")
        task_log = _log_path("dag_tasks.log")
        _say(f"    任务日志 (task logs): {task_log}")
        code = subprocess.run(
            [sys.executable, "-m", "include.orchestrate", "--summary", str(summary_file),
             "--log", str(task_log)],
            env=airflow_env.environ({**sandbox_connections(base), **catcher.connection_env()}),
        ).returncode  # fmt: skip
        mails = catcher.messages()

    _say("==> [5/5] 汇总 (summary)")
    results = json.loads(summary_file.read_text()) if summary_file.exists() else []
    for r in results:
        _say(f"    {r['dag_id']:<36} {r['state']:<8} {r['seconds']:>7.1f} s  负责: {r['owner']}")
    _say(f"    共 {len(results)} 个 DAG, 用时 {time.monotonic() - started:.0f} s")
    _say("    输出位置 (outputs):")
    _say(f"      数据仓库 warehouse:  {connection.warehouse_url()}")
    _say("      采集日志 run log:    landing.run_log (select * from landing.run_log)")
    _say(f"      Airflow 运行记录:    {airflow_env.airflow_home()} (./run airflow api-server)")
    _say(f"      DAG 运行汇总:        {summary_file}")
    _say("      质量检查结果:        quality.check_results, quality.day_report")
    _say(f"      预警邮件 ({len(mails)} 封):     {mail.mail_dir()}")
    return code
