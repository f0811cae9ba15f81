"""Correction requests on a real landed college: bad requests refused with one Chinese line and
nothing written; an approved, verified correction reaches staging and the history mart through
the overlay (raw untouched); a refused one changes nothing; confirmed at source on a later pull;
the collector warned when the source keeps the old value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from include.corrections import requests as creq
from include.corrections import workflow
from tests.corrections.conftest import query

MODELS = ["run", "-s", "stg_academic__students", "correction_history"]


def _students(url, n=4):
    return query(
        url,
        "select source_key, payload ->> 'mzm' from raw_academic.students "
        "where payload ->> 'mzm' = '01' order by source_key limit %s",
        [n],
    )


def _req(key, field="mzm", new="02", **kw):
    return creq.Request(
        reporting_department="教务处", subsystem="academic",
        items=(creq.Item("students", key, field, new),), reason="民族码录入错误，依据户口簿更正",
        filler_name="黄晓燕", filler_user="huang.xiaoyan", **kw,
    )  # fmt: skip


def _dbt(url):
    from include.warehouse import dbt

    dbt.run(MODELS, url=url)


def _staged(url, key):
    return query(
        url,
        "select ethnicity_code from staging.stg_academic__students where source_key = %s",
        [key],
    )[0][0]


def _sign_all(url, request_id, refuse_at=None):
    from include.corrections.chain import signers

    for s in signers("academic", "教务处"):
        decision = "refuse" if s.step == refuse_at else "approve"
        who = {"assignee_user": s.user, "assignee_name": s.name, "responded_by": s.user}
        workflow.record_step(request_id, s.step, decision, opinion="核对无误", **who)
        if decision == "refuse":
            workflow.close(request_id, "refused", "证明材料不足")
            return
        if s.step == "vice_president":
            workflow.approve(request_id)
    workflow.verify(request_id)


def test_bad_requests_are_refused_and_change_nothing(landed, monkeypatch):
    monkeypatch.setenv("XIAOBEN_DATABASE_URL", landed)
    key = _students(landed)[0][0]
    cases = {
        "字段不存在": _req(key, field="nosuchfield"),
        "没有这条记录": _req("no-such-student"),
        "不在 GB 3304": _req(key, new="ZZ"),
        "与当前值相同": _req(key, new="01"),
        "不是整数": creq.Request(
            "教务处",
            "academic",
            (creq.Item("students", key, "njdm_id", "二〇二五"),),
            "年级错误",
            "黄晓燕",
        ),
        "没有数据资源": creq.Request(
            "教务处", "academic", (creq.Item("nope", key, "mzm", "02"),), "x", "黄晓燕"
        ),
        "报送部门": _req(key).__class__("无此部门", "academic", _req(key).items, "x", "黄晓燕"),
    }
    for expected, bad in cases.items():
        with pytest.raises(creq.CorrectionError, match=expected) as err:
            creq.submit(bad, url=landed)
        assert "\n" not in str(err.value)
    assert query(landed, "select count(*) from corrections.requests")[0][0] == 0
    # the form-number sequence did not move either (the transaction rolled back)
    assert query(landed, "select count(*) from corrections.form_numbers")[0][0] == 0


def test_correction_end_to_end_in_the_warehouse(landed, monkeypatch):
    monkeypatch.setenv("XIAOBEN_DATABASE_URL", landed)
    (good, _), (refused, _), (busy, _), (stale, _) = _students(landed)

    ok = creq.submit(_req(good), url=landed)
    warning_id = _open_warning(landed, good)
    assert ok["form_no"].startswith(f"GY-{datetime.now().year}-")
    with pytest.raises(creq.CorrectionError, match="已在更正中"):  # an open correction
        creq.submit(_req(good, new="03"), url=landed)
    _sign_all(landed, ok["request_id"])

    resolved = query(landed, "select status, resolution from quality.warnings "
                     "where warning_id = %s", [warning_id])  # fmt: skip
    assert resolved[0][0] == "resolved" and ok["form_no"] in resolved[0][1]  # closes the loop

    no = creq.submit(_req(refused), url=landed)
    _sign_all(landed, no["request_id"], refuse_at="vice_president")
    assert workflow.status(no["request_id"]) == "refused"

    st = creq.submit(_req(stale, new="03"), url=landed)
    _sign_all(landed, st["request_id"])

    _dbt(landed)
    assert _staged(landed, good) == "02"  # the overlay applies in staging
    assert _staged(landed, refused) == "01"  # a refused correction changes nothing
    assert _staged(landed, busy) == "01"
    raw = query(landed, "select payload ->> 'mzm' from raw_academic.students where source_key = %s",
                [good])  # fmt: skip
    assert raw == [("01",)]  # raw is never edited
    hist = {
        r[0]: r[1:]
        for r in query(
            landed,
            "select source_key, form_no, original_value, corrected_value, status, applied, "
            "verified_by, jsonb_array_length(approvals) from marts.correction_history",
        )
    }
    assert hist[good] == (
        ok["form_no"],
        "01",
        "02",
        "verified",
        True,
        "袁芳",
        3,
    )  # heads coincide: 3 steps
    assert hist[refused][3:5] == ("refused", False)

    with pytest.raises(psycopg.errors.RaiseException, match="只能由更正流程写入"):
        query(landed, "delete from corrections.overlay")

    # The next pull carries the corrected value for `good`, the old one for `stale`.
    _land(landed, good, "02")
    _land(landed, stale, "01")
    seen = workflow.check_sources(url=landed)
    assert seen == {"confirmed": [ok["form_no"]], "warned": []}
    later = datetime.now(UTC) + timedelta(days=workflow.source_warn_days() + 1)
    assert workflow.check_sources(url=landed, now=later)["warned"] == [st["form_no"]]
    warning = query(
        landed,
        "select title, recipients::text from quality.warnings "
        "where check_key = 'correction_not_confirmed_at_source'",
    )
    assert st["form_no"] in warning[0][0] and "huang.xiaoyan" in warning[0][1]
    _dbt(landed)
    assert _staged(landed, stale) == "03"  # the overlay keeps the approved value
    confirmed = query(
        landed,
        "select confirmed_at_source_at is not null from marts.correction_history "
        "where source_key = %s",
        [good],
    )
    assert confirmed == [(True,)]


def _open_warning(url, key) -> int:
    """A data warning on one student record, as the quality checks would open it."""
    from include.quality.warnings import _open_or_update

    values = {"kind": "data", "subsystem": "academic", "severity": "warn",
              "title": "民族码与户籍不符", "detail": "抽查发现", "sample_keys": [key],
              "recipients": []}  # fmt: skip
    with psycopg.connect(url) as conn:
        return _open_or_update(conn, f"test:{key}", values, None, 3)[0]


def _land(url, key, mzm):
    from connectors.landing import Landing
    from include.registry import registry

    spec = registry().subsystems["academic"].api
    payload = query(url, "select payload from raw_academic.students where source_key = %s "
                    "order by fetched_at desc limit 1", [key])[0][0]  # fmt: skip
    with psycopg.connect(url) as conn:
        landing = Landing(conn, spec, spec.resources["students"])
        landing.start("incremental", None, None, None)
        landing.add([{**payload, "mzm": mzm, "gxsj": "2026-09-20 10:00:00"}], None,
                    datetime.now(UTC))  # fmt: skip
        landing.flush()
        landing.finish("success")


ANNEX1 = ("数据采集更正表", "报送部门", "数据采集更正内容", "填报人", "组织或归口管理部门意见",
          "分管副院长意见", "质管办核验", "电子签名")  # fmt: skip


def pdf_text(path: str) -> str:
    """The PDF's text as a reader sees it (poppler's pdftotext: the CJK font is embedded)."""
    import subprocess

    return subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


def test_annex1_form_carries_every_field(landed, monkeypatch, tmp_path):
    from include.corrections import form
    from include.warehouse import credentials, roles

    monkeypatch.setenv("XIAOBEN_DATABASE_URL", landed)
    # the form goes to a state folder of its own; the quality role's login stays the session's
    monkeypatch.setenv("XIAOBEN_QUALITY_PASSWORD", credentials.password(roles.QUALITY))
    monkeypatch.setenv("XIAOBEN_HOME", str(tmp_path))
    rid = query(landed, "select request_id from corrections.requests where status = 'verified' "
                "order by request_id limit 1")[0][0]  # fmt: skip
    out = form.render(rid, url=landed)
    import shutil

    shutil.copy(out["pdf"], "/tmp/corrections_form_test.pdf")  # for a human look (pdftoppm)
    text = pdf_text(out["pdf"])
    flat = "".join(text.split())
    for label in ANNEX1:
        assert label in flat, label
    for name in ("黄晓燕", "周立新", "欧阳建华", "袁芳", out["form_no"]):
        assert name in flat, name
    assert "民族码录入错误" in flat and "01→更正值02" in flat
    html = open(out["html"], encoding="utf-8").read()
    assert all(label in html for label in ANNEX1)
    registered = query(landed, "select pdf_sha256 from corrections.forms where form_no = %s",
                       [out["form_no"]])  # fmt: skip
    assert registered == [(out["pdf_sha256"],)]
