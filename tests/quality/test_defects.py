"""Every defect class the sandbox injects is caught by a named check; holds follow blocking checks.

Real PostgreSQL, real Soda, the real sandbox (scale 300, faults on) landed through the
collection code. The injected record defects are refused at landing and caught from
`landing.rejects`; the same defects written straight into raw (a bypassed gate) are caught by
the raw guards, which hold the batch.
"""

from __future__ import annotations

import json
from collections import Counter

import psycopg
import pytest

from include.quality import holds, verify

from .conftest import RESOURCES, land

pytestmark = pytest.mark.slow
DEFECTS = ("missing_key", "missing_required", "invalid_code", "impossible_date", "bad_id_checksum")


def _by_check(url, run_id) -> dict:
    return {(r["dataset"], r["check_key"]): r for r in verify.results(url, run_id)}


@pytest.fixture(scope="module")
def first_run(quality_url, landed):
    datasets = [f"raw_{s}.{r}" for s, r in RESOURCES] + ["raw_oa.documents"]
    return verify.run("raw", "landing", url=quality_url, datasets=datasets)


def test_every_injected_defect_class_is_caught_by_a_named_check(quality_url, sandbox, first_run):
    results = _by_check(quality_url, first_run["run_id"])
    caught = set()
    for subsystem, resource in RESOURCES:
        dataset = f"raw_{subsystem}.{resource}"
        injected = Counter(d["defect_class"] for d in sandbox.defects(subsystem, resource))
        for defect, count in injected.items():
            r = results[(dataset, f"rejected_{defect}")]
            assert r["outcome"] == "failed", (dataset, defect)
            assert r["failing_count"] == count, (dataset, defect, r["failing_count"], count)
            assert r["check_name"].startswith("没有因")
            assert r["sample_keys"] and r["failing_pull_ids"]
            caught.add(defect)
        for defect in set(DEFECTS) - set(injected):
            assert results[(dataset, f"rejected_{defect}")]["outcome"] == "passed"
    assert caught == set(DEFECTS)


def test_refused_records_do_not_hold_the_batch_and_hostile_text_is_no_defect(
    quality_url, first_run
):
    # rejected records never landed; the rest of the batch is sound and is published
    assert first_run["held"] == []
    results = verify.results(quality_url, first_run["run_id"])
    blocking_failures = [r for r in results if r["blocking"] and r["outcome"] != "passed"]
    assert blocking_failures == []
    # schema drift (a new KZZD1/kzzd1 field) is reported at warn level, never blocks
    drift = [r for r in results if r["check_class"] == "schema_drift"]
    assert {r["outcome"] for r in drift} == {"warned"}
    assert all(not r["blocking"] for r in drift)


def test_results_carry_principle_people_and_masked_samples(quality_url, first_run):
    results = _by_check(quality_url, first_run["run_id"])
    r = results[("raw_academic.students", "rejected_bad_id_checksum")]
    assert r["principle"] == "规范性" and r["subsystem"] == "academic"
    assert {"教务处"} <= set(r["departments"])
    emails = {p["email"] for p in r["responsible"]}
    assert "huang.xiaoyan@hngy.example.cn" in emails  # 教务员 and 教务处 quality administrator
    assert all(len(k) == 12 and k.isdigit() for k in r["sample_keys"])  # 学号, not 身份证号
    assert verify.mask("430102200501010253").startswith("身份证号#")
    assert verify.mask("13812345678").startswith("手机号#")


def test_a_subsystem_never_pulled_is_a_missing_pull(first_run, quality_url):
    r = _by_check(quality_url, first_run["run_id"])[("raw_oa.documents", "late_pull")]
    assert r["outcome"] == "failed" and r["principle"] == "即时性"


def _bypass(url, subsystem, resource, records, keys) -> int:
    """Write records straight into raw with a run-log row: a collector that skipped the gate."""
    from connectors.landing import canonical, payload_hash

    with psycopg.connect(url, autocommit=True) as conn:
        pull = conn.execute(
            "insert into landing.run_log (subsystem, resource, mode, fetched, landed, status,"
            " finished_at) values (%s, %s, 'full', %s, %s, 'success', now() + interval '1s')"
            " returning pull_id",
            [subsystem, resource, len(records), len(records)],
        ).fetchone()[0]
        for record, key in zip(records, keys, strict=True):
            text = canonical(record)
            conn.execute(
                f"insert into raw_{subsystem}.{resource} values (%s, now(), %s, %s, %s)",
                [pull, key, payload_hash(text), text],
            )
    return pull


