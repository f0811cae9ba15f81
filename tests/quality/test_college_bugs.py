"""Bugs found in verification (issue 10, item 7), each with the check that now flags it.

The sandbox college (scale 300, two weeks of term) is landed through the collection code's
`Landing`, with three records changed the way the real sources send them: an admission on the
stale 2015 code of 工业设计 (560105), an admission on a major the college does not have, and a
budget item whose spending is 330 % of its budget. Real dbt builds the marts; real Soda runs
the mart contracts.
"""

from __future__ import annotations

import psycopg
import pytest

from include.quality import verify
from include.warehouse import dbt

from .conftest import fresh_database, land

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def college(warehouse_url, tmp_path_factory):
    from connectors.spec import api_specs
    from sandbox import Sandbox

    url = fresh_database(warehouse_url, "quality_bugs_test")
    sb = Sandbox(seed=2026, scale=300, start="2026-09-01", days=14)
    changed = {}
    for sid, spec in sorted(api_specs().items()):
        for name in spec.landed:
            records = [dict(r) for r in sb.truth(sid, name).values()]
            if (sid, name) == ("admissions", "applicants"):
                admitted = [r for r in records if r["LQZYDM"] == "460105"]
                admitted[0]["LQZYDM"] = "560105"  # the stale 2015 code of 工业设计
                others = [r for r in records if r["LQZYDM"] not in (None, "", "460105", "560105")]
                others[0]["LQZYDM"] = "999999"  # a major the college does not have
                changed["stale"], changed["unknown"] = admitted[0]["KSH"], others[0]["KSH"]
            if (sid, name) == ("finance", "budgets"):
                spent = {}
                for e in sb.truth("finance", "expenditures").values():
                    if e["ZT"] in ("已审核", "已支付"):
                        spent[e["YSXMBH"]] = spent.get(e["YSXMBH"], 0) + float(e["JE"])
                item = next(r for r in records if spent.get(r["YSXMBH"], 0) > 1000)
                budget = f"{spent[item['YSXMBH']] / 3.3:.2f}"
                item["YSJE"] = item["TZJE"] = budget  # spending is 330 % of the budget
                changed["budget"] = item["YSXMBH"]
            land(url, sid, name, records)
    target = str(tmp_path_factory.mktemp("dbt_target"))
    dbt.run(["seed", "--target-path", target], url=url)
    dbt.run(
        ["run", "--select", "+fct_control_point_values", "+fct_class_attendance", "+dim_majors",
         "+fct_admissions", "+fct_budget_execution", "--target-path", target],
        url=url,
    )  # fmt: skip
    marts = ["marts.fct_admissions", "marts.fct_class_attendance", "marts.fct_budget_execution"]
    run = verify.run("marts", "test", url=url, datasets=marts)
    results = {r["check_key"]: r for r in verify.results(url, run["run_id"])}
    return url, changed, results


