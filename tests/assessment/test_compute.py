"""The assessment computed from warehouse rows: every fact recomputes, the rules file drives the
ranking, and a department with late pulls, open warnings and missing reports is barred."""

from __future__ import annotations

import psycopg
import pytest
import yaml

from include.assessment import compute
from include.assessment.rules import RULES_FILE, RulesError, load
from tests.assessment.conftest import YEAR


def test_facts_recompute_and_flag(college):
    with psycopg.connect(college, autocommit=True) as conn:
        a = compute.compute(conn, YEAR)
        facts = conn.execute(
            "select fact_id, query, params, numerator, denominator, value, unit, row_ids "
            "from assessment.facts where run_id = %s",
            (a.run_id,),
        ).fetchall()
        assert facts
        for _fid, query, params, num, den, value, unit, ids in facts:
            n, d, rows = conn.execute(query, params).fetchone()
            assert (float(n), float(d), list(rows)) == (float(num), float(den), list(ids))
            assert compute.value_of("", unit, n, d) == (None if value is None else float(value))
    by = {r.department: r for r in a.results}
    assert by["财务处"].barred and by["教务处"].passed


def _ranking(conn, run_id):
    return conn.execute(
        "select department, total, score_b, score_c from assessment.results "
        "where run_id = %s order by rank",
        (run_id,),
    ).fetchall()


def test_weight_in_rules_file_changes_ranking(college, tmp_path):
    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    with psycopg.connect(college, autocommit=True) as conn:
        ranked = {}
        for heavy in ("b", "c"):
            for c in data["criteria"]:
                data["criteria"][c]["weight"] = 1.0 if c == heavy else 0.0
            path = tmp_path / f"rules_{heavy}.yml"
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
            run = compute.compute(conn, YEAR, rules_path=path)
            rows = _ranking(conn, run.run_id)
            column = 2 if heavy == "b" else 3
            # the ranking follows the one criterion that now carries all the weight
            assert [float(r[1]) for r in rows] == sorted(
                (float(r[column] or 0) for r in rows), reverse=True
            )
            ranked[heavy] = [r[0] for r in rows]
    assert ranked["b"] != ranked["c"]


def test_manual_score_is_recorded_with_who_and_when(college):
    from include.assessment import record_manual

    with psycopg.connect(college, autocommit=True) as conn:
        ids = record_manual(
            conn,
            YEAR,
            {"教务处": {"score": 90, "comment": "负责人亲自部署"}},
            entered_by="qmo_admin",
            source="cli",
        )
        a = compute.compute(conn, YEAR)
        row = conn.execute(
            "select score_a, manual_entry_id from assessment.results "
            "where run_id = %s and department = '教务处'",
            (a.run_id,),
        ).fetchone()
        who = conn.execute(
            "select entered_by, entered_at is not null from assessment.manual_scores "
            "where entry_id = %s",
            (ids[0],),
        ).fetchone()
    assert (float(row[0]), row[1]) == (90.0, ids[0])
    assert who == ("qmo_admin", True)


def test_upheld_appeal_takes_the_fact_out_and_recomputes(college):
    from datetime import timedelta

    import pytest

    from include.assessment import appeal

    with psycopg.connect(college, autocommit=True) as conn:
        before = compute.compute(conn, YEAR)
        fact = next(
            f
            for f in before.facts
            if f.department == "教务处" and f.indicator == "pull_on_time_rate" and f.scope == "own"
        )
        assert fact.score is not None and fact.score < 100
        late = before.as_of + timedelta(days=before.rules.appeal_window_days + 30)
        with pytest.raises(appeal.AppealError, match="申诉期"):
            appeal.file(conn, fact.fact_id, "校历调整", "教务处 黄晓燕", now=late)
        appeal_id = appeal.file(
            conn, fact.fact_id, "10 月 1 日为国庆假期，按校历停采", "教务处 黄晓燕"
        )
        assert appeal.decide(conn, appeal_id, True, "核实为假期停采", "qmo_admin") == YEAR
        after = compute.compute(conn, YEAR)
        appeal.recomputed(conn, appeal_id, after.run_id)
        again = next(
            f
            for f in after.facts
            if f.department == "教务处" and f.indicator == "pull_on_time_rate" and f.scope == "own"
        )
        decided = conn.execute(
            "select decision, decided_by, decided_at is not null, recomputed_run_id "
            "from assessment.appeals where appeal_id = %s",
            (appeal_id,),
        ).fetchone()
        conn.execute("delete from assessment.appeals where appeal_id = %s", (appeal_id,))
    b = {r.department: r for r in before.results}["教务处"]
    a = {r.department: r for r in after.results}["教务处"]
    assert again.score is None and any("申诉成立" in n for n in a.notes)
    assert a.scores["b"] > b.scores["b"]  # only the on-time reports remain in (b)
    assert decided == ("upheld", "qmo_admin", True, after.run_id)


