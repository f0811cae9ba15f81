"""The clock: advancing creates new and changed records, some stamped in the past."""

from __future__ import annotations

import datetime as dt

import requests


def test_advance_over_http_moves_now(fresh):
    running = fresh(days=3)
    body = requests.post(
        f"{running.base}/_admin/clock/advance", json={"days": 4}, timeout=60
    ).json()
    assert body["now"] == "2026-09-08T00:00:00+08:00"
    assert running.sb.now.isoformat() == body["now"]
    assert (
        requests.post(
            f"{running.base}/_admin/clock/advance", json={"days": 0}, timeout=10
        ).status_code
        == 400
    )


def test_advance_creates_and_changes_records(fresh):
    sb = fresh(scale=1000, days=4).sb  # now = a Saturday: Friday's approvals are still running
    before = {
        name: sb.truth(*name)
        for name in [
            ("academic", "grades"),
            ("finance", "expenditures"),
            ("dingtalk", "approvals"),
            ("academic", "students"),
        ]
    }
    sb.advance(12)
    for name, old in before.items():
        new = sb.truth(*name)
        if name != ("academic", "students"):  # the roster itself only changes
            assert set(new) - set(old), f"{name}: nothing new"
        changed = [k for k in old if k in new and new[k] != old[k]]
        assert changed, f"{name}: nothing changed"
    grades = sb.truth("academic", "grades", since="2026-09-06")
    assert any(g["ksxzdm"] == "11" and g["xnm"] == "2025" for g in grades.values())  # make-up exams
    finished = [a for a in before[("dingtalk", "approvals")].values() if a["status"] == "RUNNING"]
    assert finished  # some were still running five days into term …
    now = sb.truth("dingtalk", "approvals")
    assert all(k in now for k in before[("dingtalk", "approvals")])


def test_late_card_transactions_are_stamped_in_the_past(fresh):
    sb = fresh(days=7).sb
    old_now = sb.now
    sb.advance(3)
    fresh_rows = sb.truth("campus_card", "transactions", since=old_now).values()
    cutoff = old_now.strftime("%Y%m%d%H%M%S")
    late = [t for t in fresh_rows if t["JnDateTime"] < cutoff]
    assert late and all(t["OffLine"] == "1" for t in late)
    assert all(t["EffectTime"] >= cutoff for t in fresh_rows)


def test_dingtalk_attendance_changes_after_its_work_date(fresh):
    sb = fresh(scale=2000, days=6).sb  # enough staff for late syncs and 补卡 to occur
    before = sb.truth("dingtalk", "attendance")
    sb.advance(6)
    after = sb.truth("dingtalk", "attendance", until="2026-09-07")
    arrived = set(after) - set(before)
    fixed = [k for k in before if k in after and after[k] != before[k]]
    assert arrived or fixed
    assert all(after[k]["sourceType"] == "APPROVE" for k in fixed)


def test_employment_changes_only_on_the_10th_20th_30th(shared):
    destinations = shared.sb.truth("employment", "destinations", since="2026-03-01")
    days = {dt.date.fromisoformat(r["GXSJ"][:10]).day for r in destinations.values()}
    assert days <= {10, 20, 28, 29, 30} and 10 in days


def test_revoked_approvals_attach_to_the_original(shared):
    approvals = shared.sb.truth("dingtalk", "approvals")
    revokes = [a for a in approvals.values() if a["biz_action"] == "REVOKE"]
    assert revokes
    for a in revokes:
        (original,) = a["attached_process_instance_ids"]
        assert approvals[original]["result"] == "agree"
        assert approvals[original]["create_time"] < a["create_time"]


def test_restore_from_backup_moves_now_back_and_takes_another_future(fresh):
    running = fresh(days=3)
    sb, admin = running.sb, f"{running.base}/_admin/clock"
    assert requests.post(f"{admin}/restore", timeout=10).status_code == 400  # no backup yet
    assert requests.post(f"{admin}/backup", timeout=60).json()["now"] == "2026-09-04T00:00:00+08:00"
    kept = sb.truth("campus_card", "transactions")
    sb.advance(2)
    lost = sb.truth("campus_card", "transactions")
    body = requests.post(f"{admin}/restore", timeout=60).json()
    assert body["now"] == "2026-09-04T00:00:00+08:00" == sb.now.isoformat()
    assert sb.truth("campus_card", "transactions") == kept  # the backup's state, exactly
    sb.advance(2)
    again = sb.truth("campus_card", "transactions")
    new = {k: v for k, v in again.items() if k not in kept}
    assert new and new != {k: v for k, v in lost.items() if k not in kept}  # not a replay
