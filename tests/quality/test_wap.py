"""Write–audit–publish end to end: a held batch never reaches the marts; releasing it does.

Real dbt (`dbt build +dim_students`, through the staging `publishable()` filter), real Soda,
real PostgreSQL, the clean sandbox landed through the collection code.
"""

from __future__ import annotations

import psycopg
import pytest

from include.quality import holds, verify
from include.warehouse import dbt

from .conftest import fresh_database, land
from .test_defects import _bypass

pytestmark = pytest.mark.slow


def _build(url: str, tmp_path) -> None:
    dbt.run(
        ["build", "--select", "+dim_students", "--exclude", "test_type:data",
         "--target-path", str(tmp_path / "dbt_target")],
        url=url,
    )  # fmt: skip


def _name(url: str, student_id: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select name from marts.dim_students where student_id = %s", [student_id]
        ).fetchone()
    return row[0] if row else None


def test_held_batch_never_reaches_the_marts_and_release_publishes_it(warehouse_url, tmp_path):
    from sandbox import Sandbox

    url = fresh_database(warehouse_url, "quality_wap_test")
    sb = Sandbox(seed=2026, scale=300, start="2026-09-01", days=21)  # no faults
    students = sb.truth("academic", "students")
    land(url, "academic", "students", list(students.values()))
    land(url, "admissions", "enrolments", list(sb.truth("admissions", "enrolments").values()))
    land(url, "campus_card", "accounts", list(sb.truth("campus_card", "accounts").values()))
    first = verify.run("raw", "landing", url=url)
    assert first["held"] == []
    _build(url, tmp_path)
    key, record = next(iter(students.items()))
    published_name = record["xm"]
    assert _name(url, key) == published_name

    # a new batch: the student's name changed, and a record with a wrong ID check digit that
    # bypassed the landing gate. The blocking check fails and the whole batch is held.
    changed = {**record, "xm": published_name + "（改）", "gxsj": "2026-09-21 10:00:00"}
    other_key, other = list(students.items())[1]
    broken = {**other, "sfzjh": other["sfzjh"][:17] + ("0" if other["sfzjh"][17] != "0" else "1")}
    pull = _bypass(url, "academic", "students", [changed, broken], [key, other_key])
    audit = verify.run("raw", "landing", url=url, datasets=["raw_academic.students"])
    assert audit["held"] == [pull]
    _build(url, tmp_path)
    assert _name(url, key) == published_name  # the held version is not in the marts

    # the re-check keeps it held while the check still fails
    again = verify.run("raw", "landing", url=url, datasets=["raw_academic.students"])
    assert again["released"] == [] and holds.list_holds(url, open_only=True)

    # 教务处's quality administrator accepts the batch: the next build publishes it
    holds.release(pull, "huang.xiaoyan@hngy.example.cn", "身份证号已与学生本人核对无误", url)
    _build(url, tmp_path)
    assert _name(url, key) == published_name + "（改）"
    held = next(h for h in holds.list_holds(url) if h["pull_id"] == pull)
    assert held["released_by"].startswith("黄晓燕") and held["release_kind"] == "accepted"
    assert "身份证号" in held["reason"]

    # the quality mart: pass rates per day, subsystem, department and principle
    dbt.run(
        ["build", "--select", "+quality_check_daily", "+quality_department_daily",
         "--target-path", str(tmp_path / "dbt_target")],
        url=url,
    )  # fmt: skip
    with psycopg.connect(url) as conn:
        rates = conn.execute(
            "select principle, pass_rate from marts.quality_check_daily"
            " where dataset = 'raw_academic.students' order by principle"
        ).fetchall()
        departments = {
            d for (d,) in conn.execute("select department from marts.quality_department_daily")
        }
    assert {p for p, _ in rates} == {"原始性", "规范性", "完整性", "即时性"}
    assert all(0 <= r <= 100 for _, r in rates) and any(r < 100 for _, r in rates)
    assert {"教务处", "招生就业指导处", "信息中心"} <= departments
    marts = verify.run(
        "marts", "warehouse", url=url, datasets=["marts.dim_students", "marts.quality_check_daily"]
    )
    # dim_students: schema, row count, key missing/duplicate, two masking checks; plus the
    # quality mart's own schema and row count.
    assert (marts["checks"], marts["passed"]) == (8, 8)
