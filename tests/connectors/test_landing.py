"""Landing on the real warehouse: verbatim payloads, idempotence, versions, rejects, run log."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta

import psycopg
import pytest

from connectors import spec as spec_mod
from connectors.landing import Landing, canonical, canonical_bytes, payload_hash
from include.rules.dates import TZ

T0 = datetime(2026, 9, 1, 10, 0, tzinfo=TZ)


@pytest.fixture
def conn(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as c:
        yield c


@pytest.fixture
def students():
    """academic.students under a schema of its own, so other tests' tables stay untouched."""
    spec = dataclasses.replace(spec_mod.spec_for("academic"), subsystem="zz_landing_test")
    return spec, spec.resources["students"]


def student(xh: str, **changes) -> dict:
    record = {"xh": xh, "xm": "张三", "xbm": "1", "csrq": "20080101", "mzm": "01",
              "zzmmm": "03", "sfzjh": "34052419800101001X", "zydm": "550102",
              "bh_id": "2026101010", "gxsj": "2026-09-01 10:00:00"}  # fmt: skip
    return {**record, **changes}


def pull(conn, spec, res, pages: list[list], at: datetime = T0) -> dict:
    landing = Landing(conn, spec, res, title="测试")
    landing.ensure_table()
    landing.start("full", (at - timedelta(days=1), at), None, None)
    for i, records in enumerate(pages):
        landing.add(records, None, at + timedelta(seconds=i))
        landing.flush()
    return landing.finish("success")


def latest(conn, table: str) -> dict[str, dict]:
    rows = conn.execute(
        "select source_key, payload from landing.latest_versions(%s)", [table]
    ).fetchall()
    return dict(rows)


def test_rerun_adds_nothing_and_a_change_is_a_new_version(conn, students):
    spec, res = students
    table = "raw_zz_landing_test.students"
    first = pull(conn, spec, res, [[student("1"), student("2")], [student("2"), student("3")]])
    assert (first["fetched"], first["landed"], first["duplicates"]) == (4, 3, 1)
    again = pull(conn, spec, res, [[student("1"), student("2"), student("3")]])
    assert (again["landed"], again["duplicates"], again["rejected"]) == (0, 3, 0)
    changed = student("2", xm="李四", gxsj="2026-09-02 09:00:00")
    third = pull(conn, spec, res, [[changed]], at=T0 + timedelta(days=1))
    assert third["landed"] == 1
    versions = conn.execute(f"select count(*) from {table} where source_key = '2'").fetchone()
    assert versions == (2,)  # the old version stays
    assert latest(conn, table)["2"] == changed
    # and back again (A → B → A): A is current again, still one row per version
    fourth = pull(conn, spec, res, [[student("2")]], at=T0 + timedelta(days=2))
    assert fourth["landed"] == 1
    assert latest(conn, table)["2"] == student("2")
    assert conn.execute(f"select count(*) from {table}").fetchone() == (4,)
    for r in (first, again, third, fourth):
        assert r["fetched"] == r["landed"] + r["duplicates"] + r["rejected"]
        assert r["status"] == "success"


def test_payload_is_kept_verbatim_with_its_hash(conn, students):
    spec, res = students
    odd = '设计作品🎨✨ \u202e反转\u202c 𠀀𪚥 \\u0041 "引号" 第一行\n第二行\t'
    hostile = student("h1", xm="'; DROP TABLE students; --", kzzd1="扩展字段值", sjhm=odd)
    long_text = student("h2", xm="很长的文本" * 1000)
    pull(conn, spec, res, [[hostile, long_text]])
    rows = dict(
        conn.execute(
            "select source_key, payload from raw_zz_landing_test.students"
            " where source_key in ('h1', 'h2')"
        ).fetchall()
    )
    assert rows == {"h1": hostile, "h2": long_text}
    stored = conn.execute(
        "select payload_hash from raw_zz_landing_test.students where source_key = 'h1'"
    ).fetchone()[0]
    assert stored == payload_hash(canonical(hostile))


