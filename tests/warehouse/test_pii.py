"""Personal data end to end (issue 15, item 2), on the sandbox college built by dbt.

- No text in the marts holds an 18-character 身份证号 with a valid GB 11643 check digit or an
  11-digit mobile number; the hash is HMAC-SHA256 with the platform's secret key.
- The personal-data key: generated owner-only for the embedded server; refused (one Chinese
  line naming XIAOBEN_PII_KEY) against a configured server without it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

import psycopg
import pytest

from include.rules import gb11643
from include.warehouse import credentials
from tests.security_scan import personal_data_in


def sandbox_phones(sb) -> set[str]:
    """Every phone number of every person in the sandbox college (its ground truth)."""
    people = [*sb.college.students.values(), *sb.college.staff.values()]
    return {p.mobile for p in people}


def test_the_scanner_finds_what_it_looks_for():
    first17 = "43010220050101025"
    clear = first17 + gb11643.check_char(first17)
    assert personal_data_in(f"学生 {clear}，电话 13812345678。") == [clear, "13812345678"]
    assert personal_data_in("43**************** *******5678 20260901123456789") == []


def scan_marts(db_url: str, phones: set[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    with psycopg.connect(db_url) as conn:
        columns = conn.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = 'marts' and data_type in ('text', 'character varying', 'jsonb')"
        ).fetchall()
        for table, column in columns:
            rows = conn.execute(
                f'select "{column}"::text from marts."{table}" where "{column}" is not null'
            ).fetchall()
            hits = [h for (v,) in rows for h in personal_data_in(v, phones)]
            if hits:
                found[f"{table}.{column}"] = hits[:3]
    return found


def test_marts_hold_no_clear_id_numbers_or_mobiles(campus):
    ids = {r["sfzjh"] for r in campus.sb.truth("academic", "students").values()}
    assert ids and all(gb11643.valid(i) for i in list(ids)[:50])  # the sandbox has real ones
    phones = sandbox_phones(campus.sb)
    assert len(phones) > 100
    assert scan_marts(campus.db_url, phones) == {}


def test_masks_show_only_province_or_last_four(campus):
    rows = campus.query("select id_number_masked, phone_masked from marts.dim_students")
    assert rows
    for id_masked, phone_masked in rows:
        assert re.fullmatch(r"[0-9]{2}\*{16}", id_masked), id_masked
        assert phone_masked is None or re.fullmatch(r"\*{7}[0-9]{4}", phone_masked)


def test_hash_is_hmac_sha256_with_the_secret_key(campus):
    student = next(iter(campus.sb.truth("academic", "students").values()))
    key = credentials.pii_key().encode()
    expected = hmac.new(key, student["sfzjh"].upper().encode(), hashlib.sha256).hexdigest()
    (row,) = campus.query(
        "select id_number_hash from marts.dim_students where student_id = %s", [student["xh"]]
    )
    assert row[0] == expected
    unkeyed = hashlib.sha256(("xiaoben-sandbox-pii-key" + student["sfzjh"]).encode()).hexdigest()
    assert row[0] != unkeyed


def test_key_is_generated_owner_only_for_the_embedded_server(warehouse_url):
    if credentials.PII_KEY_ENV in __import__("os").environ:
        pytest.skip("key given by the environment")
    path = credentials.secrets_dir() / "pii_key.json"
    assert len(credentials.pii_key()) >= credentials.MIN_KEY_CHARS
    assert path.stat().st_mode & 0o077 == 0


def test_configured_server_without_key_is_refused(monkeypatch):
    monkeypatch.delenv(credentials.PII_KEY_ENV, raising=False)
    monkeypatch.setenv("XIAOBEN_DATABASE_URL", "postgresql://x@db.example.edu.cn/xiaoben")
    with pytest.raises(credentials.MissingSecret) as err:
        credentials.pii_key()
    assert "XIAOBEN_PII_KEY" in str(err.value) and "\n" not in str(err.value)
    monkeypatch.setenv(credentials.PII_KEY_ENV, "too-short")
    with pytest.raises(credentials.MissingSecret, match="XIAOBEN_PII_KEY"):
        credentials.pii_key()


def test_key_and_passwords_never_in_sql_text_or_dbt_output(campus):
    """The key is stored by the bootstrap, never compiled into SQL (dbt's target/ and logs)."""
    from include import settings

    secrets = [credentials.pii_key()] + [
        v for v in _json(credentials.secrets_dir() / "roles.json").values()
    ]
    for folder in (settings.DBT_DIR / "target", settings.DBT_DIR / "logs", settings.state_dir()):
        for path in folder.rglob("*") if folder.exists() else ():
            skip = "secrets" in path.parts or ("pg" in path.parts and path.name != "postgres.log")
            if path.is_file() and not skip and path.stat().st_size < 50e6:
                text = path.read_text(errors="replace")
                leaked = [s[:4] + "…" for s in secrets if s in text]
                assert not leaked, f"{path}: {leaked}"


def _json(path: Path) -> dict:
    import json

    return json.loads(path.read_text()) if path.exists() else {}
