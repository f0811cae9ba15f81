"""The one HTTP client against the real sandbox, one fault class at a time (at high rates).

Each test reads a resource while the sandbox injects one kind of failure and checks two
things: the client met the failure and handled it the way the vendor's convention asks
(backoff, Retry-After, wait fields, fresh login, re-read), and what it read is exactly the
sandbox's ground truth.
"""

from __future__ import annotations

import dataclasses
import email.utils
import time
from datetime import datetime, timedelta

import psycopg
import pytest

from connectors.client import ApiError, Client, Credentials, NotSubmitted, _retry_after
from connectors.collect import CollectError, NotSubmittedError, collect
from connectors.extract import Extractor
from connectors.spec import spec_for
from connectors.validate import Validator
from include.rules.dates import TZ


def key_text(key) -> str:
    return "|".join(str(k) for k in key) if isinstance(key, tuple | list) else str(key)


def with_page_size(subsystem: str, resource: str, size: int):
    """The subsystem's spec with smaller pages for one resource, so a test makes many requests."""
    spec = spec_for(subsystem)
    res = spec.resources[resource]
    size = max(size, 5, 2 * res.pagination.overlap)
    res = dataclasses.replace(res, pagination=dataclasses.replace(res.pagination, size=size))
    return dataclasses.replace(spec, resources={**spec.resources, resource: res})