def test_records_that_cannot_land_go_to_rejects_with_reason_and_raw_text(conn, students):
    spec, res = students
    bad = [
        student("r1", xbm="7"),
        student("r2", csrq="20230231"),
        {k: v for k, v in student("r3").items() if k != "xm"},
        student("", xm="无主键"),
        student("r5", sfzjh="340524198001010010"),
        "<not an object>",
        student("r7", xm="含\u0000的文本"),
    ]
    result = pull(conn, spec, res, [[*bad, student("ok")]])
    assert (result["fetched"], result["landed"], result["rejected"]) == (8, 1, 7)
    rows = conn.execute(
        "select source_key, reason_code, field, reason, raw_text from landing.rejects"
        " where pull_id = %s order by reject_id",
        [result["pull_id"]],
    ).fetchall()
    codes = [r[1] for r in rows]
    assert codes == ["invalid_code", "impossible_date", "missing_required", "missing_key",
                     "bad_id_checksum", "not_json", "not_storable"]  # fmt: skip
    for key, code, field, reason, raw in rows:
        if field:
            assert field in reason
        if code not in ("not_json", "not_storable"):
            assert json.loads(raw) == next(b for b in bad if isinstance(b, dict) and
                                           b.get("xh") == (key or ""))  # fmt: skip
    assert rows[5][4] == "<not an object>"


def test_run_log_refuses_counts_that_do_not_reconcile(conn):
    pull_id = conn.execute(
        "insert into landing.run_log (subsystem, resource, mode) values ('x', 'y', 'full')"
        " returning pull_id"
    ).fetchone()[0]
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "update landing.run_log set status = 'success', fetched = 3, landed = 1"
            " where pull_id = %s",
            [pull_id],
        )
    comment = conn.execute("select obj_description('landing.run_log'::regclass)").fetchone()[0]
    assert "拉取" in comment


def test_fast_canonical_text_is_exactly_json_dumps():
    """The stored text and its hash are json.dumps' canonical form, whichever encoder ran."""
    from connectors.client import JsonDecoder

    body = (
        '[{"b": 1, "a": [1.5, 2, null, true, {"z": "x", "É": 1, "𠀀": 2}], "中": "文\\n\\t\\"",'
        ' "big": 1e16, "small": 1e-07, "money": 12.3456, "int": 12345678901234567890}]'
    ).encode()
    records, fast = JsonDecoder().decode(body)
    assert fast is False  # exponent-form floats: landing must not use the fast encoder
    for mode in (fast, None):
        assert canonical_bytes(records[0], mode) == canonical(records[0]).encode()
    plain, fast = JsonDecoder().decode(b'[{"x": 12.5, "y": "7e5 in text"}]')
    assert fast is True and canonical_bytes(plain[0], True) == canonical(plain[0]).encode()
    lenient, fast = JsonDecoder().decode(b'[{"x": NaN}]')
    assert fast is False and lenient[0]["x"] != lenient[0]["x"]


def test_floats_in_exponent_form_and_nan_are_handled_at_landing(conn, students):
    from connectors.client import JsonDecoder

    spec, res = students
    body = json.dumps([student("f1", zf=1e16), student("f2", zf=float("nan"))]).encode()
    records, fast = JsonDecoder().decode(body)  # NaN: only json accepts it
    landing = Landing(conn, spec, res, title="测试")
    landing.ensure_table()
    landing.start("full", None, None, None)
    landing.add(records, None, T0, fast)
    landing.flush()
    result = landing.finish("success")
    assert (result["landed"], result["rejected"]) == (1, 1)
    stored = conn.execute(
        "select payload, payload_hash from raw_zz_landing_test.students where source_key = 'f1'"
    ).fetchone()
    assert stored[0] == records[0]
    assert stored[1] == payload_hash(canonical(records[0]))
    code = conn.execute(
        "select reason_code from landing.rejects where pull_id = %s", [result["pull_id"]]
    ).fetchone()
    assert code == ("not_storable",)
