"""Fixtures for the quality tests: an own database, realistic landed data, a real SMTP server.

- `quality_url`: a database of its own on the session's PostgreSQL (bootstrapped like the
  warehouse), so these tests never see or disturb the other layers' test data.
- `landed`: the campus sandbox (scale 300, faults on) landed through the collection code's
  `Landing` (the same validation, rejects and run log as a real pull; the HTTP part is the
  only part left out, the records are what the API serves).
- `catcher`: an aiosmtpd mail catcher on a free loopback port, with `smtp_default` pointing
  at it.
"""

from __future__ import annotations

from datetime import datetime

import psycopg
import pytest
from psycopg import sql

from include.warehouse import connection

FAULTS = {"malformed": 0.06, "schema_drift": 0.04, "hostile_strings": 0.04}
# Resources whose field hints cover every malformed defect class between them.
RESOURCES = [
    ("academic", "students"),
    ("academic", "grades"),
    ("academic", "attendance"),
    ("teacher_development", "staff"),
    ("admissions", "enrolments"),
]


def fresh_database(server_url: str, name: str) -> str:
    """Drop and create database `name` on the server, bootstrap it, return its URL."""
    from include.warehouse.bootstrap import ensure_roles, prepare_database

    admin = connection.with_db(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        db = sql.Identifier(name)
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(db))
        conn.execute(sql.SQL("create database {}").format(db))
    url = connection.with_db(server_url, name)
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_roles(conn)
        prepare_database(conn)
    return url


@pytest.fixture(scope="module")
def quality_url(warehouse_url) -> str:
    return fresh_database(warehouse_url, "quality_test")


@pytest.fixture(scope="module")
def sandbox():
    from sandbox import Sandbox

    sb = Sandbox(seed=2026, scale=300, start="2026-09-01", days=21)
    sb.set_faults(FAULTS)
    return sb


def land(url: str, subsystem: str, resource: str, records: list, keys: list | None = None) -> dict:
    """One pull through the collection code's landing (validation, rejects, run log)."""
    from connectors.landing import Landing
    from connectors.spec import spec_for

    spec = spec_for(subsystem)
    with psycopg.connect(url, autocommit=True) as conn:
        landing = Landing(conn, spec, spec.resources[resource], title=subsystem)
        landing.ensure_table()
        landing.start("full", None, "test", "test")
        landing.add(records, keys, datetime.now().astimezone())
        landing.flush()
        return landing.finish("success")


@pytest.fixture(scope="module")
def landed(quality_url, sandbox) -> dict:
    """Land RESOURCES from the faulty sandbox; returns {(subsystem, resource): run-log row}."""
    pulls = {}
    for subsystem, resource in RESOURCES:
        truth = sandbox.truth(subsystem, resource)
        pulls[(subsystem, resource)] = land(quality_url, subsystem, resource, list(truth.values()))
    return pulls


@pytest.fixture
def catcher(tmp_path, monkeypatch):
    from include.mail import MailCatcher

    with MailCatcher(tmp_path / "mail") as c:
        for key, value in c.connection_env(from_email="质管办 <qmo@hngy.example.cn>").items():
            monkeypatch.setenv(key, value)
        yield c
