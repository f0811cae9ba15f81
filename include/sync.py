"""`./run sync`: regenerate every file derived from the subsystem files, in one command.

The subsystem files (`connectors/subsystems/*.yml`) and `connectors/departments.yml` are the
single source of truth. From them come, checked in so auditors read the diffs:

- dbt staging per subsystem (`include/warehouse/staging.py`): sources, models YAML, one SQL
  per resource (hand-written SQL, without the generated header, is left alone and listed);
- dbt groups, governance seeds and the responsibility meta of every mart
  (`include/warehouse/dbt.py`);
- the Soda contracts (`include/quality/contracts.py`), whose schema-drift list is the
  declared `fields:`;
- the connection lines of `.env.example` (one per subsystem with an `api:` section);
- the personal-data classes of the staging columns (`dbt_project/macros/pii_classes.sql`,
  include/warehouse/pii.py), which the marts' masking and hashing macros read;
- the dbt date-token macros (`dbt_project/macros/date_formats.sql`) from the one token table,
  `include/rules/dates.py`.

`stale()` lists what `./run sync` would change; a test fails naming the command when it is
not empty.
"""

from __future__ import annotations

import json
from pathlib import Path

from include import settings
from include.registry import Registry, registry

ENV_EXAMPLE = settings.ROOT / ".env.example"
ENV_MARKER = (
    "# Each subsystem's connection: base URL and app key/secret (here: the sandbox service)."
)


def _sandbox_serves() -> set[str]:
    try:
        from sandbox.registry import NAMES
    except ImportError:  # the production image has no sandbox
        return set()
    return set(NAMES)


def env_example(reg: Registry) -> str | None:
    """`.env.example` with its connection block regenerated (None when the file is absent)."""
    if not ENV_EXAMPLE.exists():
        return None
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    head = text.split(ENV_MARKER)[0]
    served = _sandbox_serves()
    lines = [ENV_MARKER]
    for s in reg.subsystems.values():
        if s.api is None:
            continue
        if s.id in served:
            host, key, secret = (
                f"http://sandbox:8765/{s.id}",
                f"{s.id}-demo-key",
                f"{s.id}-demo-secret",
            )
        else:
            lines.append(f"# {s.id}: 沙箱不模拟此子系统，请填写真实地址与密钥 (not in the sandbox)")
            host, key, secret = f"https://{s.id}.example.edu.cn", "change-me", "change-me"
        conn = {"conn_type": "http", "host": host, "login": key, "password": secret}
        lines.append(f"AIRFLOW_CONN_{s.api.connection.upper()}={json.dumps(conn)}")
    return head + "\n".join(lines) + "\n"


def _planned(reg: Registry) -> tuple[dict[Path, str], list[Path]]:
    from include.rules import dates
    from include.warehouse import pii, staging

    files, hand = staging.expected(reg)
    files[settings.DBT_DIR / "macros" / dates.DBT_MACROS] = dates.dbt_macros()
    files[pii.MACRO_FILE] = pii.dbt_macro(reg)
    env = env_example(reg)
    if env is not None:
        files[ENV_EXAMPLE] = env
    return files, hand


def _differs(path: Path, text: str) -> bool:
    return not path.exists() or path.read_text(encoding="utf-8") != text


def stale(reg: Registry | None = None) -> list[str]:
    """Every generated file that differs from what `./run sync` would write, one line each."""
    from include.quality import contracts
    from include.warehouse import dbt

    reg = reg or registry()
    files, _ = _planned(reg)
    out = [_rel(p) for p, text in files.items() if _differs(p, text)]
    out += dbt.check(reg)
    out += [_rel(p) for p in contracts.write_all(check_only=True)]
    return out


def sync(reg: Registry | None = None) -> tuple[list[Path], list[Path]]:
    """Write every generated file; returns (files written, hand-written models left alone)."""
    from include.quality import contracts
    from include.warehouse import dbt

    reg = reg or registry()
    files, hand = _planned(reg)
    written = []
    for path, text in files.items():
        if _differs(path, text):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    written += dbt.sync(reg)
    written += contracts.write_all()
    return written, hand


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(settings.ROOT))
    except ValueError:
        return str(path)
