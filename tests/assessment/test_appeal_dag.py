"""An appeal end to end through the real DAG (Article 16): the year is published, 教务处
contests a flagged fact (its late pulls) by triggering `assessment__appeal`, the run waits in
质管办's decision form, the appealing department's own head cannot decide it (403), 质管办's
quality administrator upholds it through the REST API with a reason, and the run records the
decision, recomputes the year (a new run in the real warehouse), re-renders and re-mails the
report, which shows the appeal."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from include import settings
from include.assessment import tasks
from include.mail import MailCatcher
from sandbox.people_play import THINK_SECONDS, Person
from tests.assessment.conftest import YEAR
from tests.assessment.test_assessment_dag import RUN, _wait_http
from tests.dags.conftest import airflow_environment

pytestmark = pytest.mark.slow

DAG = "assessment__appeal"
FACT = """select f.fact_id, f.score, r.score_b, r.total from assessment.facts as f
join assessment.results as r on r.run_id = f.run_id and r.department = f.department
where f.run_id = %s and f.department = '教务处' and f.scope = 'own'
    and f.indicator = 'pull_on_time_rate'"""
REASON = "10 月 1 日至 7 日为国庆假期，教务系统按校历停止录入，期间无数据可采"
DECISION = "经核实校历与系统停录记录属实，该项采集不计分"


def _pending(person: Person, run: subprocess.Popen, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if run.poll() is not None:  # the run ended before it asked 质管办
            raise AssertionError(run.stdout.read()[-6000:])
        steps = person.pending(dag_id=DAG)
        if steps:
            step = steps[0]
            asked = datetime.fromisoformat(step["created_at"].replace("Z", "+00:00"))
            time.sleep(max(0.0, THINK_SECONDS - (datetime.now(UTC) - asked).total_seconds()))
            return step
        time.sleep(2)
    raise TimeoutError(f"{seconds:g} 秒内没有等待裁决的申诉")


def test_appeal_upheld_through_airflow(college, tmp_path, free_port):
    from include import assessment

    port = free_port()
    users = {"yuan.fang": "pw-qmo", "zhou.lixin": "pw-jwc"}  # 质管办 QA; 教务处 head
    (tmp_path / "passwords.json").write_text(json.dumps(users))
    with MailCatcher(tmp_path / "mail") as catcher:
        with pytest.MonkeyPatch.context() as mp:  # the published year (assessment__yearly's end)
            for key, value in catcher.connection_env().items():
                mp.setenv(key, value)
            first = assessment.produce(YEAR, url=college, folder=tmp_path / "first")
        with psycopg.connect(college) as conn:
            fact_id, score, score_b, total = conn.execute(FACT, (first["run_id"],)).fetchone()
        assert first["sent"] and 0 <= float(score) < 100  # late pulls flagged as evidence

        env = airflow_environment(tmp_path / "airflow", {
            **catcher.connection_env(),
            "XIAOBEN_DATABASE_URL": college,
            "XIAOBEN_HOME": str(tmp_path / "xiaoben"),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:user" for u in users),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(tmp_path / "passwords.json"),
            "AIRFLOW__API__PORT": str(port),
        })  # fmt: skip
        airflow = Path(sys.executable).with_name("airflow")
        migrate = subprocess.run([str(airflow), "db", "migrate"], env=env, capture_output=True,
                                 text=True, timeout=300)  # fmt: skip
        assert migrate.returncode == 0, migrate.stderr[-2000:]
        api = subprocess.Popen(
            [str(airflow), "api-server", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "api.log", "w"),
        )  # fmt: skip
        conf = json.dumps({"fact_id": fact_id, "reason": REASON, "filed_by": "教务处 黄晓燕"})
        run = subprocess.Popen(
            [sys.executable, "-c", RUN, str(settings.DAGS_DIR), DAG, conf],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            cwd=settings.ROOT,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_http(f"{base}/api/v2/version", 180)
            qmo, head = (
                Person(base, "yuan.fang", users["yuan.fang"]),
                Person(base, "zhou.lixin", users["zhou.lixin"]),
            )
            step = _pending(qmo, run, 300)
            run_id, task = step["task_instance"]["dag_run_id"], step["task_instance"]["task_id"]
            assert task == tasks.DECIDE_TASK and str(fact_id) in step["body"]
            assert "yuan.fang" in {u["id"] for u in step["assigned_users"]}
            # the form also shows the run's own parameters, answered with the values they have
            form = {
                k: v.get("value") if isinstance(v, dict) else v for k, v in step["params"].items()
            }
            mine = {**form, "decision_reason": "本部门认为合理"}
            refused = head.answer(DAG, run_id, task, tasks.UPHOLD, params=mine)
            assert refused.status_code == 403  # the appealing department cannot decide
            form["decision_reason"] = DECISION
            decided = qmo.answer(DAG, run_id, task, tasks.UPHOLD, params=form)
            assert decided.status_code == 200, decided.text
            out, _ = run.communicate(timeout=600)
        finally:
            run.kill()
            api.terminate()
            api.wait(timeout=30)
        messages = catcher.messages()
    line = next((x for x in out.splitlines() if x.startswith("RUN ")), None)
    assert line and json.loads(line[4:])["state"] == "success", out[-4000:]

    with psycopg.connect(college, autocommit=True) as conn:
        try:
            appeal = conn.execute(
                "select appeal_id, department, reason, filed_by, decision, decision_reason, "
                "decided_by, decided_at is not null, recomputed_run_id from assessment.appeals "
                "where fact_id = %s",
                (fact_id,),
            ).fetchone()
            rerun = appeal[-1]
            dag_id, html_path, sent = conn.execute(
                "select dag_id, html_path, sent_at is not null from assessment.runs "
                "where run_id = %s",
                (rerun,),
            ).fetchone()
            new_score, new_b, new_total = conn.execute(FACT, (rerun,)).fetchone()[1:]
            (notes,) = conn.execute(
                "select notes from assessment.results where run_id = %s and department = '教务处'",
                (rerun,),
            ).fetchone()
        finally:  # the session's other tests see the year without this appeal
            conn.execute("delete from assessment.appeals where fact_id = %s", (fact_id,))
    assert appeal[1:-1] == (
        "教务处",
        REASON,
        "教务处 黄晓燕",
        "upheld",
        DECISION,
        "yuan.fang",
        True,
    )
    # recomputed: a new run by the appeal DAG, the contested indicator out of 教务处's (b)
    assert rerun > first["run_id"] and dag_id == DAG and sent
    assert new_score is None and float(new_b) > float(score_b) and float(new_total) > float(total)
    assert any("申诉成立" in n for n in notes)
    html = Path(html_path).read_text(encoding="utf-8")
    assert "四、申诉与裁决" in html and REASON in html and DECISION in html
    assert "申诉成立：该指标不计分，已重新计算" in html and "yuan.fang" in html
    assert len(messages) == 2 and messages[1]["X-Xiaoben-Assessment"] == str(rerun)
