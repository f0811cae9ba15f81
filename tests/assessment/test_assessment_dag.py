"""The assessment DAG through Airflow: the run waits in the (a) form, the sandbox's 质管办 answers
it through the REST API (`PATCH …/hitlDetails`), and the run records who entered each score and
when, computes the year and mails the report."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import requests

from include import settings
from include.mail import MailCatcher
from sandbox.assessor import enter_criterion_a
from tests.assessment.conftest import YEAR
from tests.dags.conftest import airflow_environment

pytestmark = pytest.mark.slow

RUN = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder=sys.argv[1]).dags[sys.argv[2]]
run = dag.test(run_conf=json.loads(sys.argv[3]))
print("RUN " + json.dumps({"state": str(run.state)}))
"""


def _wait_http(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(1)
    raise TimeoutError(url)


def test_form_answered_through_rest_api(college, tmp_path, free_port):
    home = tmp_path / "airflow"
    port = free_port()
    with MailCatcher(tmp_path / "mail") as catcher:
        env = airflow_environment(home, {
            **catcher.connection_env(),
            "XIAOBEN_DATABASE_URL": college,
            "XIAOBEN_HOME": str(tmp_path / "xiaoben"),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "qmo_admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(tmp_path / "passwords.json"),
            "AIRFLOW__API__PORT": str(port),
        })  # fmt: skip
        (tmp_path / "passwords.json").write_text(json.dumps({"qmo_admin": "secret-a"}))
        airflow = Path(sys.executable).with_name("airflow")
        migrate = subprocess.run([str(airflow), "db", "migrate"], env=env, capture_output=True,
                                 text=True, timeout=300)  # fmt: skip
        assert migrate.returncode == 0, migrate.stderr[-2000:]
        api = subprocess.Popen(
            [str(airflow), "api-server", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "api.log", "w"),
        )  # fmt: skip
        conf = json.dumps({"academic_year": YEAR})
        run = subprocess.Popen(
            [sys.executable, "-c", RUN, str(settings.DAGS_DIR), "assessment__yearly", conf],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            cwd=settings.ROOT,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_http(f"{base}/api/v2/version", 180)
            answer = enter_criterion_a(
                base,
                {"财务处": 40, "教务处": 92},
                marked_people="财务处：张会计",
                username="qmo_admin",
                password="secret-a",
                wait_seconds=300,
            )
            out, _ = run.communicate(timeout=600)
        finally:
            run.kill()
            api.terminate()
            api.wait(timeout=30)
        messages = catcher.messages()
    assert answer["params_input"]["财务处"] == 40
    line = next((x for x in out.splitlines() if x.startswith("RUN ")), None)
    assert line and json.loads(line[4:])["state"] == "success", out[-4000:]
    assert len(messages) == 1
    with psycopg.connect(college) as conn:
        rows = conn.execute(
            "select department, score, marked_people, entered_by, source from "
            "assessment.manual_scores where airflow_run_id is not null and dag_id = "
            "'assessment__yearly' order by department"
        ).fetchall()
        trail = conn.execute(  # the audit trail: the Airflow user who answered the form
            "select actor, after ->> 'department' from audit.events where action = "
            "'assessment_entry' and dag_id = 'assessment__yearly' order by event_id"
        ).fetchall()
    assert [(d, float(s), list(m), who, src) for d, s, m, who, src in rows] == [
        ("教务处", 92.0, [], "qmo_admin", "hitl"),
        ("财务处", 40.0, ["张会计"], "qmo_admin", "hitl"),
    ]
    assert sorted(trail) == [("qmo_admin", "教务处"), ("qmo_admin", "财务处")]
