"""How real the college is: `clean` (every system perfect) or `realistic` (a working campus).

`realistic` is what the main job runs against, so the platform's quality loop has something
to do every day, in moderate and fixed (seeded) amounts:

- **record defects of every class** (`malformed`: missing key, missing required field, code
  outside its code set, impossible date, wrong 身份证号 check digit — the landing gate refuses
  them into `landing.rejects`), new undocumented fields, hostile but valid text;
- **identity noise** (name variants, stale 2015 major codes, people missing from a mapping);
- **a few request faults** the collectors must ride out (5xx, 429, expired tokens, HTML
  maintenance pages, records repeated across pages);
- **one late system** (`late`): 科研管理系统 has not submitted its data by the deadline and
  answers 503 「数据尚未报送」 until the clock moves on `days` days (or `/_admin/late` clears
  it), so its collection fails and the 即时性 checks warn its collectors;
- **one batch a blocking check holds** (`conflict`): while the asset register is being pulled
  someone edits one asset card, and the listing serves that card twice with different
  content. The landing keeps both versions (原始性), the blocking check 「同一批次中同一记录出现
  多次」 holds the batch, and the 资产管理 quality administrator releases it after checking
  (`sandbox.staff.release_held_batches`).

Page drift and slow responses stay off: the collectors handle them (tests/connectors), but at
the main job's size they would only add minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .core import DEFAULT_NOISE


@dataclass(frozen=True)
class Profile:
    faults: dict = field(default_factory=dict)
    identity_noise: dict = field(default_factory=lambda: dict(DEFAULT_NOISE))
    late: dict | None = None  # {"subsystem": id, "days": n}
    conflict: dict | None = None  # {"subsystem": id, "resource": name, "field": f, "value": v}


PROFILES = {
    "clean": Profile(),
    "realistic": Profile(
        faults={
            "malformed": 0.004,
            "schema_drift": 0.01,
            "hostile_strings": 0.005,
            "http_5xx": 0.004,
            "rate_limit": 0.004,
            "token_expiry": 0.002,
            "html_maintenance": 0.001,
            "duplicates": 0.01,
        },
        late={"subsystem": "research", "days": 1},
        conflict={
            "subsystem": "assets",
            "resource": "assets",
            "field": "cfdd",
            "value": "（采集中被修改）实训楼 B-305",
        },
    ),
}


def profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"未知的沙箱配置: {name}（可选 {', '.join(PROFILES)}）")
    return PROFILES[name]
