"""Article 6: adding a 15th subsystem is adding one YAML file.

A copy of the registry gets a new file `library.yml` (the sandbox's decision API plays the
library system behind it). With no code change: its DAG appears, configured from the file;
a pull creates `raw_library` and its table and writes its run-log row.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import psycopg
import pytest
import yaml

from connectors.collect import collect
from include import settings

LOAD = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
d = bag.dags.get("collect__library")
print("DAG " + json.dumps(None if d is None else {
    "owner": d.owner, "tags": sorted(d.tags), "tasks": [t.task_id for t in d.tasks],
    "cron": d.timetable.expression, "doc": d.doc_md, "errors": list(bag.import_errors),
    "outlets": [o.name for t in d.tasks for o in t.outlets],
}, ensure_ascii=False))
"""


@pytest.fixture
def registry_with_library(tmp_path):
    folder = tmp_path / "subsystems"
    shutil.copytree(settings.SUBSYSTEMS_DIR, folder)
    data = yaml.safe_load((folder / "decision.yml").read_text(encoding="utf-8"))
    data.update(
        id="library",
        name_zh="图书管理系统",
        name_en="Library system",
        content="馆藏与借阅统计",
        managing_departments=["图书馆"],
        organising_departments=["图书馆"],
        schedule={"cron": "0 6 * * *", "timezone": "Asia/Shanghai"},
    )
    data["collectors"] = [{"role": "图书馆工作人员", "department": "图书馆"}]
    data["api"]["connection"] = "xiaoben_library"
    (folder / "library.yml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return folder


def test_a_fifteenth_subsystem_needs_only_its_yaml_file(
    registry_with_library, campus, db, monkeypatch, tmp_path
):
    key, secret = campus.sandbox.credentials("decision")
    conn = {"conn_type": "http", "host": f"{campus.base}/decision", "login": key,
            "password": secret}  # fmt: skip
    monkeypatch.setenv("XIAOBEN_SUBSYSTEMS_DIR", str(registry_with_library))
    monkeypatch.setenv("AIRFLOW_CONN_XIAOBEN_LIBRARY", json.dumps(conn))
    campus.faults()

    # its DAG, from the factory, configured from the file
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update(AIRFLOW_HOME=str(tmp_path / "airflow"), AIRFLOW__CORE__LOAD_EXAMPLES="False",
               PYTHONPATH=str(settings.ROOT))  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-c", LOAD, str(settings.DAGS_DIR)],
        env=env, capture_output=True, text=True, timeout=300, cwd=settings.ROOT,
    )  # fmt: skip
    line = next((x for x in run.stdout.splitlines() if x.startswith("DAG ")), "DAG null")
    dag = json.loads(line.removeprefix("DAG "))
    assert dag is not None, run.stderr[-2000:]
    assert dag["owner"] == "图书馆" and "图书管理系统" in dag["tags"]
    assert dag["cron"] == "0 6 * * *" and dag["tasks"] == ["base_data", "submission"]
    assert dag["outlets"] == ["raw_library.base_data", "quality.warnings"]  # + 报送及时性
    assert "馆藏与借阅统计" in dag["doc"]

    # its raw schema, table and run log, on the first pull
    result = collect("library", "base_data", db_url=db)
    assert result["status"] == "success" and result["subsystem"] == "library"
    assert result["landed"] == len(campus.sandbox.truth("decision", "base_data"))
    with psycopg.connect(db) as c:
        assert c.execute("select count(*) from raw_library.base_data").fetchone()[0] > 0
        row = c.execute(
            "select status, fetched, landed from landing.run_log where subsystem = 'library'"
        ).fetchone()
        assert row == ("success", result["fetched"], result["landed"])
        comment = c.execute("select obj_description('raw_library.base_data'::regclass)")
        assert "图书管理系统" in comment.fetchone()[0]
