"""What must never appear in clear, and where to look for it (issue 15, items 2 and 4).

Used by the tests of a real run: every secret the run used (the platform's generated secrets
under <state>/secrets and <state>/airflow, the sandbox's app secrets) must not be in the
repository's files, and neither those secrets nor clear 身份证号 (valid GB 11643 check digit)
or the people's mobile numbers may be in the run's task logs, sent mails or reports.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from include import settings
from include.rules import gb11643

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9A-Za-z])")


def personal_data_in(text: str, phones: set[str] | None = None) -> list[str]:
    """Clear 身份证号 (valid check digit) and mobile numbers found in a text.

    Any 11-digit 1[3-9]… string looks like a mobile number (class and section ids do too);
    given `phones` (the sandbox people's real numbers), only those count.
    """
    ids = [m for m in ID_NUMBER.findall(text) if gb11643.valid(m.upper())]
    mobiles = [m for m in MOBILE.findall(text) if phones is None or m in phones]
    return ids + mobiles


def _values(node) -> list[str]:
    if isinstance(node, dict):
        return [v for x in node.values() for v in _values(x)]
    return [node] if isinstance(node, str) else []


def run_secrets(home: Path) -> list[str]:
    """Every secret a run under state folder `home` generated (long enough to be one)."""
    files = [*(home / "secrets").glob("*.json"), *(home / "airflow").glob("*.json")]
    return [v for f in files for v in _values(json.loads(f.read_text())) if len(v) >= 12]


def repository_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=settings.ROOT,
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [settings.ROOT / p for p in out.splitlines() if (settings.ROOT / p).is_file()]


def run_outputs(home: Path) -> list[Path]:
    """Task logs, component logs, mails and reports of the run under `home`."""
    skip = ("secrets", "pg")
    files = [p for p in home.rglob("*") if p.is_file() and not set(skip) & set(p.parts)]
    keys = {home / "airflow" / n for n in ("keys.json", "simple_auth_manager_passwords.json")}
    return [p for p in files if p not in keys and p.stat().st_size < 50_000_000]


def found_in(paths: list[Path], needles: list[str]) -> dict[str, list[str]]:
    hits: dict[str, list[str]] = {}
    for path in paths:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        leaked = [n[:4] + "…" for n in needles if n in text]
        if leaked:
            hits[str(path)] = leaked
    return hits
