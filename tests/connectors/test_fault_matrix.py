"""The fault matrix (issue 15 item 5): what collection survives, against the real sandbox.

Request faults one at a time are in test_http_client (5xx, 429, timeouts, token expiry,
duplicates, page drift, HTML with 200); hostile strings alone in tests/test_hostile_input.
Here: the record faults alone (malformed, schema drift), every fault class on at once, and
the faults outside the API: a collection killed with SIGKILL in the middle of its COPY, the
warehouse stopped in the middle of a pull, and the source restored from a backup (its clock
back). After each, the warehouse matches the sandbox's ground truth exactly, the run log
explains what happened, and the next ordinary (incremental) pull recovers on its own.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from connectors.collect import CollectError, collect
from sandbox.spec import DRIFT_FIELD
from tests.connectors.conftest import fresh_database, key_text, latest_payloads

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
QUICK = {"sleep": lambda seconds: None}  # backoff and Retry-After waits are recorded, not slept


def wait_for(what: str, ready, timeout: float = 120.0) -> None:
    """Poll `ready()` until it is true; a readiness wait, not a timed assertion."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def run_log(url: str, subsystem: str, resource: str) -> list[dict]:
    with psycopg.connect(url) as conn:
        cur = conn.execute(
            "select * from landing.run_log where subsystem = %s and resource = %s order by pull_id",
            [subsystem, resource],
        )
        names = [c.name for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def raw_rows(url: str, subsystem: str, resource: str) -> int:
    table = sql.Identifier(f"raw_{subsystem}", resource)
    with psycopg.connect(url) as conn:
        return conn.execute(sql.SQL("select count(*) from {}").format(table)).fetchone()[0]


def landed_exactly(url, campus, check_landed, subsystem: str, resource: str) -> None:
    """Raw equals the truth, and the run log's `landed` counts every raw row exactly once."""
    with psycopg.connect(url) as conn:
        problems = check_landed(conn, campus.sandbox, subsystem, resource)
    assert not problems, "\n".join(problems)
    log = run_log(url, subsystem, resource)
    assert all(r["status"] != "running" for r in log), log
    assert sum(r["landed"] for r in log) == raw_rows(url, subsystem, resource)


def copy_under_way(url: str, table: str) -> bool:
    """A COPY into `table` is running on the server, and an earlier batch is committed."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            copying = conn.execute(
                "select count(*) from pg_stat_activity where datname = current_database()"
                " and state = 'active' and query ilike %s",
                ['copy "{}"."{}"%'.format(*table.split("."))],  # as the driver quotes it
            ).fetchone()[0]
            committed = conn.execute(f"select count(*) from {table}").fetchone()[0]
    except psycopg.Error:
        return False
    return copying > 0 and committed > 0


def pull_lock_released(url: str, pull_id: int) -> bool:
    """The server has seen the killed pull's session end (its advisory lock is gone)."""
    with psycopg.connect(url) as conn:
        return not conn.execute(
            "select count(*) from pg_locks where locktype = 'advisory' and objid::bigint = %s"
            " and objsubid = 2",
            [pull_id],
        ).fetchone()[0]


# -- the record faults, each alone -------------------------------------------------------------

RECORD_RESOURCES = [("academic", "students"), ("campus_card", "accounts")]


@pytest.mark.parametrize("fault", ["malformed", "schema_drift"])
def test_each_record_fault_alone_lands_the_truth_and_rejects_the_bad(
    campus, warehouse_url, check_landed, fault
):
    url = fresh_database(warehouse_url, f"faults_{fault}")
    campus.faults(**{fault: 0.2})
    try:
        for sid, resource in RECORD_RESOURCES:
            result = collect(sid, resource, "full", credentials=campus.credentials(sid),
                             db_url=url, client_options=QUICK)  # fmt: skip
            landed_exactly(url, campus, check_landed, sid, resource)
            payloads = [p for p in campus.sandbox.truth(sid, resource).values()]
            drifted = [p for p in payloads if set(p) & set(DRIFT_FIELD.values())]
            if fault == "malformed":
                assert result["rejected"] == len(campus.sandbox.defects(sid, resource)) > 0
            else:  # an added field is no defect: the record lands with it, verbatim
                assert result["rejected"] == 0 and drifted
                with psycopg.connect(url) as conn:
                    got = latest_payloads(conn, sid, resource)
                assert sum(1 for p in got.values() if set(p) & set(DRIFT_FIELD.values())) == len(
                    drifted
                )
    finally:
        campus.faults()


def test_children_of_a_parent_without_its_key_are_explained_in_the_run_log(campus, warehouse_url):
    """DingTalk attendance is asked per user id (users per department id): a parent the source
    lists without its id (rejected in its own pull) makes what is under it unaskable. Not
    silent: the pull's note says how many, and everything askable lands exactly."""
    url = fresh_database(warehouse_url, "faults_parents")
    campus.faults(malformed=0.2)
    try:
        creds = campus.credentials("dingtalk")
        result = collect("dingtalk", "attendance", "full", credentials=creds, db_url=url,
                         client_options=QUICK)  # fmt: skip
        collect("dingtalk", "users", credentials=creds, db_url=url, client_options=QUICK)
        sb = campus.sandbox
        assert re.search(r"users 有 \d+ 条记录缺少 userid", result["note"]), result["note"]
        with psycopg.connect(url) as conn:
            got = latest_payloads(conn, "dingtalk", "attendance")
            listed_users = set(latest_payloads(conn, "dingtalk", "users")) | {
                k
                for (k,) in conn.execute(  # rejected for another defect, but with their id
                    "select source_key from landing.rejects where resource = 'users'"
                    " and source_key is not null"
                )
            }
        truth = sb.truth("dingtalk", "attendance")
        defective = {key_text(d["truth_key"]) for d in sb.defects("dingtalk", "attendance")}
        askable = {key_text(k) for k, r in truth.items() if r.get("userId") in listed_users}
        assert len(askable) < len(truth)  # some attendance really was out of reach
        assert set(got) == askable - defective  # and all the rest landed, exactly
    finally:
        campus.faults()


# -- every fault class at once ----------------------------------------------------------------

ALL_ON = {
    "http_5xx": 0.08, "rate_limit": 0.08, "timeout": 0.04, "token_expiry": 0.08,
    "html_maintenance": 0.08, "duplicates": 0.2, "page_drift": 0.1, "malformed": 0.05,
    "schema_drift": 0.05, "hostile_strings": 0.05, "timeout_seconds": 0.3,
}  # fmt: skip
ALL_ON_RESOURCES = [("academic", "grades"), ("dingtalk", "users"), ("research", "projects")]


def test_every_fault_class_at_once_then_the_next_run(campus, warehouse_url, check_landed):
    """All ten classes at rates far above the realistic ones (test_reconcile has them at
    realistic rates over all 14 subsystems); a full pull, two days, an incremental pull."""
    from sandbox.faults import RECORD_FAULTS, REQUEST_FAULTS

    assert set(ALL_ON) >= {*REQUEST_FAULTS, *RECORD_FAULTS}
    url = fresh_database(warehouse_url, "faults_all_on")
    campus.faults(**ALL_ON)
    results = []
    try:
        for mode in ("full", "incremental"):
            for sid, resource in ALL_ON_RESOURCES:
                results.append(collect(sid, resource, mode, credentials=campus.credentials(sid),
                                       db_url=url, client_options=QUICK))  # fmt: skip
            for sid, resource in ALL_ON_RESOURCES:
                landed_exactly(url, campus, check_landed, sid, resource)
            if mode == "full":
                campus.sandbox.advance(2)
    finally:
        campus.faults()
    retries = Counter()
    for r in results:
        retries.update(r["client"]["retries"])
    assert all(r["status"] == "success" for r in results)
    assert sum(r["client"]["refreshes"] for r in results) > 0  # token expiry: logged in again
    assert retries["html_page"] and retries["timeout"] + retries["http_504"], retries
    assert len(retries) >= 5, retries  # 5xx, 429 or the vendors' throttling codes, HTML, …
    assert sum(r["duplicates"] for r in results) > 0
    assert sum(r["rejected"] for r in results) > 0
    # page drift met with small pages is test_http_client's; here, only that nothing was lost
    second = results[len(ALL_ON_RESOURCES) :]  # dingtalk users has no cursor: read whole
    assert [r["mode"] for r in second] == ["incremental", "full", "incremental"]
    assert all(r["note"] is None for r in results)  # and no false alarm of a source gone back


# -- a collection killed in the middle of its COPY ----------------------------------------------

CHILD = """
import sys
import connectors.collect as c
from connectors.client import Credentials
c.FLUSH_ROWS = 2000  # small batches: some are committed before the kill
base, key, secret, url = sys.argv[1:5]
c.collect("campus_card", "transactions", "full", credentials=Credentials(base, key, secret),
          db_url=url, client_options={"rate_limit": 3})
"""


def test_a_collection_killed_mid_copy_is_closed_and_the_next_run_completes_it(
    campus, warehouse_url, check_landed
):
    url = fresh_database(warehouse_url, "faults_sigkill")
    campus.faults()
    creds = campus.credentials("campus_card")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, creds.base_url, creds.key, creds.secret, url], cwd=ROOT
    )
    try:
        wait_for("the COPY", lambda: copy_under_way(url, "raw_campus_card.transactions"))
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
    (killed,) = run_log(url, "campus_card", "transactions")
    assert killed["status"] == "running" and killed["finished_at"] is None
    partial = raw_rows(url, "campus_card", "transactions")
    truth = len(campus.sandbox.truth("campus_card", "transactions"))
    assert 0 < partial < truth  # committed batches stay; the batch under COPY rolled back
    gone = lambda: pull_lock_released(url, killed["pull_id"])  # noqa: E731
    wait_for("the server to end the killed session", gone)

    # the next scheduled run: incremental (no cursor yet, so it reads from `initial`)
    again = collect("campus_card", "transactions", credentials=creds, db_url=url)
    assert again["status"] == "success" and again["mode"] == "full"
    landed_exactly(url, campus, check_landed, "campus_card", "transactions")
    closed = run_log(url, "campus_card", "transactions")[0]
    assert closed["status"] == "failed" and closed["error"].startswith("拉取中断")
    assert closed["landed"] == partial and closed["finished_at"] is not None
    assert f"已提交的 {partial} 条" in closed["error"]
    assert again["landed"] == truth - partial  # nothing twice: the rest, and only the rest


