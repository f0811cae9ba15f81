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
