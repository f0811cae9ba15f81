"""Issue 9, done when: a 15th subsystem is one new file (plus its new department), end to end.

A copy of the project gets `connectors/subsystems/campus_calendar.yml` — a DingTalk v1.0
style API (token from `POST /v1.0/oauth2/accessToken`, sent in `x-acs-dingtalk-access-token`,
`nextToken`/`maxResults` paging) served by `tests/fakes/dingtalk.py`, written from
DingTalk's public docs — and one new department in `connectors/departments.yml`. After
`./run sync` in the copy, and no other edit: the subsystem is collected into
`raw_campus_calendar.events`, audited by its generated Soda contract, staged by dbt, and
listed in `marts.data_responsibility`. Everything runs in the copy's own processes (its
code, its files) against a fresh database on the session's PostgreSQL server; dbt builds only
the seeds, the new staging model and `data_responsibility`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from include import settings
from include.warehouse import connection
from tests.fakes.dingtalk import DingTalkFake, sample_events

COPIED = ["connectors", "include", "dags", "dbt_project", "soda", "sandbox", "run",
          "pyproject.toml", "requirements.lock", ".env.example"]  # fmt: skip
DEPARTMENT = """
  - name: 会议中心
    code: "299"
    kind: functional
    head: {name: 唐建国, email: tang.jianguo@hngy.example.cn}
    vice_president: vp_party
    quality_administrators:
      - {name: 唐晓, email: tang.xiao@hngy.example.cn}
"""
SUBSYSTEM = """\
# 钉钉新版服务端 API（v1.0）的日程：令牌在请求头 x-acs-dingtalk-access-token，nextToken 翻页。
id: campus_calendar
name_zh: 会议日程系统
name_en: Meeting calendar
content: 学校会议与工作日程
description: >
  钉钉日程（v1.0 API）中的校务会议、教学例会等工作日程。会议中心组织并归口管理。
collectors:
  - {role: 会议中心工作人员, department: 会议中心, name: 唐晓, email: tang.xiao@hngy.example.cn}
organising_departments: [会议中心]
managing_departments: [会议中心]
schedule: {cron: "0 7 * * *", timezone: Asia/Shanghai}
plan: {frequency: daily, deadline_hours: 8}
api:
  connection: xiaoben_campus_calendar
  auth:
    type: token
    login:
      method: POST
      path: /v1.0/oauth2/accessToken
      json: {appKey: "{key}", appSecret: "{secret}"}
    token_path: accessToken
    send: {header: x-acs-dingtalk-access-token}
  responses:
    message_path: message
    rules:
      - {status: 401, action: refresh}
  resources:
    events:
      description: 工作日程
      method: GET
      path: /v1.0/calendar/users/union001/calendars/primary/events
      pagination:
        type: cursor
        cursor_param: nextToken
        next_cursor: nextToken
        size_param: maxResults
        size: 3
        records: events
      primary_key: [id]
      required: [id, summary]
      fields:
        id: {column: event_id, type: code, description: 日程ID, tests: [not_null, unique]}
        summary: {column: title, type: text, description: 日程标题}
        description: {column: details, type: text, description: 日程描述}
        start: {column: start_time, type: json, description: 开始时间}
        end: {column: end_time, type: json, description: 结束时间}
        isAllDay: {column: is_all_day, type: flag, description: 是否全天}
        organizer: {column: organizer, type: json, description: 组织者}
        status: {column: status, type: code, description: 状态}
        createTime: {column: created_at, type: timestamp, format: iso, description: 创建时间}
        updateTime: {column: updated_at, type: timestamp, format: iso, description: 更新时间}
"""
PIPELINE = r"""
import json
from connectors.collect import collect
from include.quality import verify
from include.warehouse.bootstrap import bootstrap

bootstrap()
pulled = collect("campus_calendar", "events", mode="full")
audit = verify.run("raw", datasets=["raw_campus_calendar.events"])
print("RESULT " + json.dumps({"pulled": pulled, "audit": audit}, default=str))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    ignore = shutil.ignore_patterns("target", "logs", "__pycache__", "dbt_packages")
    for name in COPIED:
        src = settings.ROOT / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=ignore)
        else:
            shutil.copy2(src, root / name)
    (root / ".venv").symlink_to(settings.ROOT / ".venv")
    return root


