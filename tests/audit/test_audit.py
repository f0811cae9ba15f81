"""The audit trail (issue 15, item 7), on the real bootstrapped warehouse with real logins.

Every human decision the platform records — a hold released, a correction step or department
review answered, an assessment (a) score entered, an appeal decided — leaves one event in
`audit.events` from the same code path and transaction; a rules file's new version (sha256,
git commit and author) is recorded by the bootstrap. The table refuses UPDATE, DELETE and
TRUNCATE whoever asks, the platform's owner included. Who may read it:
tests/warehouse/test_roles.py.
"""

from __future__ import annotations

import hashlib
import subprocess

import psycopg
import pytest
from psycopg import sql

from include import audit
from include.warehouse import bootstrap, connection, roles

QA = "huang.xiaoyan@hngy.example.cn"  # 教务处's quality administrator (academic)


def events(url: str, obj: str) -> list[dict]:
    with psycopg.connect(url) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        return cur.execute(
            "select * from audit.events where object = %s order by event_id", [obj]
        ).fetchall()


def test_hold_release_is_recorded_with_who_and_the_airflow_account(warehouse_url):
    from include.quality import holds

    pull = 990_001
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(
            "insert into quality.holds (pull_id, subsystem, resource, reason)"
            " values (%s, 'academic', 'students', '阻断性检查未通过：探针')",
            [pull],
        )
    with pytest.raises(holds.ReleaseError):  # not allowed: nothing released, nothing recorded
        holds.release(pull, "hu.jing@hngy.example.cn", "财务处无权", warehouse_url)
    assert events(warehouse_url, f"quality.holds/{pull}") == []

    via = {"airflow_user": "huang.xiaoyan", "dag_id": "quality_release", "airflow_run_id": "r1"}
    holds.release(pull, QA, "身份证号已与学生本人核对无误", warehouse_url, via=via)
    [e] = events(warehouse_url, f"quality.holds/{pull}")
    assert (e["action"], e["actor"], e["actor_name"]) == ("hold_release", QA, "黄晓燕")
    assert (e["actor_department"], e["actor_role"]) == ("教务处", "质量管理员")
    assert e["before"] == {"released_at": None}
    assert e["after"] == {"released_by": f"黄晓燕 <{QA}>", "release_kind": "accepted"}
    assert e["detail"]["reason"] == "身份证号已与学生本人核对无误"
    assert e["detail"]["airflow_user"] == "huang.xiaoyan"
    assert (e["dag_id"], e["airflow_run_id"]) == ("quality_release", "r1")
    assert e["db_user"] == roles.QUALITY  # the quality tasks' login (connection.PURPOSES)


def test_hold_released_by_recheck_is_recorded(warehouse_url):
    from include.quality import holds

    pull = 990_002
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "insert into quality.holds (pull_id, subsystem, resource, reason)"
            " values (%s, 'academic', 'students', '阻断性检查未通过：探针')",
            [pull],
        )
        out = holds.apply(conn, -1, {"raw_academic.students": [pull]})  # nothing fails now
    assert out["released"] == [pull]
    [e] = events(warehouse_url, f"quality.holds/{pull}")
    assert (e["actor"], e["after"]["release_kind"]) == (holds.RECHECK, "recheck")


def _request(url: str, form_no: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "insert into corrections.requests (form_no, reporting_department, subsystem, reason,"
            " filler_name, request_hash) values (%s, '教务处', 'academic', '探针', '黄晓燕', 'h')"
            " returning request_id",
            [form_no],
        ).fetchone()[0]


def test_correction_step_answer_is_recorded_as_the_airflow_user(warehouse_url):
    """The code path SignStep.execute_complete takes with the HITL detail's responded_by."""
    from include.corrections import workflow

    rid = _request(warehouse_url, "GY-2099-0001")
    who = {"assignee_user": "zhou.lixin", "assignee_name": "周立新"}
    workflow.record_step(rid, "reminder", "remind", opinion="逾期未签，已催办", url=warehouse_url,
                         **who)  # fmt: skip
    assert events(warehouse_url, "corrections.requests/GY-2099-0001") == []  # not an answer
    step = workflow.record_step(
        rid, "department_heads", "approve", responded_by="zhou.lixin", opinion="核对无误",
        url=warehouse_url, dag_id="corrections__approve", airflow_run_id="r2", **who,
    )  # fmt: skip
    [e] = events(warehouse_url, "corrections.requests/GY-2099-0001")
    assert (e["action"], e["actor"], e["actor_name"]) == ("correction_step", "zhou.lixin", "周立新")
    assert (e["actor_department"], e["actor_role"]) == ("教务处", "部门负责人")
    assert e["after"] == {"step": "department_heads", "decision": "approve"}
    assert e["detail"]["signature"] == step["signature"] and e["detail"]["opinion"] == "核对无误"
    with psycopg.connect(warehouse_url) as conn:  # the same moment as the step itself
        at = conn.execute(
            "select at from corrections.steps where request_id = %s and step_kind = %s",
            [rid, "department_heads"],
        ).fetchone()[0]
    assert e["at"] == at and e["airflow_run_id"] == "r2"


