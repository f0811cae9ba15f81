"""Done when (issue 11): one correction end to end through the real DAG on the real service.

PostgreSQL, the mail catcher and Airflow's api-server, scheduler, dag-processor and triggerer
are started by the service code (`include/service.py`, as `./run up` does), with only the
correction DAG in the DAGs folder. The sandbox's academic students are landed by the real
collection code. Every human step is answered through the REST API by the assigned user
(`sandbox/people_play.py`); a user who is not assigned gets 403. Then the warehouse build
(dbt) shows the corrected value with its history, and the next pull carrying the corrected
value marks it confirmed at source. A refused, a timed-out and a bad request change nothing.
"""

from __future__ import annotations

import json
import os
import threading
import time

import psycopg
import pytest

from include import airflow_env, service, settings
from sandbox import people_play
from tests.conftest import free_port
from tests.corrections.test_requests import ANNEX1, _land, pdf_text

DAG = "corrections__approve"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    home = tmp_path_factory.mktemp("service_home")
    dags = home / "dags"
    dags.mkdir()
    (dags / "corrections.py").symlink_to(settings.DAGS_DIR / "corrections.py")
    env = {
        "XIAOBEN_HOME": str(home),
        "XIAOBEN_PG_PORT": str(free_port()),
        "XIAOBEN_AIRFLOW_PORT": str(free_port()),
        "XIAOBEN_SMTP_PORT": str(free_port()),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "XIAOBEN_CORRECTION_SOURCE_DAYS": "0",
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        mp.delenv("XIAOBEN_DATABASE_URL", raising=False)
        server = None
        try:
            server = _start(home)
            yield server
        finally:
            service.down(say=lambda _t: None)
            if server is not None:
                server.shutdown()
                server.server_close()


def _start(home):
    from connectors.client import Credentials
    from connectors.collect import collect
    from include.warehouse.bootstrap import bootstrap
    from sandbox import Sandbox
    from sandbox.server import make_server

    url = bootstrap()["warehouse"]
    sandbox = Sandbox(seed=2026, scale=200, start="2026-09-01", days=3)
    server = make_server(sandbox, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    key, secret = sandbox.credentials("academic")
    creds = Credentials(f"{base}/academic", key, secret)
    result = collect("academic", "students", mode="full", credentials=creds, db_url=url)
    assert result["status"] == "success"
    service.migrate()
    service.start_mail()
    conns = service.connections(with_sandbox=False)
    key, secret = sandbox.credentials("dingtalk")  # work notices go to the sandbox's DingTalk
    conns["xiaoben_dingtalk"] = {"conn_type": "http", "host": f"{base}/dingtalk", "login": key,
                                 "password": secret}  # fmt: skip
    service.import_connections(conns)
    service.start_airflow()
    client = service.api()
    deadline = time.monotonic() + 300
    while DAG not in {d["dag_id"] for d in client.dags()}:
        assert not client.import_errors(), client.import_errors()
        assert time.monotonic() < deadline, "dag-processor did not parse dags/corrections.py"
        time.sleep(2)
    client.set_paused(DAG, False)
    client.set_paused("corrections__review", False)
    server.sandbox = sandbox
    return server


def _q(text, params=None):
    from include.warehouse.connection import warehouse_url

    with psycopg.connect(warehouse_url()) as conn:
        return conn.execute(text, params).fetchall()


def _request(key, new="02", field="mzm"):
    return {
        "reporting_department": "教务处", "subsystem": "academic",
        "items": [{"resource": "students", "source_key": key, "field": field, "new_value": new}],
        "reason": "民族码与户口簿不符，依据户口簿更正", "filler_name": "黄晓燕",
        "filler_user": "huang.xiaoyan", "filler_email": "huang.xiaoyan@hngy.example.cn",
    }  # fmt: skip


def _finished(client, run_id):
    return client.run(DAG, run_id)["state"] in ("success", "failed")


def test_one_correction_end_to_end_through_the_service(platform):
    client = service.api()
    sample = "select source_key from raw_academic.students where payload ->> 'mzm' = '01'"
    keys = [r[0] for r in _q(sample + " order by source_key limit 3")]
    good, refused, late = keys

    bad = client.trigger(DAG, {"request": _request(good, new="ZZ")})["dag_run_id"]
    runs = {
        "good": client.trigger(DAG, {"request": _request(good)})["dag_run_id"],
        "refused": client.trigger(DAG, {"request": _request(refused)})["dag_run_id"],
        "late": client.trigger(
            DAG, {"request": _request(late, new="03"), "step_timeout_seconds": 20}
        )["dag_run_id"],
    }
    people = people_play.staff(airflow_env.api_url(), airflow_env.passwords_file())
    assert oct(os.stat(airflow_env.passwords_file()).st_mode & 0o777) == "0o600"

    # A user who is not assigned to the step gets 403 (the department head's step).
    deadline = time.monotonic() + 300
    while not (steps := people["chen.siyuan"].pending(runs["good"], mine=False)):
        assert time.monotonic() < deadline, client.task_instances(DAG, runs["good"])
        time.sleep(2)
    assert steps[0]["assigned_users"] == [{"id": "zhou.lixin", "name": "周立新"}]
    stranger = people["chen.siyuan"].answer(DAG, runs["good"], "department_heads", "同意")
    assert stranger.status_code == 403, stranger.text

    scripts = {
        runs["good"]: people_play.Script(),
        runs["refused"]: people_play.Script(
            refuse={"vice_president": "证明材料不足，请补充户口簿复印件"}
        ),
        runs["late"]: people_play.Script(ignore={"department_heads"}),
    }
    people_play.play(airflow_env.api_url(), airflow_env.passwords_file(), scripts,
                     lambda r: _finished(client, r), seconds=600)  # fmt: skip
    states = {name: client.run(DAG, r)["state"] for name, r in runs.items()}
    assert states == {"good": "success", "refused": "success", "late": "success"}, states
    answered = scripts[runs["good"]].answered
    assert [(t, u) for t, u, _ in answered] == [
        ("department_heads", "zhou.lixin"), ("vice_president", "ouyang.jianhua"),
        ("quality_office", "yuan.fang"),
    ]  # fmt: skip
    assert client.run(DAG, bad)["state"] == "failed"  # refused before any approval started
    assert "不在 GB 3304" in client.log(DAG, bad, "submit")

    status = dict(_q("select r.dag_run_id, r.status from corrections.requests r"))
    assert status == {runs["good"]: "verified", runs["refused"]: "refused",
                      runs["late"]: "timed_out"}  # fmt: skip
    of_run = (
        "select s.step_kind from corrections.steps s join corrections.requests r "
        "using (request_id) where r.dag_run_id = %s order by s.at"
    )
    late_steps = [r[0] for r in _q(of_run, [runs["late"]])]
    assert late_steps == ["submit", "reminder", "escalation"]
    steps = _q("select s.step_kind, s.responded_by, s.decision from corrections.steps s join "
               "corrections.requests r using (request_id) where r.dag_run_id = %s and "
               "s.step_kind <> 'submit' order by s.at", [runs["good"]])  # fmt: skip
    assert steps == [("department_heads", "zhou.lixin", "approve"),
                     ("vice_president", "ouyang.jianhua", "approve"),
                     ("quality_office", "yuan.fang", "approve")]  # fmt: skip
    # ... and the audit trail names the same Airflow users (HITL responded_by) and their roles.
    trail = _q("select e.actor, e.actor_role, e.after ->> 'step' from audit.events e join "
               "corrections.requests r on e.object = 'corrections.requests/' || r.form_no "
               "where r.dag_run_id = %s order by e.event_id", [runs["good"]])  # fmt: skip
    assert trail == [("zhou.lixin", "部门负责人", "department_heads"),
                     ("ouyang.jianhua", "分管教学副院长", "vice_president"),
                     ("yuan.fang", "质量管理员", "quality_office")]  # fmt: skip

    # Three forms: verified, refused, timed out — each a DAG output, registered.
    forms = dict(_q("select status, pdf_path from corrections.forms"))
    assert set(forms) == {"verified", "refused", "timed_out"}
    flat = "".join(pdf_text(forms["verified"]).split())
    assert all(label in flat for label in ANNEX1)
    assert all(n in flat for n in ("黄晓燕", "周立新", "欧阳建华", "袁芳"))
    assert "证明材料不足" in "".join(pdf_text(forms["refused"]).split())
    for name, run in runs.items():
        xcom = client.request("GET", f"dags/{DAG}/dagRuns/{run}/taskInstances/form/xcomEntries/"
                              "return_value")["value"]  # fmt: skip
        assert (json.loads(xcom) if isinstance(xcom, str) else xcom)["pdf"].endswith(".pdf"), name

    # Mail: the signers got their tasks, the filler the refusal, 质管办 the escalation.
    from include import mail

    subjects = [m["Subject"] for m in mail.read_messages()]
    assert any("待组织及归口管理部门负责人签署" in s for s in subjects), subjects
    assert any("已退回" in s for s in subjects) and any("【升级】" in s for s in subjects)
    assert any("【催办】" in s for s in subjects)
    # ... and those with a DingTalk userid a work notice (asyncsend_v2) on the sandbox's DingTalk.
    notices = platform.sandbox.__dict__.get("work_notices", [])
    to = {u for n in notices for u in n["userids"]}
    assert {"0203001", "0100001", "0210002"} <= to, notices

    # The warehouse build applies the overlay; a refused or timed-out request changes nothing.
    from include.warehouse import dbt

    dbt.run(["run", "-s", "stg_academic__students", "correction_history"])
    staged = dict(_q("select source_key, ethnicity_code from staging.stg_academic__students "
                     "where source_key = any(%s)", [keys]))  # fmt: skip
    assert staged == {good: "02", refused: "01", late: "01"}
    hist = _q("select original_value, corrected_value, form_no, verified_by, "
              "jsonb_array_length(approvals) from marts.correction_history where source_key = %s",
              [good])  # fmt: skip
    assert hist[0][:2] == ("01", "02") and hist[0][2].startswith("GY-") and hist[0][3] == "袁芳"

    # The next pull carries the corrected value: confirmed at source.
    from include.corrections import workflow
    from include.warehouse.connection import warehouse_url

    _land(warehouse_url(), good, "02")
    assert workflow.check_sources()["confirmed"] == [hist[0][2]]


def test_department_review_through_the_service(platform):
    """The managing department's quality administrator reviews what was flagged (here: the
    records landing refused), returns one item to the filler, confirms the rest."""
    from include import mail
    from include.warehouse.connection import warehouse_url

    key = _q("select source_key from raw_academic.students order by source_key limit 1")[0][0]
    _land(warehouse_url(), key, "ZZ")  # a real defect: landing refuses it (landing.rejects)
    assert _q("select count(*) from landing.rejects where subsystem = 'academic'")[0][0] >= 1
    client = service.api()
    period = time.strftime("%Y-%m")
    run = client.trigger("corrections__review", {"subsystem": "academic", "period": period})
    run_id = run["dag_run_id"]
    people = people_play.staff(airflow_env.api_url(), airflow_env.passwords_file())
    deadline = time.monotonic() + 300
    while not (steps := people["huang.xiaoyan"].pending(run_id, dag_id="corrections__review")):
        assert time.monotonic() < deadline, client.task_instances("corrections__review", run_id)
        time.sleep(2)
    assert "拒收" in steps[0]["body"]  # the items the task lists
    time.sleep(people_play.THINK_SECONDS)
    answer = {"returned": [1], "comment": "请核对民族码后在源系统更正"}
    other = people["zhou.lixin"].answer("corrections__review", run_id, "review", "提交审核结果",
                                        params=answer)  # fmt: skip
    assert other.status_code == 403
    ok = people["huang.xiaoyan"].answer("corrections__review", run_id, "review", "提交审核结果",
                                        params=answer)  # fmt: skip
    assert ok.status_code == 200, ok.text
    deadline = time.monotonic() + 300
    while client.run("corrections__review", run_id)["state"] not in ("success", "failed"):
        assert time.monotonic() < deadline
        time.sleep(2)
    assert client.run("corrections__review", run_id)["state"] == "success"
    decided = _q("select decided_by, decisions from corrections.reviews where dag_run_id = %s",
                 [run_id])  # fmt: skip
    assert decided[0][0] == "huang.xiaoyan"
    trail = _q("select e.actor, e.actor_department, e.airflow_run_id from audit.events e "
               "join corrections.reviews r on e.object = 'corrections.reviews/' || r.review_id "
               "where r.dag_run_id = %s", [run_id])  # fmt: skip
    assert trail == [("huang.xiaoyan", "教务处", run_id)]
    assert decided[0][1][0]["decision"] == "returned"
    assert any("部门审核退回" in m["Subject"] for m in mail.read_messages())