def _run(project: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    out = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, f"{args}: {out.stdout[-2000:]}{out.stderr[-3000:]}"
    return out


@pytest.mark.slow
def test_a_new_subsystem_file_goes_from_api_to_the_responsibility_mart(
    project, warehouse_url, tmp_path
):
    # the only two edits: a new department and the new subsystem file
    departments = project / "connectors" / "departments.yml"
    departments.write_text(departments.read_text(encoding="utf-8") + DEPARTMENT, "utf-8")
    (project / "connectors" / "subsystems" / "campus_calendar.yml").write_text(SUBSYSTEM, "utf-8")

    db = "xiaoben_issue9"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "XIAOBEN_"))}
    env.update(
        PYTHONPATH=str(project),  # the copy's code, not this checkout's
        XIAOBEN_HOME=str(tmp_path / "home"),
        XIAOBEN_DATABASE_URL=connection.with_db(warehouse_url, db),
        XIAOBEN_WAREHOUSE_DB=db,
        XIAOBEN_AIRFLOW_DB=f"{db}_airflow",
        XIAOBEN_PII_KEY=secrets.token_urlsafe(32),  # a configured server needs the key, as in .env
    )
    run = str(project / "run")

    check = _run(project, env, run, "registry", "check")
    assert "15 个子系统" in check.stdout and "会议中心" in check.stdout

    synced = _run(project, env, run, "sync").stdout
    staging = project / "dbt_project" / "models" / "staging" / "campus_calendar"
    for name in ("_campus_calendar__sources.yml", "_campus_calendar__models.yml",
                 "stg_campus_calendar__events.sql"):  # fmt: skip
        assert (staging / name).exists() and f"campus_calendar/{name}" in synced, name
    assert "{{ ts('updateTime', 'iso') }} as updated_at," in (
        staging / "stg_campus_calendar__events.sql"
    ).read_text(encoding="utf-8")
    contract = project / "soda" / "contracts" / "raw_campus_calendar" / "events.yml"
    assert "schema_drift" in contract.read_text(encoding="utf-8")
    example = (project / ".env.example").read_text(encoding="utf-8")
    assert "AIRFLOW_CONN_XIAOBEN_CAMPUS_CALENDAR=" in example
    assert not (settings.DBT_DIR / "models" / "staging" / "campus_calendar").exists()

    with DingTalkFake().running() as fake:
        conn = {"conn_type": "http", "host": fake.base, "login": fake.app_key,
                "password": fake.app_secret}  # fmt: skip
        env["AIRFLOW_CONN_XIAOBEN_CAMPUS_CALENDAR"] = json.dumps(conn)
        out = _run(project, env, str(project / ".venv" / "bin" / "python"), "-c", PIPELINE)
        gets = [r for r in fake.requests if r["method"] == "GET"]
    result = json.loads(next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))[7:])
    pulled, audit = result["pulled"], result["audit"]
    assert pulled["status"] == "success" and pulled["landed"] == len(sample_events())
    assert [g["query"].get("nextToken") for g in gets] == [None, "3", "6"]
    assert all(g["header_token"] for g in gets)
    assert audit["contracts"] == 1 and audit["checks"] > 5 and audit["failed"] == 0, audit

    python = str(project / ".venv" / "bin" / "python")
    dbt = [python, "-m", "include.warehouse.dbt", "run"]
    _run(project, env, *dbt, "seed", "--select", "path:seeds/governance")
    _run(project, env, *dbt, "build", "--select", "stg_campus_calendar__events")
    _run(project, env, *dbt, "run", "--select", "data_responsibility")

    with psycopg.connect(connection.with_db(warehouse_url, db)) as c:
        rows = c.execute(
            "select event_id, title, is_all_day, updated_at"
            " from staging.stg_campus_calendar__events order by event_id"
        ).fetchall()
        assert len(rows) == 7 and rows[0][:3] == ("evt0000", "第0次教学工作例会", False)
        assert rows[0][3] is not None
        who = c.execute(
            "select distinct subsystem_name, managing_departments, quality_administrators"
            " from marts.data_responsibility where subsystem_id = 'campus_calendar'"
        ).fetchall()
        assert who == [("会议日程系统", "会议中心", "会议中心 唐晓")]