def test_department_review_answer_is_recorded(warehouse_url):
    from include.corrections import review

    with psycopg.connect(warehouse_url) as conn:
        review_id = conn.execute(
            "insert into corrections.reviews (subsystem, period, department, reviewer_user,"
            " items) values ('academic', '2099-01', '教务处', 'huang.xiaoyan', %s)"
            " returning review_id",
            [psycopg.types.json.Jsonb([{"no": 1, "kind": "check", "ref": 1, "text": "探针"}])],
        ).fetchone()[0]
    review.decide(review_id, "huang.xiaoyan", [], "已核对", dag_id="corrections__review")
    [e] = events(warehouse_url, f"corrections.reviews/{review_id}")
    assert (e["action"], e["actor"], e["actor_role"]) == (
        "department_review", "huang.xiaoyan", "质量管理员",
    )  # fmt: skip
    assert e["after"] == {"confirmed": [1], "returned": []}


def test_assessment_entry_is_recorded_and_rolls_back_with_it(warehouse_url):
    from include.assessment import record_manual

    year = "2098-2099"
    entry = {"score": 88, "comment": "负责人亲自部署"}
    with psycopg.connect(warehouse_url) as conn:  # one bad department: nothing stays, no event
        with pytest.raises(ValueError, match="不在考核范围"):
            record_manual(conn, year, {"教务处": entry, "不存在的部门": entry},
                          entered_by="袁芳", source="hitl", responded_by="yuan.fang")  # fmt: skip
        conn.rollback()
        n = conn.execute(
            "select count(*) from audit.events where action = 'assessment_entry'"
            " and after ->> 'academic_year' = %s",
            [year],
        ).fetchone()[0]
        assert n == 0
    with psycopg.connect(warehouse_url) as conn:
        [entry_id] = record_manual(conn, year, {"教务处": entry}, entered_by="袁芳",
                                   source="hitl", responded_by="yuan.fang",
                                   dag_id="assessment", airflow_run_id="r3")  # fmt: skip
    [e] = events(warehouse_url, f"assessment.manual_scores/{entry_id}")
    assert (e["actor"], e["actor_name"], e["actor_department"]) == ("yuan.fang", "袁芳", "质管办")
    assert e["after"]["score"] == 88 and e["after"]["department"] == "教务处"
    assert e["detail"]["source"] == "hitl"


def test_appeal_decision_is_recorded(warehouse_url):
    from include.assessment import appeal

    with psycopg.connect(warehouse_url) as conn:
        run_id = conn.execute(
            "insert into assessment.runs (academic_year, rules_version, rules_sha256, rules,"
            " as_of, corrections_counted) values ('2098-2099', 'v', 'x', '{}', now(), false)"
            " returning run_id"
        ).fetchone()[0]
        appeal_id = conn.execute(
            "insert into assessment.appeals (run_id, department, reason, filed_by)"
            " values (%s, '教务处', '国庆假期停采', '黄晓燕') returning appeal_id",
            [run_id],
        ).fetchone()[0]
    with psycopg.connect(warehouse_url) as conn:
        appeal.decide(conn, appeal_id, True, "核实为假期停采", "袁芳", "yuan.fang")
    [e] = events(warehouse_url, f"assessment.appeals/{appeal_id}")
    assert (e["action"], e["actor"], e["actor_role"]) == (
        "appeal_decision", "yuan.fang", "质量管理员",
    )  # fmt: skip
    assert e["after"] == {"decision": "upheld", "academic_year": "2098-2099"}


# ---- append-only -------------------------------------------------------------------------

REFUSED = [
    "update audit.events set actor = 'x'",
    "update audit.events set actor = 'x' where false",  # a statement trigger: even no rows
    "delete from audit.events",
    "delete from audit.events where event_id = -1",
    "truncate audit.events",
]


@pytest.mark.parametrize("statement", REFUSED)
def test_changing_the_trail_is_refused_even_for_the_owner(warehouse_url, statement):
    with psycopg.connect(warehouse_url) as conn:  # the platform's owner URL (`./run db url`)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="审计记录只可追加"):
            conn.execute(statement)


def test_the_quality_role_appends_only_through_the_function(warehouse_url):
    with psycopg.connect(connection.role_url(roles.QUALITY)) as conn:
        event_id = audit.record(conn, "hold_release", "probe/role", "huang.xiaoyan")
        conn.commit()
        for statement in ("delete from audit.events", "update audit.events set actor = 'x'",
                          "insert into audit.events (at, actor, action, object)"
                          " values (now(), 'x', 'hold_release', 'x')"):  # fmt: skip
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
    [e] = events(warehouse_url, "probe/role")
    assert e["event_id"] == event_id and e["db_user"] == roles.QUALITY


