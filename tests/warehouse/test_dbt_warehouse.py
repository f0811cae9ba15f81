"""The warehouse on a sandbox college: dbt builds and tests pass, mart figures agree with the
sandbox's ground truth, holds keep pulls out of the marts, incremental facts catch up after
a simulated day, and the BI role reads marts with their Chinese comments but nothing else.

One session-scoped build (tests/warehouse/conftest.py: ~300 students, collected over HTTP by
the real connectors); the tests that change data run last and rebuild only what they touch.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

import psycopg
import pytest

from include.rules import codes
from include.warehouse import connection
from include.warehouse.bootstrap import BI_ROLE

pytestmark = pytest.mark.slow

STALE_TO_NEW = {row["code"]: row["new_code"] for row in codes.rows("major_codes_2015")}


def test_dbt_build_and_tests_pass(campus):
    assert "Completed successfully" in campus.build_output
    assert " ERROR=0 " in campus.build_output


def test_every_raw_resource_has_a_staging_model(campus):
    from connectors.spec import api_specs

    staged = {r[0] for r in campus.query(
        "select table_name from information_schema.tables where table_schema = 'staging'"
    )}  # fmt: skip
    expected = {f"stg_{sid}__{n}" for sid, spec in api_specs().items() for n in spec.landed}
    assert expected <= staged, sorted(expected - staged)


def test_enrolled_students_per_major_match_the_sandbox(campus):
    truth = Counter(
        r["zydm"]
        for r in campus.sb.truth("academic", "students").values()
        if r["xjztdm"] in ("01", "02")
    )
    rows = campus.query(
        "select major_code, sum(student_count) from marts.major_enrolment"
        " where is_enrolled group by major_code"
    )
    assert {code: int(n) for code, n in rows} == dict(truth)


def test_employment_rate_per_major_matches_the_sandbox(campus):
    destinations = campus.sb.truth("employment", "destinations")
    graduates = defaultdict(lambda: [0, 0])
    for key, g in campus.sb.truth("employment", "graduates").items():
        if g["BYNF"] != "2026":
            continue
        major = STALE_TO_NEW.get(g["ZYDM"], g["ZYDM"])
        graduates[major][0] += 1
        d = destinations.get(key)
        graduates[major][1] += bool(d and d["BYQXDM"] != "70")
    assert graduates, "the sandbox has no 2026 graduates"
    rows = campus.query(
        "select major_code, graduates, placed, placement_rate from marts.major_employment"
        " where graduation_year = 2026"
    )
    got = {code: (n, placed, rate) for code, n, placed, rate in rows}
    for major, (n, placed) in graduates.items():
        assert got[major][:2] == (n, placed), major
        assert got[major][2] == round(Decimal(placed) / n, 4)
    assert set(got) == set(graduates)


def test_card_spending_per_month_matches_the_sandbox(campus):
    sign = {"15": 1, "23": -1, "30": 0}
    truth = defaultdict(int)
    for t in campus.sb.truth("campus_card", "transactions").values():
        month = f"{t['JnDateTime'][:4]}-{t['JnDateTime'][4:6]}"
        truth[month] += sign[t["TranCode"]] * t["TranAmt"]
    rows = campus.query(
        "select calendar_month, sum(spending_yuan) from marts.card_spending_monthly group by 1"
    )
    assert {m: v for m, v in rows} == {m: Decimal(c) / 100 for m, c in truth.items()}


def test_staging_parses_every_time_format_to_timestamptz(campus):
    rows = campus.query(
        "select table_name, column_name from information_schema.columns"
        " where table_schema = 'staging' and column_name in"
        " ('updated_at', 'transacted_at', 'booked_at', 'created_at', 'checked_at')"
        " and data_type <> 'timestamp with time zone'"
    )
    assert rows == []
    # compact, epoch-ms and ISO-offset sources all land on the same wall clock (+08:00)
    (card,) = campus.query(
        "select to_char(transacted_at at time zone 'Asia/Shanghai', 'YYYYMMDDHH24MISS'),"
        " source_key from staging.stg_campus_card__transactions limit 1"
    )
    record = campus.sb.truth("campus_card", "transactions")[card[1]]
    assert card[0] == record["JnDateTime"]


def test_identities_are_linked_by_identifier_and_gaps_are_surfaced(campus):
    noise = campus.sb.noise()
    missing_cards = {
        n["person"]
        for n in noise
        if n["kind"] == "missing_mapping" and n["subsystem"] == "campus_card"
    }
    issues = campus.query(
        "select subsystem_id, issue_type, responsible_department from marts.identity_issues"
    )
    kinds = Counter((s, t) for s, t, _ in issues)
    if missing_cards:
        assert kinds[("campus_card", "missing_identifier")] >= 1
    assert all(dept for _, _, dept in issues), "every issue names a responsible department"
    # no student is linked to a card account without a 学号 on it
    (unlinked,) = campus.query(
        "select count(*) from marts.dim_students s join staging.stg_campus_card__accounts a"
        " on s.card_account_id = a.account_id where a.person_number is null"
    )
    assert unlinked == (0,)


def test_marts_mask_personal_identifiers(campus):
    rows = campus.query(
        "select table_name, column_name from information_schema.columns"
        " where table_schema = 'marts' and column_name in ('id_number', 'phone', 'mobile')"
    )
    assert rows == []
    ids = {r["sfzjh"] for r in campus.sb.truth("academic", "students").values()}
    masked = campus.query("select id_number_masked, id_number_hash from marts.dim_students")
    assert masked and all("*" in m and m not in ids and len(h) == 64 for m, h in masked)


def test_control_points_have_values_and_a_status(campus):
    rows = campus.query(
        "select p.control_point_code, count(v.value), array_agg(distinct v.status)"
        " from marts.dim_control_points p left join marts.fct_control_point_values v"
        " using (control_point_code) group by 1"
    )
    by_code = {code: (n, set(statuses) - {None}) for code, n, statuses in rows}
    for code in ("SCH01", "SCH02", "MAJ01", "CRS01", "CRS02", "STU01"):
        assert by_code[code][0] > 0, code
        assert by_code[code][1] <= {"达标", "预警", "未达标"}
    # 生师比 = enrolled students / active full-time teachers, from the sandbox directly
    students = sum(
        r["xjztdm"] in ("01", "02") for r in campus.sb.truth("academic", "students").values()
    )
    teachers = sum(
        r["GWLB"] == "专任教师" and r["RYZT"] == "在职"
        for r in campus.sb.truth("teacher_development", "staff").values()
    )
    (value,) = campus.query(
        "select value from marts.fct_control_point_values where control_point_code = 'SCH01'"
    )
    assert value[0] == round(Decimal(students) / teachers, 4)


def test_data_responsibility_answers_who_is_responsible(campus):
    rows = campus.query(
        "select dbt_group, managing_departments, quality_administrators, collectors"
        " from marts.data_responsibility"
        " where table_name = 'dim_students' and column_name = 'id_number_masked'"
    )
    assert rows == [("教务处", "教务处", "教务处 黄晓燕", rows[0][3])]
    (card,) = campus.query(
        "select subsystem_id, managing_departments from marts.data_responsibility"
        " where table_name = 'dim_students' and column_name = 'card_account_id'"
    )
    assert card == ("campus_card", "信息中心")
    tables = {
        r[0] for r in campus.query("select distinct table_name from marts.data_responsibility")
    }
    marts = {r[0] for r in campus.query(
        "select table_name from information_schema.tables where table_schema = 'marts'"
    )}  # fmt: skip
    assert marts <= tables, sorted(marts - tables)


def test_bi_role_reads_marts_and_comments_but_not_raw_or_staging(campus):
    url = connection.with_db(connection.role_url(BI_ROLE), campus.db_url.rsplit("/", 1)[1])
    with psycopg.connect(url) as conn:
        count = conn.execute("select count(*) from marts.dim_students").fetchone()[0]
        assert count > 0
        comment = conn.execute(
            "select obj_description('marts.dim_students'::regclass, 'pg_class'),"
            " col_description('marts.dim_students'::regclass, 1)"
        ).fetchone()
        assert comment[0].startswith("学生维度") and comment[1].startswith("学号")
        for table in ("raw_academic.students", "staging.stg_academic__students"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select * from {table} limit 1")
            conn.rollback()


def test_every_mart_column_has_a_chinese_comment(campus):
    rows = campus.query(
        "select c.table_name, c.column_name from information_schema.columns c"
        " where c.table_schema = 'marts' and coalesce(col_description("
        " (quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass,"
        " c.ordinal_position), '') !~ '[\u4e00-\u9fff]'"
    )
    assert rows == []


# -- tests that change data: keep them last ---------------------------------------------------


def test_held_pull_stays_out_of_the_marts_until_released(campus):
    """Write–audit–publish: a new version in a held pull is invisible; release publishes it."""
    key = campus.query(
        "select student_id from marts.dim_students where status_code = '01' limit 1"
    )[0][0]
    with psycopg.connect(campus.db_url, autocommit=True) as conn:
        pull = conn.execute(
            "insert into landing.run_log (subsystem, resource, mode, status, finished_at)"
            " values ('academic', 'students', 'incremental', 'success', now()) returning pull_id"
        ).fetchone()[0]
        conn.execute(
            "insert into raw_academic.students"
            " select %s, now(), source_key, 'held-version',"
            ' payload || \'{"xm": "暂扣测试", "gxsj": "2026-12-31 00:00:00"}\''
            " from raw_academic.students where source_key = %s limit 1",
            [pull, key],
        )
        conn.execute(
            "insert into quality.holds (pull_id, subsystem, resource, reason)"
            " values (%s, 'academic', 'students', 'test')",
            [pull],
        )
    campus.dbt("build", "--select", "stg_academic__students+", "--exclude", "resource_type:test")
    assert campus.query("select name from marts.dim_students where student_id = %s", [key]) != [
        ("暂扣测试",)
    ]
    with psycopg.connect(campus.db_url, autocommit=True) as conn:
        conn.execute("update quality.holds set released_at = now() where pull_id = %s", [pull])
    campus.dbt("build", "--select", "stg_academic__students+", "--exclude", "resource_type:test")
    assert campus.query("select name from marts.dim_students where student_id = %s", [key]) == [
        ("暂扣测试",)
    ]
    # history (SCD2): the published change opened a second version in the students snapshot
    campus.dbt("snapshot", "--select", "snp_students")
    versions = campus.query(
        "select name, dbt_valid_to is null from snapshots.snp_students where student_id = %s"
        " order by dbt_valid_from",
        [key],
    )
    assert [v[1] for v in versions] == [False, True] and versions[-1][0] == "暂扣测试"


def test_incremental_facts_catch_up_after_one_simulated_day(campus):
    campus.sb.advance(1)
    campus.collect(mode="incremental")
    campus.dbt("build", "--exclude", "resource_type:test")
    truth = campus.sb.truth("campus_card", "transactions")
    (n,) = campus.query("select count(*) from marts.fct_card_transactions")
    assert n[0] == len(truth)
    grades = campus.sb.truth("academic", "grades")
    (g,) = campus.query("select count(*) from marts.fct_grades")
    assert g[0] == len(grades)
