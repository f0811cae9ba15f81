"""Every fault class, each switched on alone at rate 1, as a connector would meet it."""

from __future__ import annotations

import json

import pytest
import requests

from sandbox import Sandbox
from sandbox.codes import id_valid
from sandbox.faults import DEFECT_CLASSES, HOSTILE


def test_faults_are_off_by_default():
    rates = Sandbox(scale=200, days=1).faults.rates
    assert all(rates[name] == 0 for name in rates if not name.endswith("seconds"))


def test_http_5xx(fresh):
    running = fresh(faults={"http_5xx": 1.0})
    client = running.client()
    statuses = {client.get_page("research", "papers", 1, 10, {}).status_code for _ in range(12)}
    assert statuses <= {500, 502, 503} and len(statuses) > 1


RATE_LIMITS = [
    ("academic", "students"),
    ("dingtalk", None),
    ("campus_card", "accounts"),
    ("online_teaching", "courses"),
    ("teacher_development", "staff"),
]


@pytest.mark.parametrize(("subsystem", "resource"), RATE_LIMITS)
def test_rate_limit_shapes(fresh, subsystem, resource):
    running = fresh(faults={"rate_limit": 1.0, "retry_after_seconds": 2})
    client = running.client()
    if subsystem == "dingtalk":
        shapes = set()
        for _ in range(10):
            r = client.http.post(
                f"{running.base}/dingtalk/topapi/v2/department/listsub",
                params={"access_token": client.token("dingtalk")},
                json={"dept_id": 1},
            )
            body = r.json()
            shapes.add(body.get("errcode") if r.status_code == 200 else body["wait"])
        assert shapes == {90018, 2}
        return
    r = client.get_page(subsystem, resource, 1, 10, {})
    if subsystem == "campus_card":
        assert r.status_code == 200 and r.json()["RetCode"] == "-9"
    elif subsystem == "online_teaching":
        assert r.status_code == 200 and r.json()["code"] == 1002
    else:
        assert r.status_code == 429 and r.headers["Retry-After"] == "2"


def test_timeout_delays_longer_than_the_setting(fresh):
    running = fresh(faults={"timeout": 1.0, "timeout_seconds": 0.2})
    client = running.client()
    client.token("research")
    with pytest.raises(requests.Timeout):
        client.http.get(
            f"{running.base}/research/api/v1/papers",
            headers={"Authorization": f"Bearer {client.token('research')}"},
            timeout=0.6,
        )
    slow = client.get_page("research", "papers", 1, 10, {})  # no client timeout: it does answer
    assert slow.status_code == 504


EXPIRY = {
    "academic": (
        "students",
        lambda r: r.status_code == 302 and "login_slogin" in r.headers["Location"],
    ),
    "research": ("papers", lambda r: r.status_code == 401 and r.json()["code"] == 40101),
    "admissions": ("plans", lambda r: r.status_code == 401 and r.json()["code"] == 40101),
    "finance": ("budgets", lambda r: r.status_code == 200 and r.json()["code"] == "1002"),
    "campus_card": ("merchants", lambda r: r.json()["RetCode"] == "-10"),
    "online_teaching": ("courses", lambda r: r.json() == {"code": 1001, "message": "签名已过期"}),
    "employment": ("graduates", lambda r: r.status_code == 200 and r.json()["code"] == 401),
    "decision": ("base_data", lambda r: r.status_code == 200 and r.json()["code"] == 401),
}


@pytest.mark.parametrize("subsystem", sorted(EXPIRY))
def test_token_expiry_mid_run(fresh, subsystem):
    resource, is_expiry = EXPIRY[subsystem]
    running = fresh()
    client = running.client()
    assert client.get_page(subsystem, resource, 1, 5, {}).status_code == 200
    running.sb.set_faults({"token_expiry": 1.0})
    assert is_expiry(_raw_page(client, subsystem, resource))
    running.sb.set_faults({"token_expiry": 0.0})
    if subsystem != "online_teaching":  # the old token stays dead; a new login works
        assert is_expiry(_raw_page(client, subsystem, resource))
    client.login(subsystem)
    assert _raw_page(client, subsystem, resource).status_code == 200


def _raw_page(client, subsystem, resource):
    if subsystem == "academic":
        path = client.base + client.catalog["academic"]["resources"][resource]["path"]
        return client.http.post(path, data={"queryModel.showCount": 5}, allow_redirects=False)
    return client.get_page(subsystem, resource, 1, 5, {})


def test_token_expiry_other_shapes(fresh):
    running = fresh(faults={"token_expiry": 1.0})
    client = running.client()
    assets = client.http.get(
        f"{running.base}/assets/api/v2/assets",
        headers={"Authorization": f"Bearer {client.token('assets')}"},
    )
    assert assets.status_code == 401 and "invalid_token" in assets.headers["WWW-Authenticate"]
    oa = client.http.get(
        f"{running.base}/oa/api/v1/documents", headers={"token": client.token("oa")}
    )
    assert oa.status_code == 401 and oa.json()["code"] == "TOKEN_EXPIRED"
    ding = client.http.post(
        f"{running.base}/dingtalk/topapi/v2/department/listsub",
        params={"access_token": client.token("dingtalk")},
        json={"dept_id": 1},
    )
    assert ding.json()["errcode"] == 42001