def test_unknown_action_is_refused_with_one_line(warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        with pytest.raises(ValueError, match="审计：未知操作 'hold_relase'"):
            audit.record(conn, "hold_relase", "x", "x")


# ---- rules files -------------------------------------------------------------------------


def test_bootstrap_records_every_rules_file_once(warehouse_url):
    def rules_events():
        with psycopg.connect(warehouse_url) as conn:
            return dict(
                conn.execute(
                    "select object, after ->> 'sha256' from audit.events"
                    " where action = 'rules_file_changed' order by event_id"
                ).fetchall()
            )

    recorded = rules_events()
    for rel in ("connectors/departments.yml", "connectors/subsystems/academic.yml",
                "include/assessment/rules.yml", "include/reports/sections.yml",
                "soda/check_classes.yml"):  # fmt: skip
        assert recorded[rel] == hashlib.sha256((audit.ROOT / rel).read_bytes()).hexdigest(), rel
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        bootstrap.prepare_database(conn)  # nothing changed: nothing new
        n = conn.execute("select count(*) from audit.events where action = 'rules_file_changed'")
        assert n.fetchone()[0] == len(recorded)


@pytest.fixture
def empty_trail(warehouse_url):
    """A database of its own with the platform's tables and no recorded rules files yet."""
    db = "xiaoben_audit_rules_test"
    admin = connection.with_db(warehouse_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(db)))
        conn.execute(sql.SQL("create database {} template template0").format(sql.Identifier(db)))
    url = connection.with_db(warehouse_url, db)
    with psycopg.connect(url, autocommit=True) as conn:
        bootstrap.apply_ddl(conn)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(db)))


def _git(root, *args, author=("袁芳", "yuan.fang@hngy.example.cn")):
    env = {"GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1],
           "GIT_COMMITTER_NAME": author[0], "GIT_COMMITTER_EMAIL": author[1],
           "HOME": str(root), "PATH": "/usr/bin:/bin"}  # fmt: skip
    subprocess.run(["git", "-C", str(root), *args], check=True, env=env, capture_output=True)
    return subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], env=env,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip


def test_rules_file_change_records_sha_and_git_author(empty_trail, tmp_path):
    import getpass

    rules = tmp_path / "include/assessment/rules.yml"
    depts = tmp_path / "connectors/departments.yml"
    rules.parent.mkdir(parents=True)
    depts.parent.mkdir(parents=True)
    rules.write_text("weights: {a: 0.2}\n", encoding="utf-8")
    depts.write_text("departments: []\n", encoding="utf-8")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    first = _git(tmp_path, "commit", "-qm", "rules")
    obj = "include/assessment/rules.yml"

    def record():
        with psycopg.connect(empty_trail) as conn:
            return audit.record_rules_files(conn, root=tmp_path)

    assert record() == ["connectors/departments.yml", obj]
    assert record() == []  # unchanged: nothing new
    [e] = events(empty_trail, obj)
    assert (e["actor"], e["actor_name"], e["actor_department"]) == (
        "yuan.fang@hngy.example.cn", "袁芳", "质管办",
    )  # fmt: skip
    assert e["before"] is None and e["detail"]["commit"] == first and e["detail"]["committed"]

    old = e["after"]["sha256"]
    rules.write_text("weights: {a: 0.3}\n", encoding="utf-8")
    head = ("周立新", "zhou.lixin@hngy.example.cn")
    second = _git(tmp_path, "commit", "-qam", "a 加权", author=head)
    assert record() == [obj]
    e = events(empty_trail, obj)[-1]
    assert e["before"] == {"sha256": old}
    assert e["after"]["sha256"] == hashlib.sha256(rules.read_bytes()).hexdigest()
    assert (e["actor"], e["actor_role"], e["detail"]["commit"]) == (
        "zhou.lixin@hngy.example.cn", "部门负责人", second,
    )  # fmt: skip

    rules.write_text("weights: {a: 0.9}\n", encoding="utf-8")  # edited in place, not committed
    assert record() == [obj]
    e = events(empty_trail, obj)[-1]
    assert e["actor"] == getpass.getuser() and not e["detail"]["committed"]
    assert "未提交" in e["detail"]["note"]

    depts.unlink()
    assert record() == ["connectors/departments.yml"]
    e = events(empty_trail, "connectors/departments.yml")[-1]
    assert e["after"] is None and e["detail"]["note"] == "规则文件已删除"
    assert record() == []


def test_quality_office_reads_the_trail_with_the_url_the_cli_gives(warehouse_url, capsys):
    """README: 质管办 connects with `./run db url --role qmo` and queries audit.events."""
    from include import cli

    assert cli.main(["db", "url", "--role", "qmo"]) == 0
    url = capsys.readouterr().out.strip()
    with psycopg.connect(url) as conn:
        assert conn.execute("select current_user").fetchone()[0] == roles.QMO
        assert conn.execute("select count(*) from audit.events").fetchone()[0] > 0
