"""The assessment computed from warehouse rows: every fact recomputes, the rules file drives the
ranking, and a department with late pulls, open warnings and missing reports is barred."""

from __future__ import annotations

import psycopg
import yaml

from include.assessment import compute
from include.assessment.rules import RULES_FILE
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
