"""A broken subsystem file breaks only itself (issue 9).

Five typical mistakes, one per file: `./run registry check` refuses each with one line naming
the file and the field, and parsing `dags/` (a real DagBag, in a child process) still yields
every other subsystem's collection DAG, `quality__landing` and `warehouse`; the broken file's
DAG is built as one that fails at once with that line.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from include import settings

# file, the text to break, the broken text, the field the one-line error must name
BREAKS = {
    "unknown pagination type": (
        "finance.yml", "type: page_number", "type: page_numbr", "pagination.type"),
    "bad cron": ("oa.yml", 'cron: "', 'cron: "61 ', "schedule.cron"),
    "unknown department": (
        "research.yml", "managing_departments: [科研处", "managing_departments: [科研部",
        "managing_departments"),
    "missing primary key": (
        "academic.yml", "      primary_key: [xh]\n", "", "api.resources.students.primary_key"),
    "unknown code set": (
        "campus_card.yml", "code_set: card_customer_type_codes", "code_set: card_customer_typ",
        "fields.CustType.code_set"),
}  # fmt: skip


def _copy(tmp: Path, *breaks: str) -> Path:
    folder = tmp / "subsystems"
    shutil.copytree(settings.SUBSYSTEMS_DIR, folder)
    for name in breaks:
        file, old, new, _ = BREAKS[name]
        text = (folder / file).read_text(encoding="utf-8")
        assert old in text, f"{file} no longer contains {old!r}: update this test"
        (folder / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def _check(folder: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "XIAOBEN_SUBSYSTEMS_DIR": str(folder)}
    return subprocess.run(
        [str(settings.ROOT / "run"), "registry", "check"],
        capture_output=True, text=True, cwd=settings.ROOT, env=env, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("mistake", BREAKS)
def test_registry_check_refuses_each_mistake_in_one_line(tmp_path, mistake):
    file, _, _, field = BREAKS[mistake]
    out = _check(_copy(tmp_path, mistake))
    assert out.returncode != 0
    errors = [line for line in out.stderr.splitlines() if "registry error" in line]
    assert len(errors) == 1, out.stderr
    assert re.search(rf"{re.escape(file)}: \S*{re.escape(field)}: .+ — .+", errors[0]), errors[0]


LOAD = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
out = {"errors": {str(k): v for k, v in bag.import_errors.items()},
       "dags": {d: dag.description for d, dag in bag.dags.items()}, "fails": {}}
for d, dag in bag.dags.items():
    if dag.has_task("fix_the_subsystem_file"):  # the broken file's DAG: run its one task
        task = dag.get_task("fix_the_subsystem_file")
        try:
            task.python_callable(**task.op_kwargs)
        except Exception as exc:
            out["fails"][d] = [type(exc).__name__, str(exc), task.retries]
print("DAGBAG " + json.dumps(out, ensure_ascii=False))
"""


def test_the_dag_folder_builds_every_other_subsystem(tmp_path, airflow_env):
    folder = _copy(tmp_path, *BREAKS)
    env = airflow_env(tmp_path / "airflow", {"XIAOBEN_SUBSYSTEMS_DIR": str(folder)})
    run = subprocess.run(
        [sys.executable, "-c", LOAD, str(settings.DAGS_DIR)],
        env=env, capture_output=True, text=True, timeout=300, cwd=settings.ROOT,
    )  # fmt: skip
    line = next((x for x in run.stdout.splitlines() if x.startswith("DAGBAG ")), None)
    assert line, run.stderr[-3000:]
    bag = json.loads(line.removeprefix("DAGBAG "))
    assert bag["errors"] == {}
    broken = {BREAKS[m][0].removesuffix(".yml") for m in BREAKS}
    ids = {p.stem for p in settings.SUBSYSTEMS_DIR.glob("*.yml")}
    for sid in ids - broken:
        assert f"collect__{sid}" in bag["dags"], sid
        assert "有误" not in bag["dags"][f"collect__{sid}"]
    for mistake, (file, _, _, field) in BREAKS.items():  # a DAG that fails at once, saying why
        sid = file.removesuffix(".yml")
        assert file in bag["dags"][f"collect__{sid}"], bag["dags"][f"collect__{sid}"]
        kind, message, retries = bag["fails"][f"collect__{sid}"]
        assert kind == "AirflowFailException" and retries == 0, mistake
        assert f"{file}: " in message and field in message and " — " in message, message
    assert set(bag["fails"]) == {f"collect__{sid}" for sid in broken}
    assert {"quality__landing", "warehouse"} <= set(bag["dags"])