def test_duplicates_across_pages(fresh):
    running = fresh(faults={"duplicates": 1.0})
    client = running.client()
    first = client.get_page("finance", "expenditures", 1, 10, {}).json()["data"]["list"]
    second = client.get_page("finance", "expenditures", 2, 10, {}).json()["data"]["list"]
    assert len(second) == 11 and second[0] == first[9]


def test_page_drift_keeps_totals_honest(fresh):
    running = fresh(faults={"page_drift": 1.0})
    client = running.client()
    truth = list(running.sb.truth("academic", "students"))
    seen = []
    for page in range(1, 6):
        body = client.get_page("academic", "students", page, 20, {}).json()
        assert body["totalCount"] == len(truth)
        seen.append([r["xh"] for r in body["items"]])
    assert any(keys != truth[(n * 20) : (n * 20) + 20] for n, keys in enumerate(seen[1:], start=1))


def test_html_maintenance_page_with_http_200(fresh):
    running = fresh(faults={"html_maintenance": 1.0})
    r = running.client().get_page("finance", "budgets", 1, 10, {})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html") and "系统维护" in r.text


def test_malformed_records_are_listed_as_defects(fresh):
    running = fresh(faults={"malformed": 0.3})
    sb = running.sb
    classes = set()
    for subsystem, info in sb.catalog().items():
        for resource, entry in info["resources"].items():
            truth = sb.truth(subsystem, resource)
            for defect in sb.defects(subsystem, resource):
                classes.add(defect["defect_class"])
                record = truth[defect["truth_key"]]
                _assert_defect(entry, record, defect)
    assert classes == set(DEFECT_CLASSES)
    # served as JSON objects in the pages, exactly as truth() has them
    assert running.client().pull("academic", "students") == _served_by_key(
        sb, "academic", "students"
    )


def _served_by_key(sb, subsystem, resource):
    pk = sb.catalog()[subsystem]["resources"][resource]["primary_key"][0]
    return {r.get(pk): r for r in sb.truth(subsystem, resource).values()}


def _assert_defect(entry: dict, record: dict, defect: dict) -> None:
    name, value = defect["field"], record.get(defect["field"], "")
    kind = defect["defect_class"]
    if kind in ("missing_key", "missing_required"):
        assert value == ""
        assert (defect["key"] is None) == (kind == "missing_key")
    elif kind == "bad_id_checksum":
        assert not id_valid(value)
    elif kind == "impossible_date":
        assert value and not _parses(value)
    else:
        assert kind == "invalid_code" and value in (
            "7",
            "99",
            "14",
            "9",
            "8",
            "其它",
            "其他",
            "未知",
            "丢失",
            "软件著作权",
            "DONE",
            "Unknown",
            "Duty",
            "ZY99",
            "KC99",
            "done",
            "世界级",
            "特级",
            "WJ0000",
            "990000",
            "999",
            "39999",
        )
    assert name in entry["fields"]


def _parses(value: str) -> bool:
    import datetime as dt

    digits = "".join(c for c in value if c.isdigit())
    try:
        dt.datetime.strptime(digits[:8], "%Y%m%d")
    except ValueError:
        return False
    return True


def test_schema_drift_adds_a_field_and_is_not_a_defect(fresh):
    running = fresh(faults={"schema_drift": 0.5})
    sb = running.sb
    extra = {
        ("academic", "students"): "kzzd1",
        ("finance", "budgets"): "KZZD1",
        ("online_teaching", "courses"): "extField1",
        ("campus_card", "accounts"): "ExtField1",
    }
    for (subsystem, resource), name in extra.items():
        records = sb.truth(subsystem, resource).values()
        assert any(name in r for r in records)
        assert not sb.defects(subsystem, resource)
    assert running.client().pull("finance", "budgets") == sb.truth("finance", "budgets")


def test_hostile_strings_are_valid_records(fresh):
    running = fresh(faults={"hostile_strings": 0.5})
    sb = running.sb
    text = json.dumps(
        list(sb.truth("student_development", "counsellor_records").values()), ensure_ascii=False
    )
    assert any(h in text for h in HOSTILE[:3])
    assert not sb.defects("student_development", "counsellor_records")
    pulled = running.client().pull("student_development", "counsellor_records")
    assert pulled == sb.truth("student_development", "counsellor_records")


def test_request_faults_repeat_for_the_same_request_sequence(fresh):
    rates = {"http_5xx": 0.2, "rate_limit": 0.2, "html_maintenance": 0.2}
    runs = []
    for _ in range(2):
        running = fresh(seed=11, faults=rates)
        client = running.client()
        runs.append(
            [client.get_page("research", "papers", 1, 5, {}).status_code for _ in range(30)]
        )
    assert runs[0] == runs[1] and len(set(runs[0])) > 1


def test_faults_can_be_switched_over_http(fresh):
    running = fresh()
    url = f"{running.base}/_admin/faults"
    body = requests.post(url, json={"http_5xx": 1.0, "timeout_seconds": 1}, timeout=10).json()
    assert body["http_5xx"] == 1.0 and body["timeout_seconds"] == 1
    assert running.client().get_page("research", "papers", 1, 5, {}).status_code >= 500
    assert requests.post(url, json={"nonsense": 1}, timeout=10).status_code == 400
