"""Determinism, realistic content and one person across systems."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sandbox import Sandbox
from sandbox.codes import NATION, POLITICAL, id_valid

API_MD = Path(__file__).parents[2] / "sandbox" / "API.md"


def test_same_seed_same_college_and_clock_path_does_not_matter():
    a = Sandbox(seed=7, scale=200, days=9)
    b = Sandbox(seed=7, scale=200, days=4)
    b.advance(2)
    b.advance(3)
    other = Sandbox(seed=8, scale=200, days=9)
    for subsystem, info in a.catalog().items():
        for resource in info["resources"]:
            assert a.truth(subsystem, resource) == b.truth(subsystem, resource), (
                subsystem,
                resource,
            )
    assert a.truth("academic", "students") != other.truth("academic", "students")


@pytest.mark.parametrize("scale", [200, 1000])
def test_scale_is_students_in_school(scale):
    sb = Sandbox(scale=scale, days=0)
    students = sb.truth("academic", "students").values()
    in_school = [s for s in students if s["njdm_id"] in ("2024", "2025", "2026")]
    assert abs(len(in_school) - scale) <= max(40, scale * 0.05)


def test_national_codes_and_id_numbers(shared):
    for subsystem, resource, sex, nation, political, ident in [
        ("academic", "students", "xbm", "mzm", "zzmmm", "sfzjh"),
        ("teacher_development", "staff", "XBM", "MZM", "ZZMMM", "SFZJH"),
        ("employment", "graduates", "XBM", "MZM", "ZZMMM", "SFZJH"),
    ]:
        for record in shared.sb.truth(subsystem, resource).values():
            assert record[sex] in ("1", "2")
            assert record[nation] in NATION
            assert record[political] in POLITICAL
            assert id_valid(record[ident]), record[ident]
            assert record[ident][6:14] == record.get(
                "csrq", record.get("CSRQ", record[ident][6:14])
            )
    majors = {m["zydm"] for m in shared.sb.truth("academic", "majors").values()}
    assert len(majors) >= 38 and all(re.fullmatch(r"[45]\d{5}", c) for c in majors)


def test_a_student_is_the_same_person_in_every_system(shared):
    sb = shared.sb
    noise = {(n["subsystem"], n["person"], n["kind"]) for n in sb.noise()}
    students = sb.truth("academic", "students")
    accounts = {a["CardNo"]: a for a in sb.truth("campus_card", "accounts").values()}
    by_stu = {a["StuEmpNo"]: a for a in accounts.values() if a["StuEmpNo"]}
    mismatched = 0
    for xh, s in students.items():
        card = by_stu.get(xh)
        if card is None:
            assert ("campus_card", xh, "missing_mapping") in noise
            continue
        if card["CustName"] != s["xm"]:
            assert ("campus_card", xh, "name_variant") in noise
            mismatched += 1
        assert card["CustType"] == "1" and card["DeptCode"] == s["jgdm"]
    assert mismatched < len(students) * 0.05
    for e in sb.truth("admissions", "enrolments").values():
        assert students[e["XH"]]["xm"] == e["XM"]
    for g in sb.truth("employment", "graduates").values():
        s = students[g["XH"]]
        assert g["SFZJH"] == s["sfzjh"]
        assert g["ZYDM"] == s["zydm"] or ("employment", g["XH"], "stale_major_code") in noise
    transactions = sb.truth("campus_card", "transactions", since="2026-09-15", until="2026-09-16")
    assert all(
        t["StuEmpNo"] in students
        or t["StuEmpNo"] in sb.truth("teacher_development", "staff")
        or t["StuEmpNo"] == ""
        for t in transactions.values()
    )


def test_a_staff_member_is_the_same_person_in_every_system(shared):
    sb = shared.sb
    roster = sb.truth("teacher_development", "staff")
    users = sb.truth("dingtalk", "users").values()
    by_number = {u["job_number"]: u for u in users if u.get("job_number") in roster}
    assert len(by_number) > 0.9 * sum(1 for s in roster.values() if s["RYZT"] == "在职")
    for gh, user in by_number.items():
        assert user["name"] == roster[gh]["XM"] or any(
            n["person"] == gh and n["kind"] == "name_variant" for n in sb.noise()
        )
    external = [u for u in users if u.get("job_number") not in roster]
    assert external  # 外聘 teachers and missing mappings exist, as in real colleges
    cards = {a["StuEmpNo"]: a for a in sb.truth("campus_card", "accounts").values()}
    assert sum(1 for gh in roster if gh in cards) > 0.95 * len(roster)
    for section in sb.truth("academic", "sections").values():
        assert roster[section["jsgh"]]["GWLB"] == "专任教师"
    for klass in sb.truth("academic", "classes").values():
        assert roster[klass["fdy_gh"]]["GWLB"] == "辅导员"


def test_identity_noise_can_be_switched_off():
    zero = {"name_variant": 0, "stale_major_code": 0, "missing_mapping": 0}
    sb = Sandbox(scale=200, days=1, identity_noise=zero)
    assert sb.noise() == []
    accounts = {a["StuEmpNo"]: a for a in sb.truth("campus_card", "accounts").values()}
    for xh, s in sb.truth("academic", "students").items():
        assert accounts[xh]["CustName"] == s["xm"]


def test_credentials_default_and_env_override(monkeypatch):
    sb = Sandbox(scale=200, days=0)
    assert sb.credentials("campus_card") == ("campus_card-demo-key", "campus_card-demo-secret")
    monkeypatch.setenv("SANDBOX_CAMPUS_CARD_KEY", "k")
    monkeypatch.setenv("SANDBOX_CAMPUS_CARD_SECRET", "s")
    assert sb.credentials("campus_card") == ("k", "s")


def test_api_md_documents_every_field_the_api_serves(shared):
    documented = _api_md_fields()
    catalog = shared.sb.catalog()
    for subsystem, info in catalog.items():
        for resource, entry in info["resources"].items():
            assert documented.get((subsystem, resource)) == entry["fields"], (subsystem, resource)
            assert entry["path"] in API_MD.read_text(encoding="utf-8")
            served = set().union(*(r.keys() for r in shared.sb.truth(subsystem, resource).values()))
            assert served <= set(entry["fields"]), (
                subsystem,
                resource,
                served - set(entry["fields"]),
            )
            for record in shared.sb.truth(subsystem, resource).values():
                assert all(record.get(f) not in (None, "") for f in entry["required"]), record


def _api_md_fields() -> dict:
    out: dict = {}
    subsystem = resource = None
    for line in API_MD.read_text(encoding="utf-8").splitlines():
        if m := re.match(r"## ([a-z_]+) — ", line):
            subsystem, resource = m.group(1), None
        elif m := re.match(r"### ([a-z_]+) — ", line):
            resource = m.group(1)
            out[(subsystem, resource)] = []
        elif (
            resource and (m := re.match(r"\| ([A-Za-z_0-9]+) \| ", line)) and m.group(1) != "field"
        ):
            out[(subsystem, resource)].append(m.group(1))
        elif line.startswith("## "):
            subsystem = resource = None
    return out