class Sleeps(list):
    """Stands in for time.sleep: records every wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def read_all(campus, subsystem: str, resource: str, spec=None, **client_options):
    """Every record of a resource through client + extractor: (client, extractor, keys)."""
    spec = spec or spec_for(subsystem)
    res = spec.resources[resource]
    client = Client(spec, campus.credentials(subsystem), **client_options)
    key_of = Validator(res).key
    extractor = Extractor(client, spec, key_of)
    window = None
    if res.cursor is not None:  # what a full pull reads
        window = (datetime.fromisoformat(res.cursor.initial).replace(tzinfo=TZ),
                  datetime.now(TZ) + timedelta(days=1))  # fmt: skip
    keys = []
    for page in extractor.pages(res, window):
        keys += page.keys if page.keys is not None else [key_of(r) for r in page.records]
    return client, extractor, keys


def truth_keys(campus, subsystem: str, resource: str) -> set[str]:
    return {key_text(k) for k in campus.sandbox.truth(subsystem, resource)}


def test_server_errors_are_retried_with_backoff(campus):
    campus.faults(http_5xx=0.3)
    sleeps = Sleeps()
    client, _, keys = read_all(campus, "campus_card", "transactions", sleep=sleeps)
    assert set(keys) == truth_keys(campus, "campus_card", "transactions")
    assert {"http_500", "http_502", "http_503"} & set(client.stats.retries)
    backoff = [s for s in sleeps if s >= 0.3]  # rate-limit spacing is a few milliseconds
    assert backoff and max(backoff) <= 30


def test_http_429_waits_exactly_what_retry_after_says(campus):
    campus.faults(rate_limit=0.3, retry_after_seconds=2)
    sleeps = Sleeps()
    spec = with_page_size("admissions", "applicants", 5)
    client, _, keys = read_all(campus, "admissions", "applicants", spec=spec, sleep=sleeps)
    assert set(keys) == truth_keys(campus, "admissions", "applicants")
    hits = client.stats.retries["http_429"]
    assert hits >= 3
    assert sleeps.count(2.0) == hits  # Retry-After, not the jittered backoff


def test_vendor_throttling_codes_in_a_200_body_wait_before_retrying(campus):
    campus.faults(rate_limit=0.4, retry_after_seconds=1)
    for subsystem, resource in [("dingtalk", "users"), ("online_teaching", "courses"),
                                ("campus_card", "accounts")]:  # fmt: skip
        sleeps = Sleeps()
        count = len(campus.sandbox.truth(subsystem, resource))
        spec = with_page_size(subsystem, resource, count // 30)
        client, _, keys = read_all(campus, subsystem, resource, spec=spec, sleep=sleeps)
        assert set(keys) == truth_keys(campus, subsystem, resource), subsystem
        rules = client.stats.retries["rule"]  # errcode 90018 / gateway `wait`, 1002, RetCode -9
        assert rules > 0, subsystem
        assert sum(1 for s in sleeps if s >= 1.0) >= rules, subsystem


VENDORS = [
    ("academic", "students"),  # session cookie, 302 to the login page
    ("research", "papers"),  # bearer, HTTP 401 40101
    ("assets", "assets"),  # OAuth2, HTTP 401 invalid_token
    ("finance", "budgets"),  # one token at a time, 200 code 1002
    ("oa", "documents"),  # token header, HTTP 401 TOKEN_EXPIRED
    ("dingtalk", "users"),  # 200 errcode 42001
    ("campus_card", "accounts"),  # 200 RetCode -10
    ("online_teaching", "courses"),  # signature expired, code 1001: sign again
    ("employment", "graduates"),  # RuoYi: 200 with code 401
]


@pytest.mark.parametrize(("subsystem", "resource"), VENDORS, ids=[v[0] for v in VENDORS])
def test_token_expiry_mid_run_logs_in_again_and_retries(campus, subsystem, resource):
    campus.faults(token_expiry=0.2)
    count = len(campus.sandbox.truth(subsystem, resource))
    spec = with_page_size(subsystem, resource, count // 40)  # about 40 pages
    client, _, keys = read_all(campus, subsystem, resource, spec=spec, sleep=Sleeps())
    assert set(keys) == truth_keys(campus, subsystem, resource)
    assert client.stats.refreshes > 0
    if spec.auth.type in ("token", "session"):
        assert client.stats.logins >= 1


def test_a_source_that_has_not_submitted_ends_the_pull_at_once_with_its_words(campus, db):
    """科研管理系统's 503 「数据尚未报送」 is its `not_submitted` rule: no retry, no wait, the
    vendor's message kept, the pull logged as not_submitted; the same 503 from nginx (an
    outage, HTML) is still retried."""
    campus.faults()
    campus.sandbox.set_late("research", 1)
    try:
        spec = spec_for("research")
        client = Client(spec, campus.credentials("research"), sleep=Sleeps())
        extractor = Extractor(client, spec, Validator(spec.resources["projects"]).key)
        with pytest.raises(NotSubmitted) as err:
            list(extractor.pages(spec.resources["projects"], None))
        assert "数据尚未报送" in err.value.message
        assert not client.stats.retries and client.stats.requests <= 2  # login, one request
        with pytest.raises(NotSubmittedError) as err:
            collect("research", "projects", credentials=campus.credentials("research"), db_url=db)
    finally:
        campus.sandbox.set_late(None)
    with psycopg.connect(db) as conn:
        status, error = conn.execute(
            "select status, error from landing.run_log where pull_id = %s", [err.value.pull_id]
        ).fetchone()
    assert status == "not_submitted" and error.startswith("数据尚未报送")
    campus.faults(http_5xx=0.5)  # 500 JSON, 502/503 nginx pages: outages, retried
    spec = with_page_size("research", "projects", 5)
    client, _, keys = read_all(campus, "research", "projects", spec=spec, sleep=Sleeps())
    assert set(keys) == truth_keys(campus, "research", "projects")
    assert client.stats.retries["http_503"] or client.stats.retries["html_page"]


def test_a_slow_answer_times_out_and_is_retried(campus):
    campus.faults(timeout=0.3, timeout_seconds=0.6)  # answers after 1.6 s, then HTTP 504
    spec = with_page_size("academic", "grades", 500)
    client, _, keys = read_all(campus, "academic", "grades", spec=spec, timeout=0.5, backoff=0.05)
    assert set(keys) == truth_keys(campus, "academic", "grades")
    assert client.stats.retries["timeout"] > 0
    # a patient client gets the gateway's 504 instead, and retries that
    client, _, keys = read_all(campus, "academic", "grades", spec=spec, timeout=5, backoff=0.05)
    assert client.stats.retries["http_504"] > 0


def test_an_html_page_answered_with_200_is_retried_and_never_landed(campus, db):
    campus.faults(html_maintenance=0.5)
    result = collect("academic", "grades", "full", credentials=campus.credentials("academic"),
                     db_url=db, client_options={"sleep": Sleeps()})  # fmt: skip
    assert result["client"]["retries"]["html_page"] > 0
    with psycopg.connect(db) as conn:
        html = conn.execute(
            "select count(*) from raw_academic.grades where payload::text like '%<html%'"
        ).fetchone()[0]
        count = conn.execute("select count(distinct source_key) from raw_academic.grades")
        assert html == 0
        assert count.fetchone()[0] == len(campus.sandbox.truth("academic", "grades"))


def test_records_repeated_across_pages_are_landed_once(campus, db):
    campus.faults(duplicates=0.6)
    spec_size = with_page_size("finance", "expenditures", 50)
    _, _, keys = read_all(campus, "finance", "expenditures", spec=spec_size, sleep=Sleeps())
    assert len(keys) > len(set(keys))  # the API really did repeat records
    result = collect("finance", "expenditures", "full", credentials=campus.credentials("finance"),
                     db_url=db)  # fmt: skip
    assert result["duplicates"] > 0
    assert result["landed"] == len(campus.sandbox.truth("finance", "expenditures"))


def test_page_drift_with_totals_is_detected_and_the_listing_read_again(campus):
    campus.faults(page_drift=0.2)
    spec = with_page_size("academic", "grades", 100)
    _, extractor, keys = read_all(campus, "academic", "grades", spec=spec, sleep=Sleeps())
    assert extractor.passes > 0  # a read came up short of the reported total
    assert set(keys) == truth_keys(campus, "academic", "grades")


def test_page_drift_without_totals_is_caught_by_overlapping_pages(campus):
    campus.faults(page_drift=0.15, duplicates=0.2)
    for resource in ("attendance", "users", "approvals"):
        _, _, keys = read_all(campus, "dingtalk", resource, sleep=Sleeps())
        assert set(keys) == truth_keys(campus, "dingtalk", resource), resource
    # and without the overlap, the same drift loses records silently
    spec = spec_for("dingtalk")
    res = spec.resources["attendance"]
    plain = dataclasses.replace(res.pagination, overlap=0)
    spec = dataclasses.replace(
        spec, resources={**spec.resources, "attendance": dataclasses.replace(res, pagination=plain)}
    )
    _, _, keys = read_all(campus, "dingtalk", "attendance", spec=spec, sleep=Sleeps())
    assert set(keys) < truth_keys(campus, "dingtalk", "attendance")


def test_a_pull_that_cannot_succeed_fails_loudly_and_is_logged(campus, db):
    campus.faults(http_5xx=1.0)
    with pytest.raises(CollectError, match="failed 8 times"):
        collect("decision", "base_data", "full", credentials=campus.credentials("decision"),
                db_url=db, client_options={"sleep": Sleeps()})  # fmt: skip
    campus.faults()
    with psycopg.connect(db) as conn:
        row = conn.execute(
            "select status, error, fetched, landed + duplicates + rejected from landing.run_log"
            " where subsystem = 'decision' order by pull_id desc limit 1"
        ).fetchone()
    assert row[0] == "failed" and "http_50" in row[1] and row[2] == row[3]


def test_wrong_credentials_are_refused_at_once(campus):
    campus.faults()
    spec = spec_for("research")
    bad = Credentials(f"{campus.base}/research", "research-demo-key", "wrong")
    started = time.monotonic()
    with pytest.raises(ApiError, match="appKey或appSecret错误"):
        Client(spec, bad).request("GET", "/api/v1/papers")
    assert time.monotonic() - started < 2


def test_retry_after_as_seconds_or_http_date():
    assert _retry_after("3") == 3.0
    when = email.utils.format_datetime(datetime.now(TZ) + timedelta(seconds=30), usegmt=False)
    assert 25 < _retry_after(when) <= 31
    assert _retry_after(None) is None and _retry_after("soon") is None
