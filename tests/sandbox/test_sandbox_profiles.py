"""`--profile realistic|clean`: the realistic college has defects of every class, identity
noise, a few request faults, one late system and one batch served with two versions of a
record; the clean one has none of them."""

from __future__ import annotations

from collections import Counter

import pytest
import requests

from sandbox import Sandbox
from sandbox.faults import DEFECT_CLASSES, REQUEST_FAULTS
from sandbox.profiles import PROFILES

from .conftest import Running

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def realistic():
    running = Running(Sandbox(seed=2026, scale=2000, days=14, profile="realistic"))
    yield running
    running.close()


def _defects(sb: Sandbox) -> Counter:
    found = Counter()
    for sid, domain in sb.domains.items():
        for spec in domain.specs:
            found.update(d["defect_class"] for d in sb.defects(sid, spec.resource))
    return found


def test_clean_is_todays_perfect_college():
    sb = Sandbox(seed=2026, scale=200, days=3, profile="clean")
    assert not any(sb.faults.rates[name] for name in REQUEST_FAULTS)
    assert _defects(sb) == Counter()
    assert sb.late is None and sb.conflict is None
    with pytest.raises(ValueError, match="未知的沙箱配置"):
        Sandbox(scale=200, days=1, profile="perfect")


def test_realistic_has_every_defect_class_noise_and_a_few_request_faults(realistic):
    sb = realistic.sb
    found = _defects(sb)
    assert set(found) == set(DEFECT_CLASSES), found
    total = sum(len(sb.rows(s, spec.resource)) for s, d in sb.domains.items() for spec in d.specs)
    assert sum(found.values()) < total * 0.01  # moderate: well under one record in a hundred
    assert {n["kind"] for n in sb.noise()} >= {"name_variant", "stale_major_code"}
    switched_on = {name for name in REQUEST_FAULTS if sb.faults.rates[name]}
    assert {"http_5xx", "rate_limit", "token_expiry", "duplicates"} <= switched_on
    assert all(sb.faults.rates[name] <= 0.01 for name in REQUEST_FAULTS)


def test_the_late_system_answers_503_until_the_clock_moves_on(realistic):
    late = PROFILES["realistic"].late["subsystem"]
    sb = realistic.sb
    spec = sb.domains[late].specs[0]
    resource = spec.resource
    answer = requests.get(f"{realistic.base}{spec.path}", timeout=10)
    assert answer.status_code == 503 and "数据尚未报送" in answer.json()["msg"]
    assert realistic.client().pull("academic", "majors")  # the others answer
    requests.post(f"{realistic.base}/_admin/late", json={"subsystem": None}, timeout=10)
    assert realistic.client().pull(late, resource) == sb.truth(late, resource)
    sb.set_late(late, 1)
    sb.advance(1)
    assert not sb.is_late(late)


def test_one_asset_card_is_listed_twice_with_different_content(realistic):
    base, sb = realistic.base, realistic.sb
    key, secret = sb.credentials("assets")
    token = requests.post(
        f"{base}/assets/oauth/token",
        data={"grant_type": "client_credentials", "client_id": key, "client_secret": secret},
        timeout=10,
    ).json()["access_token"]
    records, cursor = [], None
    while True:
        page = requests.get(
            f"{base}/assets/api/v2/assets",
            params={"limit": 500, **({"cursor": cursor} if cursor else {})},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ).json()
        records += page["data"]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    counts = Counter(r.get("zcbh") for r in records)
    twice = [zcbh for zcbh, n in counts.items() if n > 1 and zcbh]  # not the keyless defects
    assert twice == [sb.view("assets", "assets").conflict]
    versions = [r for r in records if r.get("zcbh") == twice[0]]
    assert versions[0]["cfdd"] != versions[1]["cfdd"] == "（采集中被修改）实训楼 B-305"


def test_admin_profile_names_the_late_system_and_the_record_listed_twice(realistic):
    got = requests.get(f"{realistic.base}/_admin/profile", timeout=10).json()
    assert got["profile"] == "realistic"
    assert got["listed_twice"] == realistic.sb.view("assets", "assets").conflict
