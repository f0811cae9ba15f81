"""The warehouse DAG's build (`include/warehouse/build.py`): one `dbt build`, per-model results
as Asset events, and a retry that rebuilds only what failed (`dbt retry`).

Real dbt and PostgreSQL, on a copy of the session's built campus (tests/warehouse/conftest.py):
a raw department record without its code makes a staging test fail, so the build fails in one
line naming it and dbt skips what that model feeds; once the record is gone, attempt 2 runs
`dbt retry`, which rebuilds exactly those nodes, and every Asset's event says success.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import psycopg
import pytest
from airflow.sdk.exceptions import AirflowException
from airflow.sdk.execution_time.context import OutletEventAccessors
from psycopg import sql

from include import orchestrate, settings
from include.warehouse import build, connection
from tests.dags.conftest import airflow_environment
from tests.warehouse.conftest import DB

COPY = "xiaoben_build_test"
BAD_TEST = "not_null_stg_academic__departments_org_unit_code"


@pytest.fixture
def copy_url(campus, warehouse_url):
    admin = connection.with_db(warehouse_url, "postgres")
    drop = sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(COPY))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(drop)
        create = sql.SQL("create database {} template {}")
        conn.execute(create.format(sql.Identifier(COPY), sql.Identifier(DB)))
    yield connection.with_db(warehouse_url, COPY)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(drop)


def test_every_intermediate_model_mart_and_snapshot_is_an_asset():
    manifest = build._manifest()
    expected = {
        uid
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] in ("model", "snapshot")
        and n["schema"] in ("intermediate", "marts", "snapshots")
    }
    assert set(build.asset_nodes(manifest)) == expected
    assets = {a.name: a.uri for a in build.assets(manifest)}
    assert len(assets) == len(expected) > 40
    assert assets["marts.dim_students"] == "postgres://warehouse:5432/xiaoben/marts/dim_students"
    assert "marts" not in assets  # the layer's own Asset is separate (the DAG's outlet too)


def test_a_failed_node_fails_in_one_line_and_the_retry_rebuilds_only_what_it_fed(
    copy_url, tmp_path
):
    with psycopg.connect(copy_url, autocommit=True) as conn:
        conn.execute(
            "insert into raw_academic.departments (pull_id, fetched_at, source_key, payload_hash,"
            " payload) select pull_id, fetched_at, 'no-code', 'no-code', payload - 'jgdm'"
            " from raw_academic.departments limit 1"
        )
    log: list[str] = []
    with pytest.raises(AirflowException) as failed:
        build.run("test", 1, say=log.append, url=copy_url, target=tmp_path)
    message = str(failed.value)
    assert "\n" not in message and BAD_TEST in message and "数据仓库构建失败" in message
    # dbt's lines reach the log one by one, so the demo's progress line can name the node
    assert re.fullmatch(r"dbt \d+/\d+ \S+", orchestrate.dbt_progress("\n".join(log)))
    first = build.results(tmp_path)
    bad = next(uid for uid in first if f".{BAD_TEST}." in uid)
    assert first[bad]["status"] == "fail"
    redo = {uid for uid, r in first.items() if r["status"] in ("fail", "error", "skipped")}
    assert any(uid.startswith("model.xiaoben.") for uid in redo)  # what the model fed was skipped
    assert len(redo) < len(first) / 2

    with psycopg.connect(copy_url, autocommit=True) as conn:
        conn.execute("delete from raw_academic.departments where source_key = 'no-code'")
    events = OutletEventAccessors()
    out = build.run("test", 2, outlet_events=events, say=log.append, url=copy_url, target=tmp_path)
    assert "dbt retry --target-path" in "\n".join(log)
    again = {uid for uid in build.results(tmp_path) if not uid.startswith("operation.")}
    assert again == redo  # only the failed and skipped nodes ran again (and the project hooks)
    assert {r["status"] for r in out["models"].values()} == {"success"}
    event = events[build.asset("marts", "dim_students")].extra
    assert event["status"] == "success" and event["rows"] > 0 and event["tests_failed"] == []


def test_only_the_latest_runs_dbt_folders_are_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("XIAOBEN_HOME", str(tmp_path))
    for i in range(build.KEEP_RUNS + 3):
        folder = build.target_dir(f"manual__2026-12-0{i % 9}T00:00:{i:02d}+00:00")
        folder.mkdir(parents=True)
        os.utime(folder, (i, i))
    kept = sorted(p.name for p in (tmp_path / "dbt").iterdir())
    assert len(kept) == build.KEEP_RUNS + 1  # the latest ten and the one being made
    assert "manual__2026-12-00T00_00_00_00_00" not in kept
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+", name) for name in kept)


DESCRIBE = r"""
import json, runpy, sys
dag = runpy.run_path(sys.argv[1])["dag"]
print("DAG " + json.dumps({
    "tasks": {t.task_id: [t.retries, sorted(o.name for o in t.outlets)] for t in dag.tasks},
    "schedule": getattr(dag.timetable.asset_condition, "name", None),
    "display": dag.dag_display_name, "doc": dag.doc_md,
}, ensure_ascii=False))
"""


def test_the_dag_is_one_build_task_with_marts_and_every_model_as_outlets(tmp_path):
    run = subprocess.run(
        [sys.executable, "-c", DESCRIBE, str(settings.DAGS_DIR / "warehouse.py")],
        env=airflow_environment(tmp_path), capture_output=True, text=True, timeout=300,
        cwd=settings.ROOT,
    )  # fmt: skip
    line = next((x for x in run.stdout.splitlines() if x.startswith("DAG ")), None)
    assert line, run.stderr[-3000:]
    dag = json.loads(line.removeprefix("DAG "))
    assert list(dag["tasks"]) == ["dbt_build"]
    retries, outlets = dag["tasks"]["dbt_build"]
    assert retries == 2
    assert sorted(outlets) == sorted(["marts", *(a.name for a in build.assets())])
    assert dag["schedule"] == "quality.raw_audited"  # write–audit–publish: after the audit
    assert dag["display"] == "数据仓库构建（dbt 分层模型）"
    assert "dbt retry" in dag["doc"] and "资产" in dag["doc"]
