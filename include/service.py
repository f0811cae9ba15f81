"""The platform as a service on one machine: `./run up`, `./run down`, `./run status`.

`up` starts, each as its own long-running process (logs under `.xiaoben/logs/`, process ids
under `.xiaoben/run/`), and leaves them running after the command returns:

- the embedded PostgreSQL (or uses the configured server) and bootstraps the warehouse;
- the campus sandbox (the simulated subsystems) and the mail catcher (SMTP on loopback);
- Airflow's api-server (UI + REST API v2, loopback unless configured), scheduler,
  dag-processor and triggerer, after `airflow db migrate`;
- the connections in Airflow's metadata database: one `xiaoben_<id>` per subsystem of the
  registry (pointing at the sandbox) and `smtp_default` (the mail catcher), written with
  `airflow connections import --overwrite`, so running `up` again changes nothing.

A college with its real subsystems sets their connections in the UI (管理 → 连接) and runs
`up --no-sandbox`; the connections `up` would write for the sandbox are then left alone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from include import airflow_env, settings

AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
SANDBOX_DEFAULTS = {"seed": 2026, "scale": 10000, "start": "2026-09-01", "days": 14}


def _say(text: str) -> None:
    print(text, flush=True)


def run_dir() -> Path:
    path = settings.state_dir() / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_path(name: str) -> Path:
    path = settings.state_dir() / "logs" / f"{name}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def sandbox_port() -> int:
    return int(os.environ.get("XIAOBEN_SANDBOX_PORT", "8765"))


def smtp_port() -> int:
    return int(os.environ.get("XIAOBEN_SMTP_PORT", "8025"))


def sandbox_url() -> str:
    return f"http://127.0.0.1:{sandbox_port()}"


# -- processes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Process:
    name: str

    @property
    def pid_file(self) -> Path:
        return run_dir() / f"{self.name}.pid"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text())
        except (OSError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return None
        # a pid file left by a crash may name a pid the system has since given to another program
        marker = {"mail": "include.mail", "sandbox": "sandbox"}.get(self.name, "airflow")
        return pid if marker in cmdline else None

    def running(self) -> bool:
        return self.pid() is not None

    def started(self) -> bool:
        """Alive, for a process this command has just started (before its exec completes)."""
        try:
            return self._alive(int(self.pid_file.read_text()))
        except (OSError, ValueError):
            return False

    def start(self, cmd: list[str], env: dict[str, str]) -> int:
        if pid := self.pid():
            return pid
        with log_path(self.name).open("a") as log:
            log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(cmd)}\n")
            log.flush()
            # Its own session: it outlives this command, and `down` can stop its whole group.
            proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=env, cwd=settings.ROOT, start_new_session=True,
            )  # fmt: skip
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def stop(self, timeout: float = 30) -> bool:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._alive(pid):
            time.sleep(0.3)
        if self._alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.pid_file.unlink(missing_ok=True)
        return True

    @staticmethod
    def _alive(pid: int) -> bool:
        try:
            waited, _ = os.waitpid(pid, os.WNOHANG)  # reap it if it was our child
            if waited == pid:
                return False
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _airflow_exe() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def _wait_http(url: str, proc: Process, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if not proc.started():
            raise SystemExit(f"{what} 启动失败，见 {log_path(proc.name)}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} {seconds:.0f} 秒内未就绪，见 {log_path(proc.name)}")
        time.sleep(0.5)


# -- the pieces ---------------------------------------------------------------------------------


def sandbox_options(args=None) -> dict:
    """The sandbox's options: given ones, else those of the last start, else the defaults."""
    saved = run_dir() / "sandbox.json"
    opts = dict(SANDBOX_DEFAULTS)
    if saved.exists():
        opts.update(json.loads(saved.read_text()))
    for key in SANDBOX_DEFAULTS:
        if (value := getattr(args, key, None)) is not None:
            opts[key] = value
    if hasattr(args, "profile"):  # the demo always says which college it wants
        opts["profile"] = args.profile
    previous = json.loads(saved.read_text()) if saved.exists() else None
    if previous is not None and previous != opts:  # another college: restart the sandbox
        Process("sandbox").stop()
    saved.write_text(json.dumps(opts))
    return opts


