"""Ground truth: paging each API (faults off) returns exactly ``truth()``, row for row."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from sandbox import SUBSYSTEMS, Sandbox

RESOURCES = [
    (s, r) for s, info in Sandbox(scale=200, days=0).catalog().items() for r in info["resources"]
]


def test_catalog_covers_the_fourteen_subsystems(shared):
    catalog = shared.sb.catalog()
    assert list(catalog) == list(SUBSYSTEMS)
    assert len(catalog) == 14
    for info in catalog.values():
        for entry in info["resources"].values():
            assert entry["path"].startswith("/")
            assert entry["primary_key"]
            assert entry["full_refresh"] or entry["incremental_params"]["since"]


@pytest.mark.parametrize(("subsystem", "resource"), RESOURCES)
def test_paging_the_api_returns_the_truth(shared, subsystem, resource):
    truth = shared.sb.truth(subsystem, resource)
    pulled = shared.client().pull(subsystem, resource)
    assert truth, f"{subsystem}/{resource} is empty"
    assert pulled == truth


WINDOWS = [
    ("academic", "grades", {"gxsj_ks": "2026-09-08 00:00:00", "gxsj_js": "2026-09-15 00:00:00"}),
    (
        "research",
        "papers",
        {"updatedSince": "2025-09-01T00:00:00+08:00", "updatedUntil": "2026-09-01T00:00:00+08:00"},
    ),
    (
        "assets",
        "assets",
        {"updated_since": "2026-09-01 00:00:00", "updated_until": "2026-09-10 00:00:00"},
    ),
    (
        "finance",
        "expenditures",
        {"updateTimeBegin": "2026-09-01 00:00:00", "updateTimeEnd": "2026-09-11 00:00:00"},
    ),
    (
        "oa",
        "approval_steps",
        {"modifiedFrom": "2026-09-01T00:00:00", "modifiedTo": "2026-09-20T00:00:00"},
    ),
    (
        "employment",
        "destinations",
        {
            "params[beginUpdateTime]": "2026-09-10 00:00:00",
            "params[endUpdateTime]": "2026-09-20 00:00:00",
        },
    ),
    ("campus_card", "transactions", {"BeginTime": "20260905000000", "EndTime": "20260906120000"}),
    (
        "online_teaching",
        "courses",
        {"updateTimeFrom": "1788192000000", "updateTimeTo": "1788796800000"},
    ),
]


@pytest.mark.parametrize(("subsystem", "resource", "window"), WINDOWS)
def test_an_incremental_window_is_inclusive_exclusive(shared, subsystem, resource, window):
    since, until = (_as_iso(v) for v in window.values())
    truth = shared.sb.truth(subsystem, resource, since=since, until=until)
    assert truth
    assert shared.client().pull(subsystem, resource, window) == truth
    cursor = shared.sb.catalog()[subsystem]["resources"][resource]["cursor_field"]
    everything = shared.sb.truth(subsystem, resource)
    boundary = next(iter(truth.values()))[cursor]
    # a record stamped exactly at the lower bound belongs to the window (>=)
    assert all(everything[k] == v for k, v in truth.items()) and boundary


def test_admin_truth_matches_python_truth(shared):
    url = f"{shared.base}/_admin/truth/academic/grades"
    body = requests.get(
        url, params={"since": "2026-09-01", "until": "2026-09-15"}, timeout=30
    ).json()
    truth = shared.sb.truth("academic", "grades", since="2026-09-01", until="2026-09-15")
    assert body["count"] == len(truth) == len(body["items"])
    assert {tuple(i["key"]): i["record"] for i in body["items"]} == truth
    assert body["primary_key"] == ["xh", "jxb_id", "ksxzdm"]


def test_admin_endpoints(shared):
    health = requests.get(f"{shared.base}/_admin/health", timeout=10).json()
    assert health["now"] == "2026-09-22T00:00:00+08:00"
    catalog = requests.get(f"{shared.base}/_admin/catalog", timeout=10).json()
    assert catalog["campus_card"]["resources"]["transactions"]["money_unit"] == "分"
    assert catalog["finance"]["resources"]["budgets"]["money_unit"] == "元"
    assert requests.get(f"{shared.base}/_admin/faults", timeout=10).json()["http_5xx"] == 0
    missing = requests.get(f"{shared.base}/_admin/truth/academic/nothing", timeout=10)
    assert missing.status_code == 404


def test_truth_window_on_full_refresh_resources_is_ignored(shared):
    users = shared.sb.truth("dingtalk", "users")
    assert shared.sb.truth("dingtalk", "users", since="2030-01-01") == users


def _as_iso(value: str) -> str:
    if value.isdigit() and len(value) == 13:
        return dt.datetime.fromtimestamp(int(value) / 1000, dt.UTC).isoformat()
    if value.isdigit():
        return dt.datetime.strptime(value, "%Y%m%d%H%M%S").isoformat()
    return value


def test_one_command_starts_it(tmp_path, free_port):
    import subprocess
    import sys
    from pathlib import Path

    port = free_port()
    faults = tmp_path / "faults.json"
    faults.write_text('{"http_5xx": 0.5}', encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "sandbox",
        "serve",
        "--port",
        str(port),
        "--scale",
        "200",
        "--days",
        "3",
        "--faults",
        str(faults),
    ]
    root = Path(__file__).parents[2]
    server = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert line.startswith(f"sandbox ready http://127.0.0.1:{port} seed=2026 scale=200")
        health = requests.get(f"http://127.0.0.1:{port}/_admin/health", timeout=10).json()
        assert health["now"] == "2026-09-04T00:00:00+08:00"
        rates = requests.get(f"http://127.0.0.1:{port}/_admin/faults", timeout=10).json()
        assert rates["http_5xx"] == 0.5
    finally:
        server.terminate()
        server.wait(timeout=30)
