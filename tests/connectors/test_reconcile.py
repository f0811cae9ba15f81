"""The issue's done-when, end to end over HTTP against the campus sandbox.

With every sandbox fault on at a realistic rate, a full pull of all 14 subsystems, then
`advance(7)`, then an incremental pull lands exactly the sandbox's ground truth: row for row,
nothing lost, nothing twice; every malformed record is in rejects with its reason; every
run-log row reconciles.
"""

from __future__ import annotations

from collections import Counter

import psycopg
import pytest

from connectors.collect import collect
from tests.sandbox_scope import sandbox_specs

pytestmark = pytest.mark.slow


# The sandbox enforces no request rate of its own (only injected throttling answers, which
# the client must honour), so the YAML's rate limits are raised here to keep the test short.
FAST = {"rate_limit": 200, "backoff": 0.1}


def pull_all(campus, db: str, mode: str = "incremental") -> list[dict]:
    results = []
    for sid, spec in sandbox_specs().items():
        creds = campus.credentials(sid)
        for resource in spec.landed:
            results.append(
                collect(sid, resource, mode, credentials=creds, db_url=db, client_options=FAST)
            )
    return results


@pytest.fixture(scope="module")
def pulls(campus, db) -> dict:
    campus.faults(**campus.realistic)
    full = pull_all(campus, db)
    campus.sandbox.advance(7)
    incremental = pull_all(campus, db)
    return {"full": full, "incremental": incremental}


def test_full_then_incremental_pull_lands_exactly_the_truth(campus, db, pulls, check_landed):
    with psycopg.connect(db) as conn:
        problems = [
            problem
            for sid, spec in sandbox_specs().items()
            for resource in spec.landed
            for problem in check_landed(conn, campus.sandbox, sid, resource)
        ]
    assert not problems, "\n".join(problems)
    assert sum(r["rejected"] for r in pulls["full"]) > 0  # the defects were really there


def test_the_faults_were_met_and_survived(pulls):
    """Each fault class is exercised on its own in test_http_client; here they come mixed."""
    retries, refreshes = Counter(), 0
    for r in pulls["full"] + pulls["incremental"]:
        retries.update(r["client"]["retries"])
        refreshes += r["client"]["refreshes"]
    assert len(retries) >= 4 and sum(retries.values()) >= 20, retries
    assert sum(r["duplicates"] for r in pulls["full"]) > 0  # pages carrying repeats
    assert all(r["status"] == "success" for r in pulls["full"] + pulls["incremental"])


def test_run_log_reconciles_and_the_second_pull_is_incremental(db, pulls):
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "select subsystem, resource, mode, fetched, landed, duplicates, rejected, status,"
            " window_start, window_end from landing.run_log order by pull_id"
        ).fetchall()
        raw_rows = sum(
            conn.execute(f"select count(*) from raw_{sid}.{res}").fetchone()[0]
            for sid, spec in sandbox_specs().items()
            for res in spec.landed
        )
    assert len(rows) == len(pulls["full"]) + len(pulls["incremental"])
    for sub, res, _mode, fetched, landed, dup, rej, status, *_ in rows:
        assert status == "success"
        assert fetched == landed + dup + rej, (sub, res)
    assert sum(r[4] for r in rows) == raw_rows  # landed counts every raw row exactly once
    specs = sandbox_specs()
    for first, second in zip(pulls["full"], pulls["incremental"], strict=True):
        res = specs[first["subsystem"]].resources[first["resource"]]
        if res.cursor is None:
            assert first["mode"] == second["mode"] == "full"
            continue
        assert (first["mode"], second["mode"]) == ("full", "incremental")
        # the second window starts at the first pull's high-water mark (>=) minus the lookback
        mark = first["cursor_after"]
        assert mark is not None, first["resource"]
        assert second["window_start"].isoformat() <= mark
    card = {(r["resource"], r["mode"]): r for r in pulls["full"] + pulls["incremental"]
            if r["subsystem"] == "campus_card"}  # fmt: skip
    # an incremental pull reads the new week, not the whole history again
    assert (
        card[("transactions", "incremental")]["fetched"] < card[("transactions", "full")]["fetched"]
    )


def test_a_changed_record_is_a_new_version_and_the_old_one_stays(db, pulls):
    with psycopg.connect(db) as conn:
        keys, rows = conn.execute(
            "select count(distinct source_key), count(*) from raw_campus_card.accounts"
        ).fetchone()
        # balances move every day: a week later many accounts have a second version
        assert rows > keys
        first_pull = min(r["pull_id"] for r in pulls["full"])
        old = conn.execute(
            "select count(*) from raw_campus_card.accounts a where pull_id < %s and exists"
            " (select 1 from raw_campus_card.accounts b where b.source_key = a.source_key"
            "  and b.payload_hash <> a.payload_hash and b.fetched_at > a.fetched_at)",
            [first_pull + len(pulls["full"])],
        ).fetchone()[0]
        assert old > 0


def test_rerunning_a_window_adds_nothing(campus, db, pulls):
    creds = campus.credentials("campus_card")
    window = {"since": "2026-09-10", "until": "2026-09-13"}
    first = collect("campus_card", "transactions", "full", credentials=creds, db_url=db, **window)
    again = collect("campus_card", "transactions", "full", credentials=creds, db_url=db, **window)
    assert first["fetched"] > 1000
    assert first["landed"] == 0  # already landed by the full pull
    assert again["landed"] == 0 and again["duplicates"] == again["fetched"] - again["rejected"]
    assert again["window_start"].isoformat().startswith("2026-09-10T00:00:00")