def start_sandbox(opts: dict) -> str:
    cmd = [
        sys.executable, "-m", "sandbox", "serve", "--port", str(sandbox_port()),
        "--seed", str(opts["seed"]), "--scale", str(opts["scale"]), "--start", opts["start"],
        "--days", str(opts["days"]),
    ]  # fmt: skip
    if opts.get("profile"):  # `--profile realistic|clean` (the sandbox's realistic college)
        cmd += ["--profile", opts["profile"]]
    proc = Process("sandbox")
    proc.start(cmd, dict(os.environ))
    _wait_http(f"{sandbox_url()}/_admin/health", proc, 600, "校园沙箱")
    return sandbox_url()


def start_mail() -> int:
    proc = Process("mail")
    cmd = [sys.executable, "-m", "include.mail", "serve", "--port", str(smtp_port())]
    proc.start(cmd, dict(os.environ))
    deadline = time.monotonic() + 30
    import socket

    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", smtp_port())) == 0:
                return smtp_port()
        if not proc.started() or time.monotonic() > deadline:
            raise SystemExit(f"邮件服务启动失败，见 {log_path('mail')}")
        time.sleep(0.3)


def connections(with_sandbox: bool) -> dict[str, dict]:
    """The connections `up` keeps in Airflow: subsystems (when on the sandbox) and SMTP."""
    from include.registry import api_specs

    conns: dict[str, dict] = {
        "smtp_default": {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": smtp_port(),
            "extra": json.dumps({"disable_ssl": True, "disable_tls": True}),
            "description": "本机邮件捕获服务 (mail catcher, .xiaoben/mail/)",
        }
    }
    conns.update(warehouse_role_connections())
    if with_sandbox:
        from sandbox import SUBSYSTEMS, Sandbox

        for sid, spec in api_specs().items():
            if sid not in SUBSYSTEMS:  # a subsystem the sandbox does not simulate: set it in the UI
                _say(f"    沙箱不模拟 {sid}，需要真实连接 {spec.connection} (not in the sandbox)")
                continue
            key, secret = Sandbox.credentials(sid)
            conns[spec.connection] = {
                "conn_type": "http",
                "host": f"{sandbox_url()}/{sid}",
                "login": key,
                "password": secret,
                "description": f"{sid}: 校园沙箱 (campus sandbox)",
            }
    return conns


def warehouse_role_connections() -> dict[str, dict]:
    """`xiaoben_warehouse_<role>`: one connection per platform role, for the task that needs it."""
    from urllib.parse import unquote, urlsplit

    from include.warehouse import connection, roles

    out = {}
    for role in (roles.LOADER, roles.TRANSFORMER, roles.QUALITY, roles.QMO, roles.BI):
        url = urlsplit(connection.role_url(role))
        out[f"xiaoben_warehouse_{role.removeprefix('xiaoben_')}"] = {
            "conn_type": "postgres",
            "host": url.hostname,
            "port": url.port or 5432,
            "schema": url.path.lstrip("/"),
            "login": role,
            "password": unquote(url.password or ""),
            "description": f"数据仓库角色 {role} (include/warehouse/roles.py)",
        }
    return out


def import_connections(conns: dict[str, dict]) -> None:
    """Create or update connections in the metadata database (idempotent)."""
    fd, name = tempfile.mkstemp(suffix=".json", dir=run_dir())  # mode 0600: holds secrets
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(conns, f, ensure_ascii=False)
        res = subprocess.run(
            [_airflow_exe(), "connections", "import", name, "--overwrite"],
            env=airflow_env.environ(), capture_output=True, text=True,
        )  # fmt: skip
    finally:
        os.unlink(name)
    if res.returncode != 0:
        raise SystemExit(f"写入 Airflow 连接失败: {(res.stderr or res.stdout).strip()[-500:]}")


