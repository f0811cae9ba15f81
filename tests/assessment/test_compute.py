"""The assessment computed from warehouse rows: every fact recomputes, the rules file drives the
ranking, and a department with late pulls, open warnings and missing reports is barred."""

from __future__ import annotations

import psycopg

from include.assessment import compute
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