def test_bi_role_reads_assessment(college):
    with psycopg.connect(college, autocommit=True) as conn:
        conn.execute("set role xiaoben_bi")
        assert conn.execute("select count(*) from assessment.results").fetchone()[0] > 0


def test_trend_against_last_year(college):
    from include.assessment import report
    from include.reports import render

    with psycopg.connect(college, autocommit=True) as conn:
        last = conn.execute(
            "insert into assessment.runs (academic_year, rules_version, rules_sha256, rules, "
            "as_of, corrections_counted) values ('2025-2026', 'old', 'x', '{}', "
            "'2026-09-01+08', false) returning run_id"
        ).fetchone()[0]
        conn.execute(
            "insert into assessment.results (run_id, department, total, rank, passed, barred) "
            "values (%s, '教务处', 50, 1, false, true)",
            (last,),
        )
        try:
            a = compute.compute(conn, YEAR)
            html = render.html(report.build(conn, a))
        finally:
            conn.execute("delete from assessment.runs where run_id = %s", (last,))
    r = {x.department: x for x in a.results}["教务处"]
    assert r.previous_total == 50.0 and r.total > 50
    assert '教务处</td><td class="num">' in html and "↑" in html


def _fact(a, department, indicator):
    return next(f for f in a.facts if f.department == department and f.indicator == indicator)


def test_answer_times_of_correction_steps_and_reviews(college):
    """(d): each department's people's waits, from the step before to their answer."""
    from datetime import datetime

    from include.reports.periods import TZ

    rules = load()[0]
    with psycopg.connect(college, autocommit=True) as conn:
        a = compute.compute(conn, YEAR)
    steps = {
        d: _fact(a, d, "correction_step_answer_hours")
        for d in ("教务处", "后勤处", "质管办", "财务处")
    }
    # value = mean hours; 质管办 was asked when the vice-president signed, not at submission
    assert {d: (f.numerator, f.denominator, f.value) for d, f in steps.items()} == {
        "教务处": (6.0, 1.0, 6.0),
        "后勤处": (3.0, 1.0, 3.0),
        "质管办": (48.0, 1.0, 48.0),
        "财务处": (96.0, 1.0, 96.0),  # reminded, then escalated: waited until the escalation
    }
    for f in steps.values():
        assert f.score == rules.indicators[f.indicator].score(f.value)
    assert steps["质管办"].score == 60.0 and steps["财务处"].score == 0.0
    assert steps["教务处"].evidence == [] and steps["后勤处"].evidence == []
    (qo,) = steps["质管办"].evidence
    assert (qo["step_kind"], qo["form_no"], qo["hours"]) == ("quality_office", "GY-2026-9001", 48.0)
    assert datetime.fromisoformat(qo["asked_at"]) == datetime(2026, 10, 16, 9, tzinfo=TZ)
    (esc,) = steps["财务处"].evidence
    assert (esc["decision"], esc["answered_at"], esc["assignee_name"]) == (
        "escalate",
        None,
        "罗秀英",
    )

    reviews = {d: _fact(a, d, "review_answer_hours") for d in ("教务处", "财务处")}
    assert (reviews["教务处"].value, reviews["教务处"].score, reviews["教务处"].evidence) == (
        8.0,
        100.0,
        [],
    )
    waited = round((a.as_of - datetime(2026, 11, 3, 9, tzinfo=TZ)).total_seconds() / 3600, 2)
    assert reviews["财务处"].value == waited and reviews["财务处"].score == 0.0
    (open_review,) = reviews["财务处"].evidence
    assert open_review["answered_at"] is None and open_review["subsystem"] == "finance"
    # a department with no steps and no reviews: not judged, not 0
    assert _fact(a, "图书馆", "correction_step_answer_hours").score is None
    by = {r.department: r for r in a.results}
    d_facts = [f for f in a.facts if f.department == "财务处" and f.criterion == "d"]
    assert by["财务处"].own["d"] == compute.criterion_score(rules, d_facts, "d")


def test_answer_time_curve_is_data(college, tmp_path):
    """The answer-time curve lives in rules.yml: a gentler curve raises 质管办's score."""
    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    data["indicators"]["correction_step_answer_hours"]["curve"] = [[0, 100], [200, 0]]
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with psycopg.connect(college, autocommit=True) as conn:
        a = compute.compute(conn, YEAR, rules_path=path)
    assert _fact(a, "质管办", "correction_step_answer_hours").score == 76.0