def q(url: str, text: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(text, params).fetchall()


def test_stale_2015_code_of_industrial_design_maps_to_460105(college):
    url, changed, _ = college
    row = q(
        url,
        "select admitted_major_code, is_stale_major_code from marts.fct_admissions"
        " where applicant_id = %s",
        [changed["stale"]],
    )
    assert row == [("460105", True)]
    # MAJ03 for 460105 counts every admitted applicant of 工业设计, the stale-coded one too
    admitted = q(
        url,
        "select count(*) from marts.fct_admissions where is_admitted"
        " and admitted_major_code = '460105'",
    )[0][0]
    maj03 = q(
        url,
        "select denominator from marts.fct_control_point_values"
        " where control_point_code = 'MAJ03' and unit_id = '460105'",
    )
    assert maj03 == [(admitted,)]


def test_admission_on_a_major_the_college_does_not_have_is_flagged(college):
    _, changed, results = college
    check = results["reference__admitted_major_offered"]
    assert check["outcome"] == "failed"
    assert check["failing_count"] == 1
    assert check["sample_keys"] == [f"考生号 {changed['unknown']} 录取专业代码 999999 不是本校专业"]


def test_absences_on_days_the_timetable_does_not_schedule_count_and_are_flagged(college):
    url, _, results = college
    unscheduled = q(
        url,
        """
        select count(*) from marts.fct_class_attendance as a
        join staging.stg_academic__sections as s on s.section_id = a.section_id
        join intermediate.int_students_conformed as st
            on st.student_id = a.student_id and st.class_id = s.class_id and st.status_code = '01'
        where a.is_absence and not exists (
            select 1 from intermediate.int_class_sessions_scheduled as c
            where c.section_id = a.section_id and c.session_date = a.attendance_date)
        """,
    )[0][0]
    assert unscheduled > 0  # the sandbox's teachers record absences on 9–16周 sections early
    counted = q(url, "select sum(absences) from intermediate.int_section_attendance_summarised")
    recorded = q(
        url,
        """
        select count(*) from marts.fct_class_attendance as a
        join staging.stg_academic__sections as s on s.section_id = a.section_id
        join intermediate.int_students_conformed as st
            on st.student_id = a.student_id and st.class_id = s.class_id and st.status_code = '01'
        where a.is_absence and s.term_id is not null
        """,
    )
    assert counted == recorded  # none dropped from 到课率
    over = q(
        url,
        "select count(*) from intermediate.int_section_attendance_summarised"
        " where absences > expected",
    )
    assert over == [(0,)]
    check = results["reference__attendance_on_scheduled_session"]
    assert check["outcome"] == "failed" and check["failing_count"] >= unscheduled
    assert "课表未排课" in check["sample_keys"][0]


def test_budget_spent_330_percent_is_below_the_line_and_flagged(college):
    url, changed, results = college
    row = q(
        url,
        "select value, status, owner_department from marts.fct_control_point_values"
        " where control_point_code = 'SCH07' and unit_id = %s",
        [changed["budget"]],
    )
    assert len(row) == 1 and 325 < row[0][0] < 335
    assert row[0][1:] == ("未达标", "财务处")
    check = results["value_range__committed_within_budget"]
    assert check["outcome"] == "failed"
    over = q(
        url,
        "select budget_item_id from marts.fct_budget_execution where committed_yuan > budget_yuan",
    )
    assert check["failing_count"] == len(over) and (changed["budget"],) in over
    assert all("执行率" in key for key in check["sample_keys"])


def test_control_point_values_name_their_units_and_wait_until_due(college):
    """Two weeks into term: 到课率 (due from day 14) and annual training hours (day 300) are
    not judged yet; every unit has a name in words, personal names masked."""
    url, _, _ = college
    rows = q(
        url,
        """
        select control_point_code, unit_type, unit_name, period_id, status
        from marts.fct_control_point_values
        """,
    )
    by_point: dict[str, list] = {}
    for code, unit_type, name, period, status in rows:
        by_point.setdefault(code, []).append((unit_type, name, period, status))
    current = by_point["CRS02"] + by_point["TCH01"]
    current = [r for r in current if r[2] in ("2026-2027-1", "2026-2027")]
    judged = [r for r in current if r[-1] is not None]
    assert current and judged == [], judged[:3]
    assert any(s is not None for *_, s in by_point["SCH01"])
    names = {t: n for t, n, *_ in (r for rs in by_point.values() for r in rs)}
    assert names["course"].startswith("课程 ") and "《" in names["course"]
    assert names["staff"].startswith("教师 工号 ") and names["staff"].endswith("*")
    assert names["student"].startswith("学生 学号 ") and "*" in names["student"]
    assert names["major"].startswith("专业 ") and names["budget_item"].startswith("预算项目 ")
    assert all(n for t, n, *_ in (r for rs in by_point.values() for r in rs))


def test_indicator_digests_roll_up_name_units_and_stay_small(college, catcher):
    """The college's control points become one warning per point and period; every digest
    names its units and sends people to Airflow, not to a command or a table."""
    from include.quality import digest, warnings

    url, _, _ = college
    synced = warnings.sync_indicator_warnings(url)
    keys = q(url, "select warning_key, sample_keys from quality.warnings where kind = 'indicator'")
    assert synced["opened"] and len(keys) == len({k for k, _ in keys})
    assert all(k.count("|") == 2 and units for k, units in keys)  # point|period, with units
    assert all("*" in u for k, units in keys if "|STU" in k for u in units)  # names masked
    sent = digest.send_digests(url=url)
    assert sent
    for msg in catcher.messages():
        assert len(msg.as_bytes()) < 200 * 1024
        for part in ("plain", "html"):
            body = msg.get_body((part,)).get_content()
            assert "./run" not in body and "quality.warnings" not in body
            assert "select " not in body and "/dags/quality_acknowledge" in body
