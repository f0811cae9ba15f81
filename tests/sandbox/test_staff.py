"""The quality administrator played by the sandbox: reads the platform's hold mail and asks
Airflow's REST API (a real api-server, own home and SQLite metadata) to release the batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import date, datetime

import pytest
import requests

from include import mail, settings
from include.quality import digest

pytestmark = pytest.mark.slow
QA = "huang.xiaoyan@hngy.example.cn"


def _hold_mail(folder, to: str, role: str, pull_id: int) -> None:
    now = datetime(2026, 9, 22, 8, 30, tzinfo=digest.TZ)
    warning = {
        "warning_id": 7, "kind": "data", "warning_key": "data|raw_assets.assets|duplicate_key",
        "check_key": "duplicate_key", "severity": "未通过", "principle": "原始性",
        "title": "资产管理系统·资产卡片：同一批次中同一记录出现多次", "advice": "请核实",
        "detail": f"采集批次：{pull_id}，已暂扣，不进入数据集市", "status": "open",
        "due_at": now, "opened_at": now, "sample_keys": ["ZC20000251"], "failing_count": 1,
        "escalated_to_me": False, "pull_ids": [pull_id],
    }  # fmt: skip
    person = {"name": "黄晓燕", "role": role, "email": to}
    subject, text, html = digest.render(person, [warning], date(2026, 9, 22))
    msg = mail.build_message([(person["name"], to)], subject, text, html)
    (folder / f"{to}.eml").write_bytes(msg.as_bytes())


def test_the_mail_names_the_held_batch_for_its_quality_administrator(tmp_path):
    from sandbox import staff

    _hold_mail(tmp_path, QA, "质量管理员", 42)
    _hold_mail(tmp_path, "collector@hngy.example.cn", "数据采集员（资产管理员）", 43)
    assert staff.held_in_mail(tmp_path) == {42: QA}  # a collector may not release


def test_each_quality_administrator_acknowledges_the_first_open_warning_of_their_mail(tmp_path):
    from sandbox import staff

    _hold_mail(tmp_path, QA, "质量管理员", 42)
    _hold_mail(tmp_path, "collector@hngy.example.cn", "数据采集员（资产管理员）", 43)
    assert staff.open_warnings_in_mail(tmp_path) == {7: QA}  # the collector's mail is not theirs


@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow_api")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_")) and k != "AIRFLOW_HOME"
    }
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.DAGS_DIR / "quality_release.py"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "quality:admin",
        "PYTHONPATH": str(settings.ROOT),
    })  # fmt: skip
    airflow = [sys.executable, "-m", "airflow"]
    for args in (["db", "migrate"], ["dags", "reserialize"]):
        done = subprocess.run(airflow + args, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (home / "api.log").open("w")
    proc = subprocess.Popen(
        [*airflow, "api-server", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/api/v2/monitor/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(1)
        else:
            pytest.fail((home / "api.log").read_text()[-2000:])
        passwords = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())
        yield base, "quality", passwords["quality"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_release_is_triggered_through_the_rest_api(api_server, tmp_path):
    from sandbox import staff

    base, user, password = api_server
    _hold_mail(tmp_path, QA, "质量管理员", 42)
    released = staff.release_held_batches(base, user, password, tmp_path)
    assert [(r["pull_id"], r["by"]) for r in released] == [(42, QA)]
    token = requests.post(
        f"{base}/auth/token", json={"username": user, "password": password}, timeout=10
    ).json()["access_token"]
    run = requests.get(
        f"{base}/api/v2/dags/quality_release/dagRuns/{released[0]['dag_run_id']}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    assert run["conf"] == {"pull_id": 42, "reason": staff.REASON, "by": QA}