def migrate() -> None:
    with log_path("airflow-db-migrate").open("w") as log:
        res = subprocess.run(
            [_airflow_exe(), "db", "migrate"], env=airflow_env.environ(), stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    if res.returncode != 0:
        raise SystemExit(f"Airflow 元数据库迁移失败，见 {log_path('airflow-db-migrate')}")


def start_airflow() -> None:
    env = airflow_env.environ()
    for name in AIRFLOW_COMPONENTS:
        Process(name).start([_airflow_exe(), name], env)
    _wait_http(
        f"{airflow_env.api_url()}/api/v2/monitor/health", Process("api-server"), 300, "api-server"
    )


def api():
    from include.airflow_api import AirflowApi

    return AirflowApi(airflow_env.api_url(), airflow_env.ADMIN_USER, airflow_env.admin_password())


def wait_for_dags(seconds: float = 600, say=_say) -> list[dict]:
    """Until every file in dags/ has been parsed (its DAGs listed, or an import error)."""
    client = api()
    files = {p.name for p in settings.DAGS_DIR.glob("*.py")}
    deadline = time.monotonic() + seconds
    while True:
        dags = client.dags()
        errors = client.import_errors()
        seen = {Path(d.get("fileloc") or "").name for d in dags}
        seen |= {Path(e.get("filename") or "").name for e in errors}
        if files <= seen:
            if errors:
                lines = "\n".join(
                    f"  {e['filename']}: {e['stack_trace'].strip().splitlines()[-1]}"
                    for e in errors
                )
                raise SystemExit(f"DAG 文件导入失败 (import errors):\n{lines}")
            return dags
        if time.monotonic() > deadline:
            missing = ", ".join(sorted(files - seen))
            raise SystemExit(f"dag-processor {seconds:.0f} 秒内未解析完: {missing}")
        time.sleep(2)


# -- commands -----------------------------------------------------------------------------------


def up(args=None, say=_say) -> None:
    from include.warehouse import connection, dbt
    from include.warehouse.bootstrap import bootstrap

    with_sandbox = not getattr(args, "no_sandbox", False)
    say("==> 数据仓库 (PostgreSQL)")
    info = bootstrap()
    say(f"    {connection.shown(info['warehouse'])}（完整地址：./run db url）")
    say("==> Airflow 元数据库迁移 (airflow db migrate)")
    migrate()
    if with_sandbox:
        opts = sandbox_options(args)
        say(f"==> 校园沙箱 (sandbox): {opts['scale']} 名学生, 开学后 {opts['days']} 天")
        say(f"    {start_sandbox(opts)}  日志: {log_path('sandbox')}")
    say(f"==> 邮件捕获 (SMTP mail catcher): 127.0.0.1:{start_mail()} → .xiaoben/mail/")
    say("==> Airflow 连接 (connections in the metadata database)")
    conns = connections(with_sandbox)
    import_connections(conns)
    say(f"    {len(conns)} 个: {', '.join(sorted(conns))}")
    say("==> dbt 模型清单 (dbt parse: the warehouse DAG reads its graph from the manifest)")
    dbt.manifest_path(timeout=600)  # before the dag-processor, whose import timeout is 30 s
    say("==> Airflow: api-server, scheduler, dag-processor, triggerer")
    start_airflow()
    dags = wait_for_dags(say=say)
    client = api()
    for d in dags:
        if d["is_paused"]:
            client.set_paused(d["dag_id"], False)
    say(f"    {len(dags)} 个 DAG 已启用 (unpaused), 并行度 parallelism={airflow_env.parallelism()}")
    say(f"    界面 UI: {airflow_env.api_url()}  用户 admin, 密码见 {airflow_env.passwords_file()}")


def down(say=_say) -> None:
    from include.warehouse import connection

    for name in (*reversed(AIRFLOW_COMPONENTS), "mail", "sandbox"):
        if Process(name).stop():
            say(f"    已停止 {name}")
    if connection.configured_url() is None:
        connection.embedded().stop()
        say("    已停止 PostgreSQL")


def status(say=_say) -> int:
    from include.warehouse import connection

    say(f"数据仓库 warehouse: {connection.shown(connection.warehouse_url())}（./run db url）")
    if connection.configured_url() is None:
        say(f"    PostgreSQL: {connection.embedded().status()}")
    running = 0
    for name in ("sandbox", "mail", *AIRFLOW_COMPONENTS):
        pid = Process(name).pid()
        running += pid is not None
        state = f"运行中 (pid {pid})" if pid else "未运行"
        say(f"{name:<14} {state:<22} 日志: {log_path(name)}")
    say(f"界面 UI: {airflow_env.api_url()}  用户 admin, 密码见 {airflow_env.passwords_file()}")
    return 0 if running == 2 + len(AIRFLOW_COMPONENTS) else 3
