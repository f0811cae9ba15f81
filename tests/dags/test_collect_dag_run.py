"""A collection DAG run end to end through Airflow (`dag.test()`, as the main job runs it).

The sandbox serves on a loopback port; the task reads its credentials from the Airflow
connection `xiaoben_campus_card` (an AIRFLOW_CONN_ variable, as the main job sets it), pulls,
lands in a fresh database and leaves run-log rows that name the DAG and the run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from include import settings
from include.warehouse import connection

pytestmark = pytest.mark.slow

RUN = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder=sys.argv[1]).dags[sys.argv[2]]
run = dag.test()
print("RUN " + json.dumps({"state": str(run.state)}))
"""


@pytest.fixture(scope="module")
def sandbox_url():
    from sandbox import Sandbox
    from sandbox.server import make_server

    sb = Sandbox(seed=2026, scale=300, start="2026-09-01", days=21)
    server = make_server(sb, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield sb, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def dag_db(warehouse_url) -> str:
    from include.warehouse.bootstrap import ensure_roles, prepare_database

    name = "collect_dag_run_test"
    with psycopg.connect(connection.with_db(warehouse_url, "postgres"), autocommit=True) as c:
        c.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
        c.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = connection.with_db(warehouse_url, name)
    with psycopg.connect(url, autocommit=True) as c:
        ensure_roles(c)
        prepare_database(c)
    return url


def migrate(env: dict) -> None:
    """A fresh Airflow metadata DB (SQLite) in the child environment's AIRFLOW_HOME."""
    airflow = Path(sys.executable).with_name("airflow")
    out = subprocess.run([str(airflow), "db", "migrate"], env=env, capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]


def test_collect_dag_runs_every_task_and_logs_each_pull(sandbox_url, dag_db, tmp_path, airflow_env):
    sb, base = sandbox_url
    key, secret = sb.credentials("campus_card")
    conn = {"conn_type": "http", "host": f"{base}/campus_card", "login": key, "password": secret}
    home = tmp_path / "airflow"
    env = airflow_env(home, {
        "AIRFLOW_CONN_XIAOBEN_CAMPUS_CARD": json.dumps(conn),
        "XIAOBEN_DATABASE_URL": dag_db,
    })  # fmt: skip
    migrate(env)
    run = subprocess.run(
        [sys.executable, "-c", RUN, str(settings.DAGS_DIR), "collect__campus_card"],
        env=env, capture_output=True, text=True, timeout=600, cwd=settings.ROOT,
    )  # fmt: skip
    line = next((x for x in run.stdout.splitlines() if x.startswith("RUN ")), None)
    assert line and json.loads(line[4:])["state"] == "success", (run.stdout + run.stderr)[-4000:]
    with psycopg.connect(dag_db) as c:
        rows = c.execute(
            "select resource, dag_id, run_id, status, fetched, landed, duplicates, rejected"
            " from landing.run_log order by resource"
        ).fetchall()
        landed = c.execute("select count(*) from raw_campus_card.transactions").fetchone()[0]
    assert [r[0] for r in rows] == ["accounts", "merchants", "transactions"]
    for _, dag_id, run_id, status, fetched, *counts in rows:
        assert dag_id == "collect__campus_card" and run_id and status == "success"
        assert fetched == sum(counts)
    assert landed == len(sb.truth("campus_card", "transactions"))


def test_a_late_system_is_a_timeliness_warning_not_a_failure(
    sandbox_url, dag_db, tmp_path, airflow_env
):
    """科研管理系统 answers 503 「数据尚未报送」: its pulls end at once (no retries, logged as
    not_submitted), the run still succeeds, and `submission` opens one warning to the
    collectors with the vendor's words; once the data is submitted the next run resolves it."""
    sb, base = sandbox_url
    key, secret = sb.credentials("research")
    conn = {"conn_type": "http", "host": f"{base}/research", "login": key, "password": secret}
    env = airflow_env(tmp_path / "airflow", {
        "AIRFLOW_CONN_XIAOBEN_RESEARCH": json.dumps(conn),
        "XIAOBEN_DATABASE_URL": dag_db,
    })  # fmt: skip
    migrate(env)

    def run_dag(expected: str = "success", **extra: str) -> None:
        out = subprocess.run(
            [sys.executable, "-c", RUN, str(settings.DAGS_DIR), "collect__research"],
            env={**env, **extra}, capture_output=True, text=True, timeout=600, cwd=settings.ROOT,
        )  # fmt: skip
        line = next((x for x in out.stdout.splitlines() if x.startswith("RUN ")), None)
        state = json.loads(line[4:])["state"] if line else None
        assert state == expected, (out.stdout + out.stderr)[-4000:]

    def warnings() -> list[tuple]:
        with psycopg.connect(dag_db) as c:
            return c.execute(
                "select status, title, detail, advice, jsonb_array_length(recipients)"
                " from quality.warnings where warning_key = 'not_submitted|research'"
            ).fetchall()

    sb.set_late("research", 1)
    try:
        run_dag()
    finally:
        sb.set_late(None)
    with psycopg.connect(dag_db) as c:
        late = c.execute(
            "select status, error, fetched from landing.run_log where subsystem = 'research'"
        ).fetchall()
    assert late and all(s == "not_submitted" and "数据尚未报送" in e and n == 0 for s, e, n in late)
    [(status, title, detail, advice, recipients)] = warnings()
    assert status == "open" and "科研管理系统" in title and "尚未报送" in title
    assert "数据尚未报送" in detail and "Airflow" in advice and recipients > 0

    run_dag()  # the data is in: the next pull gets through and the warning is resolved
    with psycopg.connect(dag_db) as c:
        statuses = c.execute(
            "select status, count(*) from landing.run_log where subsystem = 'research'"
            " group by status order by status"
        ).fetchall()
    assert dict(statuses) == {"not_submitted": len(late), "success": len(late)}
    assert [w[0] for w in warnings()] == ["resolved"]
    # the timeliness task never hides a failure: refused credentials still fail the run
    refused = json.dumps({**conn, "password": "wrong-secret"})
    run_dag("failed", AIRFLOW_CONN_XIAOBEN_RESEARCH=refused)
