"""The platform as a service (`xiaoben up`): the real scheduler fires a schedule by itself, and
a collection whose Airflow connection is missing fails at once and warns its collectors.

One service for the module, kept small: a 200-student sandbox and a subsystems folder with two
subsystems (XIAOBEN_SUBSYSTEMS_DIR): `decision`, whose schedule is moved to a minute or two
from now, and `assets`, whose connection the test deletes. The DAGs that follow the raw Assets
are paused at once, so the machine only runs what the test looks at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
import yaml

from include import settings

pytestmark = pytest.mark.slow

SCHEDULED = "decision"
NO_CONNECTION = "assets"
TZ = ZoneInfo("Asia/Shanghai")


def _cli(env: dict, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "include.cli", *args], cwd=settings.ROOT, env=env,
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from tests.conftest import free_port

    home = tmp_path_factory.mktemp("service_home")
    subsystems = home / "subsystems"
    subsystems.mkdir()
    for sid in (SCHEDULED, NO_CONNECTION):
        shutil.copy(settings.SUBSYSTEMS_DIR / f"{sid}.yml", subsystems)
    # Two minutes ahead: the service needs about one to start; if it takes longer, the
    # scheduler still starts this slot itself, as the latest one it missed.
    fire_at = (datetime.now(TZ) + timedelta(minutes=2)).replace(second=0, microsecond=0)
    path = subsystems / f"{SCHEDULED}.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["schedule"]["cron"] = f"{fire_at.minute} {fire_at.hour} * * *"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "XIAOBEN_DATABASE_URL"))
    }
    env.update({
        "XIAOBEN_HOME": str(home),
        "XIAOBEN_SUBSYSTEMS_DIR": str(subsystems),
        "XIAOBEN_PG_PORT": str(free_port()),
        "XIAOBEN_SANDBOX_PORT": str(free_port()),
        "XIAOBEN_AIRFLOW_PORT": str(free_port()),
        "XIAOBEN_SMTP_PORT": str(free_port()),
    })  # fmt: skip
    try:
        up = _cli(env, "up", "--scale", "200", "--days", "2")
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        old = dict(os.environ)
        os.environ.update(env)  # so the client below reads this service's port and password
        try:
            from include import service as svc

            api = svc.api()
        finally:
            os.environ.clear()
            os.environ.update(old)
        for d in api.dags():
            if not d["dag_id"].startswith("collect__"):
                api.set_paused(d["dag_id"], True)
        yield {"env": env, "api": api, "fire_at": fire_at, "home": home}
    finally:
        _cli(env, "down", timeout=120)


def _wait(api, dag_id: str, run_id: str) -> dict:
    return api.wait(dag_id, run_id, timeout=600, poll=3)


def test_scheduler_fires_a_collection_at_its_cron_time(service):
    api, fire_at = service["api"], service["fire_at"]
    dag_id = f"collect__{SCHEDULED}"
    deadline = time.monotonic() + 600
    while True:
        runs = [
            r for r in api.runs(dag_id, run_type=["scheduled"])
            if datetime.fromisoformat(r["run_after"]) == fire_at
        ]  # fmt: skip
        if runs and runs[0]["state"] in ("success", "failed"):
            break
        assert time.monotonic() < deadline, f"no scheduled run of {dag_id} at {fire_at}"
        time.sleep(5)
    run = runs[0]
    assert run["state"] == "success", run
    assert run["triggered_by"] == "timetable"
    tis = api.task_instances(dag_id, run["dag_run_id"])
    states = {ti["task_id"]: ti["state"] for ti in tis}
    assert states.pop("submission") == "skipped"  # 报送及时性: nothing was late
    assert states and set(states.values()) == {"success"}
    pull = next(ti for ti in tis if ti["task_id"] in states)
    log = api.log(dag_id, run["dag_run_id"], pull["task_id"], pull["try_number"])
    assert f"raw_{SCHEDULED}." in log  # the task's own log line, served by the api-server


def test_missing_connection_fails_in_one_try_with_chinese_message_and_warns(service):
    api, env = service["api"], service["env"]
    conn_id = f"xiaoben_{NO_CONNECTION}"
    deleted = _cli(env, "airflow", "connections", "delete", conn_id, timeout=300)
    assert deleted.returncode == 0, deleted.stdout[-2000:] + deleted.stderr[:3000]

    dag_id = f"collect__{NO_CONNECTION}"
    run = _wait(api, dag_id, api.trigger(dag_id)["dag_run_id"])
    assert run["state"] == "failed"
    [ti] = [
        t for t in api.task_instances(dag_id, run["dag_run_id"]) if t["task_id"] != "submission"
    ]
    assert ti["state"] == "failed" and ti["try_number"] == 1  # no retry, no back-off
    log = api.log(dag_id, run["dag_run_id"], ti["task_id"], 1)
    assert f"资产管理系统（{NO_CONNECTION}）的 Airflow 连接 {conn_id} 未配置" in log
    assert "管理 → 连接" in log and f"AIRFLOW_CONN_{conn_id.upper()}" in log

    url = _cli(env, "db", "url").stdout.strip()  # the owner's login (password in the state folder)
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select status, severity, detail, recipients from quality.warnings"
            " where warning_key = %s",
            [f"connection|{NO_CONNECTION}|{conn_id}"],
        ).fetchone()
    assert row is not None, "no warning raised"
    status, severity, detail, recipients = row
    assert status == "open" and severity == "未通过" and conn_id in detail
    assert any("数据采集员" in p["role"] for p in recipients)


def test_safe_defaults_loopback_private_secrets_and_bi_url(service):
    import psutil

    env, home = service["env"], service["home"]
    port = int(env["XIAOBEN_AIRFLOW_PORT"])
    listening = {
        c.laddr.ip
        for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    }
    assert listening == {"127.0.0.1"}  # the api-server is not on the network by default
    for name in ("simple_auth_manager_passwords.json", "keys.json"):
        assert (home / "airflow" / name).stat().st_mode & 0o777 == 0o600, name

    url = _cli(env, "db", "url", "--role", "bi").stdout.strip()
    assert url.startswith("postgresql://xiaoben_bi:") and "@127.0.0.1:" in url
    with psycopg.connect(url) as conn:
        assert conn.execute("select current_user").fetchone()[0] == "xiaoben_bi"


def test_no_secret_or_personal_data_in_the_tree_logs_or_mails(service):
    """Issue 15 items 2 and 4: after real runs, the repository holds none of the secrets the
    run used, and its task logs, component logs and mails hold neither those secrets nor a
    clear 身份证号 or mobile number."""
    from sandbox import Sandbox
    from tests import security_scan as scan

    home = service["home"]
    secrets = scan.run_secrets(home)
    assert len(secrets) >= 5  # role passwords, owner, PII key, Airflow keys, admin password
    sandbox_secrets = [Sandbox.credentials(sid)[1] for sid in (SCHEDULED, NO_CONNECTION)]
    assert scan.found_in(scan.repository_files(), secrets) == {}
    outputs = scan.run_outputs(home)
    assert any("logs" in p.parts for p in outputs)  # the task logs are there to scan
    assert scan.found_in(outputs, secrets + sandbox_secrets) == {}
    personal = {str(p): hits for p in outputs if (hits := scan.personal_data_in(p.read_text(
        errors="replace")))}  # fmt: skip
    assert personal == {}
