"""DAG integrity (Astro style): every DAG file imports, every DAG is owned, tagged, retried and
documented, and every subsystem file with an `api:` section has its `collect__<id>` DAG.

The DagBag is filled in a child process whose environment (a temporary AIRFLOW_HOME with a
migrated SQLite metadata database) is set before Airflow is imported, so the test neither
depends on nor disturbs whatever Airflow configuration the rest of the session uses.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from include import settings
from include.registry import registry

DAG_FILES = sorted(p for p in settings.DAGS_DIR.glob("*.py") if not p.name.startswith("_"))
WITH_API = sorted(sid for sid, s in registry().subsystems.items() if s.api is not None)

LOAD = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
out = {"import_errors": {str(k): v for k, v in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in bag.dags.items():
    out["dags"][dag_id] = {
        "fileloc": dag.fileloc,
        "owner": dag.owner,
        "tags": sorted(dag.tags or []),
        "retries": {t.task_id: t.retries for t in dag.tasks},
        "doc_md": dag.doc_md or "",
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "timetable": type(dag.timetable).__name__,
        "cron": getattr(dag.timetable, "expression", None),
        "timezone": str(getattr(dag.timetable, "timezone", "")),
        "tasks": sorted(t.task_id for t in dag.tasks),
        "outlets": {t.task_id: [[o.name, o.uri] for o in t.outlets] for t in dag.tasks},
    }
print("DAGBAG " + json.dumps(out, ensure_ascii=False))
"""


def load_dagbag(env: dict[str, str], home: Path) -> dict:
    """Migrate a SQLite metadata DB under `home`, then fill a DagBag from dags/ and describe it."""
    airflow = Path(sys.executable).with_name("airflow")
    if not (home / "airflow.db").exists():
        migrate = subprocess.run(
            [str(airflow), "db", "migrate"], env=env, capture_output=True, text=True, timeout=300
        )
        assert migrate.returncode == 0, migrate.stderr[-3000:]
    run = subprocess.run(
        [sys.executable, "-c", LOAD, str(settings.DAGS_DIR)],
        env=env, capture_output=True, text=True, timeout=300, cwd=settings.ROOT,
    )  # fmt: skip
    lines = [x for x in run.stdout.splitlines() if x.startswith("DAGBAG ")]
    assert run.returncode == 0 and lines, run.stderr[-3000:]
    return json.loads(lines[-1].removeprefix("DAGBAG "))


@pytest.fixture(scope="session")
def dagbag(tmp_path_factory, airflow_env) -> dict:
    home = tmp_path_factory.mktemp("airflow_home")
    return load_dagbag(airflow_env(home), home)


@pytest.mark.parametrize("path", DAG_FILES, ids=[p.name for p in DAG_FILES])
def test_file_imports(dagbag, path):
    errors = {k: v for k, v in dagbag["import_errors"].items() if Path(k).name == path.name}
    assert not errors, f"{path.name} failed to import:\n{next(iter(errors.values()), '')}"


def test_no_import_errors(dagbag):
    assert dagbag["import_errors"] == {}


def test_every_dag_is_tagged_retried_documented_and_owned(dagbag):
    problems = []
    for dag_id, d in sorted(dagbag["dags"].items()):
        if not d["tags"]:
            problems.append(f"{dag_id}: no tags")
        if not d["doc_md"].strip():
            problems.append(f"{dag_id}: no doc_md")
        low = {t: r for t, r in d["retries"].items() if r < 2}
        if low:
            problems.append(f"{dag_id}: retries < 2 for {low}")
        if not d["owner"] or d["owner"] == "airflow":
            problems.append(f"{dag_id}: owner is the default '{d['owner']}'")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("sid", WITH_API)
def test_collect_dag_follows_its_subsystem_file(dagbag, sid):
    s = registry().subsystems[sid]
    d = dagbag["dags"].get(f"collect__{sid}")
    assert d is not None, f"{s.source_file.name} has an api section but no collect__{sid} DAG"
    assert d["owner"] == s.owner  # the managing departments (Article 7)
    assert {"collect", sid, s.name_zh} <= set(d["tags"])
    assert (d["cron"], d["timezone"]) == (s.cron, s.timezone)
    assert d["catchup"] is False and d["max_active_runs"] == 1
    assert s.name_zh in d["doc_md"] and s.content in d["doc_md"]
    for dept in s.managing_departments:
        assert dept in d["doc_md"]
    landed = s.api.landed
    assert d["tasks"] == sorted([*landed, "submission"])  # 报送及时性 runs after every pull
    warnings_asset = ["quality.warnings", "postgres://warehouse:5432/xiaoben/quality/warnings"]
    assert d["outlets"]["submission"] == [warnings_asset]
    for name in landed:
        assert d["outlets"][name] == [
            [f"raw_{sid}.{name}", f"postgres://warehouse:5432/xiaoben/raw_{sid}/{name}"]
        ]