def test_a_running_pull_is_not_closed_by_another(campus, warehouse_url):
    """The liveness lock tells a live pull from a dead one: a second pull started while the
    first is under way leaves the first's row alone (and is not blocked by it)."""
    url = fresh_database(warehouse_url, "faults_live")
    campus.faults()
    creds = campus.credentials("campus_card")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, creds.base_url, creds.key, creds.secret, url], cwd=ROOT
    )
    try:
        wait_for("the COPY", lambda: copy_under_way(url, "raw_campus_card.transactions"))
        collect("campus_card", "merchants", credentials=creds, db_url=url)
        window = {"since": "2026-09-01", "until": "2026-09-02"}
        other = collect("campus_card", "transactions", "full", credentials=creds, db_url=url,
                        **window)  # fmt: skip
        assert other["status"] == "success"
        first = run_log(url, "campus_card", "transactions")[0]
        assert first["status"] == "running" and first["pull_id"] != other["pull_id"]
    finally:
        child.kill()
        child.wait()


# -- the warehouse stopped in the middle of a pull ----------------------------------------------


@pytest.fixture
def own_server(tmp_path, free_port):
    """An embedded PostgreSQL of this test's own, to stop and start (never the shared one)."""
    from include.warehouse.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(tmp_path / "pg" / "data", free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop("immediate")


def test_the_warehouse_stopped_mid_pull_fails_in_chinese_and_the_next_run_recovers(
    campus, own_server, check_landed
):
    url = fresh_database(own_server.url(), "faults_stop")
    campus.faults()
    creds = campus.credentials("campus_card")

    def stop_when_copying() -> None:
        wait_for("the COPY", lambda: copy_under_way(url, "raw_campus_card.transactions"))
        own_server.stop("immediate")  # a crash: no clean shutdown of the sessions

    stopper = threading.Thread(target=stop_when_copying)
    stopper.start()
    with pytest.raises(CollectError) as failed:
        collect("campus_card", "transactions", "full", credentials=creds, db_url=url,
                client_options={"rate_limit": 3})  # fmt: skip
    stopper.join()
    message = str(failed.value)
    assert message.startswith("数据仓库连接失败或中断：校园一卡通（campus_card）.transactions")
    assert "./run db start" in message and "\n" not in message
    assert own_server.password() not in message  # the URL is shown without its password
    assert failed.value.__suppress_context__  # one line for the user, not a driver traceback

    # while it is down, a run fails the same way at once
    with pytest.raises(CollectError, match=r"^数据仓库连接失败或中断"):
        collect("campus_card", "transactions", credentials=creds, db_url=url)

    own_server.start()
    (interrupted,) = run_log(url, "campus_card", "transactions")
    assert interrupted["status"] == "running"  # nobody could write its end
    again = collect("campus_card", "transactions", credentials=creds, db_url=url)
    assert again["status"] == "success"
    landed_exactly(url, campus, check_landed, "campus_card", "transactions")
    closed = run_log(url, "campus_card", "transactions")[0]
    assert closed["status"] == "failed" and "仓库重启" in closed["error"]


# -- the source restored from a backup (its clock moves back) -----------------------------------

CLOCK_RESOURCES = [("campus_card", "transactions"), ("campus_card", "accounts")]


def test_a_source_restored_from_backup_is_noticed_and_read_again(campus, warehouse_url):
    """Decided: the source's truth as of now is what is current in raw; records that existed
    only in the lost future stay in raw as they were received (raw is never edited, and the
    platform cannot tell a restore's loss from a source that stopped listing a record) and the
    run log says the source went back. The check is exact on both sets."""
    url = fresh_database(warehouse_url, "faults_clock")
    sb = campus.sandbox
    campus.faults()
    creds = campus.credentials("campus_card")

    def pull_all() -> dict:
        return {res: collect(sid, res, credentials=creds, db_url=url)
                for sid, res in CLOCK_RESOURCES}  # fmt: skip

    pull_all()
    sb.backup()
    sb.advance(4)
    before = pull_all()
    assert {r["mode"] for r in before.values()} == {"incremental"}
    lost = {res: {key_text(k): v for k, v in sb.truth(sid, res).items()}
            for sid, res in CLOCK_RESOURCES}  # fmt: skip
    marks = {res: r["cursor_after"] for res, r in before.items()}

    sb.restore()  # back four days; the two days after it are not the lost ones
    sb.advance(2)
    after = pull_all()
    for sid, res in CLOCK_RESOURCES:
        result = after[res]
        assert result["mode"] == "full" and "源系统游标回退后的全量重读" in result["note"]
        log = run_log(url, sid, res)
        noticed = log[-2]
        assert noticed["mode"] == "incremental" and noticed["status"] == "success"
        assert noticed["note"].startswith("源系统游标回退") and marks[res] in noticed["note"]
        assert result["cursor_after"] < marks[res]  # the mark is the source's own again
        now = {key_text(k): v for k, v in sb.truth(sid, res).items()}
        gone = lost[res].keys() - now.keys()
        with psycopg.connect(url) as conn:
            got = latest_payloads(conn, sid, res)
        assert {k: got.get(k) for k in now} == now, res  # current: exactly the truth now
        assert got.keys() - now.keys() == gone, res  # and the lost future's own records,
        assert all(got[k] == lost[res][k] for k in gone), res  # as they were received
        if res == "transactions":  # the restored source gave lost keys to new records
            reused = [k for k in now if k in lost[res] and lost[res][k] != now[k]]
            assert reused

    # the next scheduled run is an ordinary incremental one again
    sb.advance(1)
    nxt = pull_all()
    assert {r["mode"] for r in nxt.values()} == {"incremental"}
    assert all(r["note"] is None for r in nxt.values())
    for sid, res in CLOCK_RESOURCES:
        now = {key_text(k): v for k, v in sb.truth(sid, res).items()}
        with psycopg.connect(url) as conn:
            got = latest_payloads(conn, sid, res)
        assert {k: got.get(k) for k in now} == now, res
