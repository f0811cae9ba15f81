"""Bad configuration, met by real collection DAG runs (issue 15 item 6).

One Airflow home (SQLite metadata, `dag.test()` in a child process, as `test_collect_dag_run`;
the six DAGs run one after the other in one child, to parse the DAG folder once), one warehouse
database, the sandbox over HTTP and over HTTPS with an expired certificate, and a
copy of the subsystem files (XIAOBEN_SUBSYSTEMS_DIR) holding one mistake per subsystem:

| subsystem | mistake |
|---|---|
| assets | the connection's password is wrong (the sandbox answers 401) |
| employment | its file names a connection that does not exist (`xiaoben_employmnet`) |
| campus_card | its host is HTTPS with an expired certificate (its CA given in the extra) |
| finance | its host's port is closed (unreachable: retried, then named) |
| oa | its file is invalid (a bad cron) |
| decision | nothing: it still collects |

Each broken DAG fails with one Chinese line naming the subsystem, the connection or file and the
fix; the permanent ones in one try; each opens one data warning to that subsystem's collectors.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading

import psycopg
import pytest
from psycopg import sql

from include import settings
from include.warehouse import connection
from tests.dags.test_collect_dag_run import migrate
from tests.tls import certificate, https_sandbox

pytestmark = pytest.mark.slow

# Every DAG of the module in one child process, one after the other (one DAG folder parse).
RUN = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
for dag_id in sys.argv[2:]:
    run = bag.dags[dag_id].test()
    tis = {ti.task_id: [str(ti.state), ti.try_number] for ti in run.get_task_instances()}
    print("RUN " + json.dumps({"dag_id": dag_id, "state": str(run.state), "tis": tis}), flush=True)
"""
DAGS = ["collect__assets", "collect__employment", "collect__campus_card", "collect__oa",
        "collect__finance", "collect__decision"]  # fmt: skip