def test_report_periods_before_go_live_are_not_judged(college, tmp_path):
    """Monthly reports are judged only for months that closed after the platform began
    producing the department's report (its managed subsystems' first pull)."""
    from datetime import datetime, timedelta

    from include.reports.periods import TZ

    rules = load()[0]
    with psycopg.connect(college, autocommit=True) as conn:
        a = compute.compute(conn, YEAR)
        # 教务处 went live with academic's first pull, 2026-10-01 02:00: September closed
        # before it and is not due; October is (on time). 财务处: finance from 2026-10-05.
        jw, cw = (
            _fact(a, "教务处", "report_on_time_rate"),
            _fact(a, "财务处", "report_on_time_rate"),
        )
        assert jw.params["periods"][0] == "2026-10" and jw.value == 100.0
        assert cw.params["periods"][0] == "2026-10" and cw.value == 0.0
        assert next(e["period_id"] for e in cw.evidence) == "2026-10"
        # 信息中心's subsystems were first pulled by this session's collection: two days later
        # its daily pulls are due but no month that closed after that, so its report indicator
        # is not judged (not 0)
        b = compute.compute(conn, YEAR, now=compute.report_live(conn, "信息中心") + timedelta(2))
        # 后勤处's are weekly with a 24-hour deadline: a day after its first pull nothing is due
        live = compute.report_live(conn, "后勤处") + timedelta(1)
        c = compute.compute(conn, YEAR, now=live)
        # the same without the submission indicator (judged at every pull): nothing in (b)
        data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
        del data["indicators"]["submitted_rate"]
        data["veto"] = []
        path = tmp_path / "rules.yml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        c_without = compute.compute(conn, YEAR, now=live, rules_path=path)
    f = _fact(b, "信息中心", "report_on_time_rate")
    assert f.params["periods"] == [] and (f.denominator, f.value, f.score) == (0.0, None, None)
    by = {x.department: x for x in b.results}
    r = by["信息中心"]
    pulls = [x for x in b.facts if x.department == "信息中心" and x.criterion == "b"]
    assert any(x.score is not None for x in pulls)  # its daily pulls were due
    # (b) is the pulls alone: the report's weight went to them, not a 0 averaged in
    assert r.own["b"] == compute.criterion_score(rules, pulls, "b")
    assert any(
        "部门数据分析报告按时生成比例" in n and "未评判" in n and "不记 0 分" in n for n in r.notes
    )
    # 后勤处 has nothing at all due in (b): (b) is left out of the total, and the report says so
    judged = {x.indicator for x in c.facts if x.department == "后勤处" and x.criterion == "b"
              and x.score is not None}  # fmt: skip
    assert judged == {"submitted_rate"}  # its pulls found the data submitted; nothing else due
    h = {x.department: x for x in c_without.results}["后勤处"]
    assert h.scores["b"] is None and any("(b) 项无可评判的指标" in n for n in h.notes)
    assert h.total == compute.total_score(rules, h.scores)
    # the boundary: a month is judged when it closed strictly after go-live
    year = a.period
    end = datetime(2026, 12, 31, tzinfo=TZ)
    before = compute.report_due(year, end, 7, datetime(2026, 10, 31, 23, tzinfo=TZ))
    at = compute.report_due(year, end, 7, datetime(2026, 11, 1, tzinfo=TZ))
    assert before["periods"] == ["2026-10", "2026-11"] and at["periods"] == ["2026-11"]
    assert compute.report_due(year, end, 7, None)["periods"] == []


def test_a_system_that_had_not_submitted_is_vetoed_with_evidence(college):
    """一票否决 (rules.yml `veto`): a department whose own system answered 「数据尚未报送」 to a
    scheduled pull may not take part in the awards, whatever its total, and the report says
    which pull found what."""
    from include.assessment.report import evidence_lines

    own = next(d for d in compute.departments() if "academic" in compute.scopes(d).get("own", []))
    with psycopg.connect(college, autocommit=True) as conn:
        pull_id = conn.execute(
            "insert into landing.run_log (subsystem, resource, mode, started_at, finished_at,"
            " status, error) values ('academic', 'students', 'incremental',"
            " '2026-10-08 08:00+08', '2026-10-08 08:00:01+08', 'not_submitted',"
            " '数据尚未报送') returning pull_id"
        ).fetchone()[0]
        try:
            a = compute.compute(conn, YEAR)
        finally:
            conn.execute("delete from landing.run_log where pull_id = %s", (pull_id,))
    r = {x.department: x for x in a.results}[own]
    fact = _fact(a, own, "submitted_rate")
    assert str(pull_id) in fact.row_ids and fact.value < 100
    assert r.barred and r.vetoes and any("一票否决" in n for n in r.notes)
    assert r.total >= load()[0].pass_line  # above the line: barred by the veto alone
    lines = evidence_lines([f for f in a.facts if f.department == own])
    assert any("数据未按时报送：academic.students" in x and f"#{pull_id}" in x for x in lines)


def test_an_indicator_with_two_curves_is_refused_with_line_and_key(tmp_path):
    """A mis-edit once gave one indicator two `curve:` keys and PyYAML kept the second unnoticed."""
    lines = RULES_FILE.read_text(encoding="utf-8").splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.lstrip().startswith("curve:"))
    lines.insert(first + 1, lines[first].replace("curve:", "curve:  ", 1))
    path = tmp_path / "rules.yml"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load(path)
    message = str(err.value)
    line, again = first + 1, first + 2
    assert message.startswith(f"rules.yml: 第 {again} 行: 键 `curve` 重复（第 {line} 行已有）")
    assert "\n" not in message
