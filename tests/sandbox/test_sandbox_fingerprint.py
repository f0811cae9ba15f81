"""The sandbox serves the same bytes for the same seed, whatever its internal representation.

`fingerprints.json` holds, per profile and clock position, a SHA-256 of everything every
resource serves: each row's key and served JSON (one row at a time and in ragged pages, so
slices that cross internal chunk boundaries are covered), `truth()` of the whole resource and
of a few one-day windows, and the defects. It was recorded from the code before the memory
work of issue 14 (card transactions kept as one plain JSON blob per day), so a change of
storage that alters a single served byte fails here.

If the sandbox's output changes on purpose (a new field, another distribution), re-record:

    .venv/bin/python tests/sandbox/test_sandbox_fingerprint.py --record
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from pathlib import Path

import pytest

from sandbox import Sandbox
from sandbox.timefmt import day_start

FIXTURE = Path(__file__).with_name("fingerprints.json")
CASES = ("clean", "realistic")
PAGE = 97  # ragged on purpose: pages straddle every internal boundary


def _digest(sb: Sandbox) -> dict[str, str]:
    out = {}
    for subsystem, domain in sb.domains.items():
        for spec in domain.specs:
            h = hashlib.sha256()
            rows = sb.rows(subsystem, spec.resource)
            n = len(rows)
            h.update(f"{n}\n".encode())
            for i, key in enumerate(rows.key_slice(0, n)):
                h.update(repr(key).encode() + b"\t" + rows.json(i, i + 1) + b"\n")
            for i in range(0, n, PAGE):
                h.update(rows.json(i, i + PAGE) + b"\n")
                h.update(repr(rows.key_slice(i, i + PAGE)).encode())
            h.update(rows.json(0, n))
            items = rows.items()
            h.update(json.dumps([[repr(k), r] for k, r in items], ensure_ascii=False).encode())
            for offset in (0, 1, 3):
                lo = day_start(sb._next_day - dt.timedelta(days=offset + 1))
                window = sb.rows(subsystem, spec.resource, lo, lo + 86400)
                part = window.items()
                h.update(json.dumps([[repr(k), r] for k, r in part], ensure_ascii=False).encode())
                h.update(window.json(0, len(window)))
            h.update(json.dumps(sb.defects(subsystem, spec.resource), default=repr).encode())
            out[f"{subsystem}/{spec.resource}"] = h.hexdigest()
    return out


def fingerprints() -> dict:
    result = {}
    for profile in CASES:
        sb = Sandbox(seed=2026, scale=200, start="2026-09-01", days=2, profile=profile)
        result[f"{profile}@2"] = _digest(sb)
        sb.advance(3)
        result[f"{profile}@5"] = _digest(sb)
    return result


@pytest.fixture(scope="module")
def now() -> dict:
    return fingerprints()


@pytest.mark.parametrize("case", [f"{p}@{d}" for p in CASES for d in (2, 5)])
def test_every_resource_serves_the_recorded_bytes(now, case):
    recorded = json.loads(FIXTURE.read_text())[case]
    changed = sorted(name for name in recorded if now[case].get(name) != recorded[name])
    assert now[case].keys() == recorded.keys()
    assert not changed, f"served bytes changed for {changed}"


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    FIXTURE.write_text(json.dumps(fingerprints(), indent=1, sort_keys=True) + "\n")
    print(f"recorded {FIXTURE}")