# subsystem file → (text to replace, replacement)
EDITS = {
    "employment.yml": ("connection: xiaoben_employment", "connection: xiaoben_employmnet"),
    "finance.yml": ("  timeout: 30\n", "  timeout: 30\n  max_attempts: 2\n"),  # 2 requests a try
    "oa.yml": ('cron: "0 */4 * * *"', 'cron: "61 */4 * * *"'),
}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def setup(warehouse_url, tmp_path_factory, airflow_env):
    from include.warehouse.bootstrap import ensure_roles, prepare_database
    from sandbox import Sandbox
    from sandbox.server import make_server

    tmp = tmp_path_factory.mktemp("bad_configuration")
    folder = tmp / "subsystems"
    shutil.copytree(settings.SUBSYSTEMS_DIR, folder)
    for file, (old, new) in EDITS.items():
        text = (folder / file).read_text(encoding="utf-8")
        assert old in text, f"{file} no longer contains {old!r}: update this test"
        (folder / file).write_text(text.replace(old, new, 1), encoding="utf-8")

    name = "bad_configuration_test"
    with psycopg.connect(connection.with_db(warehouse_url, "postgres"), autocommit=True) as c:
        c.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        c.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    db = connection.with_db(warehouse_url, name)
    with psycopg.connect(db, autocommit=True) as c:
        ensure_roles(c)
        prepare_database(c)

    sb = Sandbox(seed=2026, scale=200, start="2026-09-01", days=7)
    server = make_server(sb, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    cert, key, not_after = certificate(tmp / "certs", expired=True)

    def conn(sid: str, host: str | None = None, **changes) -> str:
        login, password = sb.credentials(sid)
        value = {"conn_type": "http", "host": host or f"{base}/{sid}", "login": login,
                 "password": password, **changes}  # fmt: skip
        return json.dumps(value)

    with https_sandbox(sb, cert, key) as https:
        env = airflow_env(tmp / "airflow", {
            "XIAOBEN_DATABASE_URL": db,
            "XIAOBEN_SUBSYSTEMS_DIR": str(folder),
            "AIRFLOW_CONN_XIAOBEN_DECISION": conn("decision"),
            "AIRFLOW_CONN_XIAOBEN_ASSETS": conn("assets", password="wrong-secret"),
            "AIRFLOW_CONN_XIAOBEN_EMPLOYMENT": conn("employment"),  # not the one the file names
            "AIRFLOW_CONN_XIAOBEN_CAMPUS_CARD": conn(
                "campus_card", f"{https}/campus_card", extra=json.dumps({"ca_bundle": str(cert)})
            ),
            "AIRFLOW_CONN_XIAOBEN_FINANCE": conn(
                "finance", f"http://127.0.0.1:{_closed_port()}/finance"
            ),
        })  # fmt: skip
        migrate(env)
        out = subprocess.run(
            [sys.executable, "-c", RUN, str(settings.DAGS_DIR), *DAGS],
            env=env, capture_output=True, text=True, timeout=1800, cwd=settings.ROOT,
        )  # fmt: skip
    log = out.stdout + out.stderr
    (tmp / "dag_runs.log").write_text(log, encoding="utf-8")  # to read when a test fails
    runs = {
        (run := json.loads(x[4:]))["dag_id"]: run
        for x in out.stdout.splitlines()
        if x.startswith("RUN ")
    }
    assert set(runs) == set(DAGS), log[-4000:]
    yield {"runs": runs, "log": log, "db": db, "not_after": not_after, "https": https}
    server.shutdown()
    server.server_close()


def run_dag(setup, dag_id: str) -> tuple[dict, str]:
    """The DAG's run (state, each task's state and tries) and the log of the module's runs."""
    return setup["runs"][dag_id], setup["log"]


def one_line(log: str, start: str) -> str:
    """The task log's error line: as the platform wrote it, one line, no traceback in it."""
    lines = [x for x in log.splitlines() if start in x and "[error" in x]
    assert lines, log[-4000:]
    line = lines[0][lines[0].index(start) :]
    assert "Traceback" not in line and 'File "' not in line, line
    return line


def warning(setup, key: str) -> tuple:
    with psycopg.connect(setup["db"]) as c:
        rows = c.execute(
            "select status, title, detail, advice, recipients from quality.warnings"
            " where warning_key = %s",
            [key],
        ).fetchall()
    assert len(rows) == 1, (key, rows)
    return rows[0]


def collectors_told(recipients: list[dict], *names: str) -> None:
    told = {p["name"] for p in recipients if "数据采集员" in p["role"]}
    assert set(names) <= told, (names, recipients)


def failed_in_one_try(run: dict) -> None:
    assert run["state"] == "failed"
    pulls = {t: v for t, v in run["tis"].items() if t != "submission"}
    assert pulls and all(v == ["failed", 1] for v in pulls.values()), run["tis"]


def test_wrong_credentials_fail_at_once_and_warn(setup):
    run, log = run_dag(setup, "collect__assets")
    failed_in_one_try(run)
    line = one_line(log, "资产管理系统（assets）的 Airflow 连接 xiaoben_assets 的登录名/密码被")
    assert "Bad client credentials" in line and "wrong-secret" not in log
    assert "管理 → 连接 修改 xiaoben_assets 的登录名与密码" in line
    status, title, detail, advice, recipients = warning(setup, "connection|assets|xiaoben_assets")
    assert status == "open" and "资产管理系统" in title and line.startswith(detail)
    assert "修改 xiaoben_assets 的登录名与密码" in advice
    collectors_told(recipients, "贺伟")


def test_an_unknown_connection_id_fails_at_once_and_warns(setup):
    run, log = run_dag(setup, "collect__employment")
    failed_in_one_try(run)
    line = one_line(log, "就业管理系统（employment）的 Airflow 连接 xiaoben_employmnet 未配置")
    assert "管理 → 连接 中添加 xiaoben_employmnet" in line
    assert "改 connectors/subsystems/employment.yml 的 api.connection" in line
    status, *_, recipients = warning(setup, "connection|employment|xiaoben_employmnet")
    assert status == "open"
    assert any("数据采集员" in p["role"] for p in recipients)


def test_an_expired_certificate_fails_at_once_with_its_date_and_warns(setup):
    from include.rules.dates import TZ

    run, log = run_dag(setup, "collect__campus_card")
    failed_in_one_try(run)
    date = setup["not_after"].astimezone(TZ).strftime("%Y-%m-%d %H:%M")
    host = setup["https"].removeprefix("https://")
    line = one_line(log, "校园一卡通（campus_card）的 Airflow 连接 xiaoben_campus_card 的主机")
    assert f"的主机 {host} 的 HTTPS 证书已于 {date} 过期：请源系统管理员更新证书" in line
    status, _, detail, advice, recipients = warning(
        setup, "connection|campus_card|xiaoben_campus_card"
    )
    assert status == "open" and line.startswith(detail) and "更新证书" in advice
    assert any("数据采集员" in p["role"] for p in recipients)


def test_an_invalid_subsystem_file_fails_at_once_and_warns_its_collectors(setup):
    run, log = run_dag(setup, "collect__oa")
    assert run["state"] == "failed"
    assert run["tis"] == {"fix_the_subsystem_file": ["failed", 1]}
    line = one_line(log, "子系统文件有误，请修正后再采集")
    assert "oa.yml: schedule.cron: '61 */4 * * *'" in line and " — " in line
    status, title, detail, advice, recipients = warning(setup, "config|oa")
    assert status == "open" and "OA办公系统" in title and "oa.yml" in detail
    assert "./run registry check" in advice
    collectors_told(recipients, "陈思远")  # the file's own collectors, read from the broken file
    qas = {p["department"] for p in recipients if "质量管理员" in p["role"]}
    assert "党政办" in qas  # and the quality administrator of the department it names


def test_an_unreachable_host_is_retried_then_fails_with_one_line_and_warns(setup):
    """Transient: each pull is tried 1 + retries times with Airflow's back-off (1 min, 2 min);
    only the last try warns."""
    run, log = run_dag(setup, "collect__finance")
    assert run["state"] == "failed"
    pulls = {t: v for t, v in run["tis"].items() if t != "submission"}
    assert pulls and all(v == ["failed", 3] for v in pulls.values()), run["tis"]
    line = one_line(log, "财务管理系统（finance）的 Airflow 连接 xiaoben_finance 的主机")
    assert "无法连接（连接被拒绝 (connection refused)，共尝试 2 次）" in line
    retried = [x for x in log.splitlines() if "xiaoben_finance 的主机" in x and "[error" in x]
    assert any("稍后自动重试" in x for x in retried)  # the earlier tries said so
    status, _, detail, advice, recipients = warning(setup, "connection|finance|xiaoben_finance")
    assert status == "open" and "主机地址与端口" in advice and "稍后自动重试" not in detail
    assert any("数据采集员" in p["role"] for p in recipients)


def test_the_other_subsystems_still_collect(setup):
    run, _ = run_dag(setup, "collect__decision")
    assert run["state"] == "success", run
    with psycopg.connect(setup["db"]) as c:
        landed = c.execute("select count(*) from raw_decision.base_data").fetchone()[0]
    assert landed > 0
