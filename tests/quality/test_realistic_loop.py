"""The realistic college's held batch, end to end: the real collector pulls the asset register
from the realistic sandbox over HTTP, a blocking check holds the batch, the platform mails the
quality administrator, who (played by `sandbox.staff`) reads the mail and releases the batch
through the 放行暂扣批次 DAG (run by Airflow in a child process, `dag.test`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import psycopg
import pytest

from include import settings
from include.quality import digest, holds, report, verify, warnings

from .conftest import fresh_database

pytestmark = pytest.mark.slow

RUN_DAG = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag

dag = DagBag(dag_folder=sys.argv[1]).dags[sys.argv[2]]
run = dag.test(run_conf=json.loads(sys.argv[3]))
print(json.dumps({"state": str(run.state)}))
"""


@pytest.fixture(scope="module")
def campus():
    from sandbox import Sandbox
    from sandbox.server import make_server

    sb = Sandbox(seed=2026, scale=300, days=14, profile="realistic")
    server = make_server(sb, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield sb, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _dag_test(tmp_path, url: str, dag_id: str, conf: dict) -> dict:
    """Run one DAG with `conf` in a child Airflow (own home, SQLite metadata) on the test DB."""
    home = tmp_path / "airflow"
    home.mkdir(exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_")) and k != "AIRFLOW_HOME"
    }
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.DAGS_DIR),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "PYTHONPATH": str(settings.ROOT),
        "XIAOBEN_DATABASE_URL": url,
    })  # fmt: skip
    migrate = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    run = subprocess.run(
        [sys.executable, "-c", RUN_DAG, str(settings.DAGS_DIR / "quality_release.py"), dag_id,
         json.dumps(conf, ensure_ascii=False)],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_held_batch_is_mailed_and_released_by_its_quality_administrator(
    warehouse_url, campus, catcher, tmp_path
):
    from connectors.client import Credentials
    from connectors.collect import collect
    from sandbox import staff

    sb, base = campus
    url = fresh_database(warehouse_url, "quality_loop_test")
    key, secret = sb.credentials("assets")
    pulled = collect(
        "assets", "assets", mode="full",
        credentials=Credentials(f"{base}/assets", key, secret), db_url=url,
    )  # fmt: skip
    assert pulled["status"] == "success"
    audit = verify.run("raw", "landing", url=url, datasets=["raw_assets.assets"])
    assert audit["held"] == [pulled["pull_id"]]
    warnings.sync_data_warnings(audit["run_id"], url)
    digest.send_digests(url=url)

    held = staff.held_in_mail(catcher.directory)
    assert list(held) == [pulled["pull_id"]]
    by = held[pulled["pull_id"]]
    result = _dag_test(
        tmp_path, url, "quality_release",
        {"pull_id": pulled["pull_id"], "reason": staff.REASON, "by": by},
    )  # fmt: skip
    assert result["state"].endswith("success")
    hold = next(h for h in holds.list_holds(url) if h["pull_id"] == pulled["pull_id"])
    assert hold["release_kind"] == "accepted" and by in hold["released_by"]
    with psycopg.connect(url) as conn:  # the audit trail: who, and as which Airflow account
        trail = conn.execute(
            "select actor, detail ->> 'airflow_user', dag_id from audit.events where object = %s",
            [f"quality.holds/{pulled['pull_id']}"],
        ).fetchall()
    assert trail == [(by, "dag_test", "quality_release")]  # dag.test() triggers as dag_test

    day = hold["held_at"].astimezone(digest.TZ).date()
    text = report.format_report(
        "assets", day, report.what_was_wrong("assets", day, url), [],
        report.holds_on("assets", day, url),
    )  # fmt: skip
    assert f"暂扣批次 {pulled['pull_id']}" in text and "质量管理员接受" in text and by in text
    assert "同一批次中同一源记录键只出现一次" in text and "已通知" in text  # check, who was told
    figures = report.summary(url)
    assert figures["holds"] == {"held": 1, "released": 1, "open": 0}
    assert isinstance(figures["rejects"], dict)  # the asset register at this scale: none
    assert figures["warnings"]["opened"] >= 1


def test_a_wrong_person_or_number_fails_the_release_at_once(warehouse_url, tmp_path):
    url = fresh_database(warehouse_url, "quality_loop_wrong")
    result = _dag_test(
        tmp_path, url, "quality_release",
        {"pull_id": 999999, "reason": "试试", "by": "nobody@hngy.example.cn"},
    )  # fmt: skip
    assert result["state"].endswith("failed")


def test_a_run_nobody_filled_in_does_nothing(warehouse_url, tmp_path):
    """Running every DAG once (the demo's in-process path) must not fail the human ones."""
    url = fresh_database(warehouse_url, "quality_loop_empty")
    for dag_id in ("quality_release", "quality_acknowledge"):
        assert _dag_test(tmp_path, url, dag_id, {})["state"].endswith("success")