def test_raw_guards_catch_defects_that_bypassed_the_gate_and_hold_the_batch(
    quality_url, sandbox, first_run
):
    truth = sandbox.truth("academic", "students")
    defects = {d["truth_key"] or d["key"]: d for d in sandbox.defects("academic", "students")}
    records = [truth[k] for k in defects]
    keys = [f"bypass-{k}" for k in defects]
    pull = _bypass(quality_url, "academic", "students", records, keys)
    run = verify.run("raw", "landing", url=quality_url, datasets=["raw_academic.students"])
    results = [r for r in verify.results(quality_url, run["run_id"]) if r["outcome"] == "failed"]
    failed_classes = {r["check_class"] for r in results if r["blocking"]}
    assert set(DEFECTS) <= failed_classes
    for r in results:
        if r["blocking"]:
            assert r["failing_pull_ids"] == [pull], r["check_key"]
    assert run["held"] == [pull]
    hold = holds.list_holds(quality_url, open_only=True)[0]
    assert hold["pull_id"] == pull and hold["dataset"] == "raw_academic.students"
    assert "身份证号" in hold["reason"]


def test_same_key_twice_in_one_pull_is_caught_and_held(quality_url, sandbox, first_run):
    record = next(iter(sandbox.truth("teacher_development", "staff").values()))
    changed = {**record, "ZCMC": "教授（另一版本）"}
    pull = _bypass(quality_url, "teacher_development", "staff", [record, changed], ["dup", "dup"])
    run = verify.run("raw", "landing", url=quality_url, datasets=["raw_teacher_development.staff"])
    dup = _by_check(quality_url, run["run_id"])[("raw_teacher_development.staff", "duplicate_key")]
    assert dup["outcome"] == "failed" and dup["sample_keys"] == ["dup"]
    assert pull in run["held"]


def test_late_pull_fails_freshness_and_a_failed_pull_is_reported(quality_url, landed):
    pull = landed[("admissions", "enrolments")]["pull_id"]
    with psycopg.connect(quality_url, autocommit=True) as conn:
        conn.execute(
            "update landing.run_log set started_at = now() - interval '40 days',"
            " finished_at = now() - interval '40 days' where pull_id = %s",
            [pull],
        )
        conn.execute(
            "insert into landing.run_log (subsystem, resource, mode, status, finished_at, error)"
            " values ('admissions', 'enrolments', 'incremental', 'failed', now(),"
            " 'ApiError: page drift: 90 unique records of a reported 103')"
        )
    run = verify.run("raw", "landing", url=quality_url, datasets=["raw_admissions.enrolments"])
    results = _by_check(quality_url, run["run_id"])
    late = results[("raw_admissions.enrolments", "late_pull")]
    assert late["outcome"] == "failed" and float(late["measured"]) > 40 * 24 - 1
    failed = results[("raw_admissions.enrolments", "pull_failed")]
    assert failed["outcome"] == "failed" and "page drift" in failed["sample_keys"][0]


def test_a_held_batch_is_released_by_recheck_or_by_a_quality_administrator(
    quality_url, sandbox, first_run
):
    # a landing bug miscounts a batch: reconciliation fails and holds it ...
    records = list(sandbox.truth("academic", "attendance").values())[:5]
    records = [r for r in records if r.get("kq_id")]
    pull = land(quality_url, "academic", "attendance", records)["pull_id"]
    with psycopg.connect(quality_url, autocommit=True) as conn:
        conn.execute("alter table landing.run_log drop constraint run_log_counts_reconcile")
        conn.execute("update landing.run_log set landed = landed + 1 where pull_id = %s", [pull])
    datasets = ["raw_academic.attendance"]
    run = verify.run("raw", "landing", url=quality_url, datasets=datasets)
    assert pull in run["held"]
    # ... the collection team corrects the count; the next audit re-checks and releases it
    with psycopg.connect(quality_url, autocommit=True) as conn:
        conn.execute("update landing.run_log set landed = landed - 1 where pull_id = %s", [pull])
    run = verify.run("raw", "landing", url=quality_url, datasets=datasets)
    assert pull in run["released"]
    released = next(h for h in holds.list_holds(quality_url) if h["pull_id"] == pull)
    assert released["release_kind"] == "recheck" and released["released_at"] is not None

    # a batch with defects the department accepts: only its quality administrator may release
    held = holds.list_holds(quality_url, open_only=True)
    students = next(h for h in held if h["dataset"] == "raw_academic.students")
    with pytest.raises(holds.ReleaseError, match="不是"):
        holds.release(students["pull_id"], "hu.jing@hngy.example.cn", "财务处无权", quality_url)
    with pytest.raises(holds.ReleaseError, match="理由"):
        holds.release(students["pull_id"], "huang.xiaoyan@hngy.example.cn", " ", quality_url)
    done = holds.release(
        students["pull_id"], "huang.xiaoyan@hngy.example.cn", "已核实为历史数据，接受", quality_url
    )
    assert done["released_by"] == "黄晓燕 <huang.xiaoyan@hngy.example.cn>"
    row = next(h for h in holds.list_holds(quality_url) if h["pull_id"] == students["pull_id"])
    assert row["release_kind"] == "accepted" and row["release_note"] == "已核实为历史数据，接受"
    # an accepted batch is not audited again, so it is not held again
    run = verify.run("raw", "landing", url=quality_url, datasets=["raw_academic.students"])
    assert students["pull_id"] not in run["held"]
    assert json.dumps(run)  # the run summary is JSON for the DAG's XCom
