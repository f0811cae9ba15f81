"""Fixtures for the collection tests: the real campus sandbox over HTTP and a database per module.

- `campus`: the sandbox (scale 300) served on a free loopback port from a thread of this
  process, so a test can read its ground truth, move its clock and switch its faults directly.
- `db`: a fresh database on the session's PostgreSQL, bootstrapped like the warehouse, so a
  module's raw tables, run log and rejects hold only what that module landed.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from connectors.client import Credentials
from connectors.spec import api_specs
from include.warehouse import connection
from tests.sandbox_scope import sandbox_specs

SCALE = 300
# Every fault of API.md's example at its realistic rate; the timeout fault is shortened so a
# test does not sleep 4 s per hit (the client's behaviour does not depend on the length).
REALISTIC = {
    "http_5xx": 0.02, "rate_limit": 0.02, "timeout": 0.005, "token_expiry": 0.01,
    "duplicates": 0.01, "page_drift": 0.01, "malformed": 0.005, "schema_drift": 0.01,
    "hostile_strings": 0.005, "html_maintenance": 0.005, "timeout_seconds": 0.3,
}  # fmt: skip
NO_FAULTS = {k: 0.0 for k in REALISTIC if k != "timeout_seconds"}


@dataclass
class Campus:
    sandbox: object
    base: str

    def credentials(self, subsystem: str, base_id: str | None = None) -> Credentials:
        key, secret = self.sandbox.credentials(base_id or subsystem)
        return Credentials(f"{self.base}/{base_id or subsystem}", key, secret)

    def connection_env(self) -> dict[str, str]:
        """AIRFLOW_CONN_* for every subsystem file, as the main job builds them."""
        env = {}
        for sid, spec in sandbox_specs().items():
            key, secret = self.sandbox.credentials(sid)
            conn = {"conn_type": "http", "host": f"{self.base}/{sid}"}
            conn.update(login=key, password=secret)
            env[f"AIRFLOW_CONN_{spec.connection.upper()}"] = json.dumps(conn)
        return env

    realistic = REALISTIC

    def faults(self, **rates) -> None:
        self.sandbox.set_faults({**NO_FAULTS, **rates})


@pytest.fixture(scope="module")
def campus():
    from sandbox import Sandbox
    from sandbox.server import make_server

    sb = Sandbox(seed=2026, scale=SCALE, start="2026-09-01", days=21)
    server = make_server(sb, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, name="sandbox", daemon=True)
    thread.start()
    try:
        yield Campus(sb, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


def fresh_database(server_url: str, name: str) -> str:
    """Drop and create database `name`, apply the platform's DDL, return its URL."""
    from include.warehouse.bootstrap import ensure_roles, prepare_database

    with psycopg.connect(connection.with_db(server_url, "postgres"), autocommit=True) as conn:
        ident = sql.Identifier(name)
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(ident))
        conn.execute(sql.SQL("create database {}").format(ident))
    url = connection.with_db(server_url, name)
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_roles(conn)
        prepare_database(conn)
    return url


@pytest.fixture(scope="module")
def db(warehouse_url, request) -> str:
    return fresh_database(warehouse_url, f"connectors_{request.module.__name__.split('.')[-1]}")


# -- reconciliation -----------------------------------------------------------------------------


def key_text(key) -> str:
    return "|".join(str(k) for k in key) if isinstance(key, tuple | list) else str(key)


def latest_payloads(conn, subsystem: str, resource: str) -> dict[str, dict]:
    table = sql.SQL("{}.{}").format(sql.Identifier(f"raw_{subsystem}"), sql.Identifier(resource))
    rows = conn.execute(
        "select source_key, payload from landing.latest_versions(%s::regclass)",
        [table.as_string(conn)],
    ).fetchall()
    return dict(rows)


def reconcile(conn, sandbox, subsystem: str, resource: str) -> list[str]:
    """Differences between what landed and the sandbox's truth; [] when they agree exactly.

    Raw (latest version per key) must equal the truth minus the defective records; every
    defect must be in rejects with its class and field, and nothing else may be rejected.
    """
    where = f"{subsystem}.{resource}"
    truth = {key_text(k): v for k, v in sandbox.truth(subsystem, resource).items()}
    defects = sandbox.defects(subsystem, resource)
    defective = {key_text(d["truth_key"]) for d in defects}
    expected = {k: v for k, v in truth.items() if k not in defective}
    got = latest_payloads(conn, subsystem, resource)
    problems = []
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    changed = sorted(k for k in set(expected) & set(got) if expected[k] != got[k])
    if missing:
        problems.append(f"{where}: {len(missing)} records missing from raw, e.g. {missing[:3]}")
    if extra:
        problems.append(f"{where}: {len(extra)} records in raw not in the truth, e.g. {extra[:3]}")
    if changed:
        problems.append(f"{where}: {len(changed)} payloads differ, e.g. {changed[:3]}")
    rejects = conn.execute(
        "select source_key, reason_code, field, raw_text from landing.rejects"
        " where subsystem = %s and resource = %s",
        [subsystem, resource],
    ).fetchall()
    # A defective record comes again with every overlapping window, so rejects may repeat it;
    # each defect must be there as the API serves it now, and nothing else may be rejected.
    served: dict[tuple, list] = {}
    for _key, code, field, raw in rejects:
        served.setdefault((code, field), []).append(json.loads(raw))
    for d in defects:
        record = truth[key_text(d["truth_key"])]
        if record not in served.get((d["defect_class"], d["field"]), []):
            problems.append(f"{where}: defect {d} is not in rejects with its class and field")
    pk = api_specs()[subsystem].resources[resource].primary_key
    allowed = set()
    for d in defects:
        if d["key"] is not None:  # the key as the sandbox knows it and as the record carries it
            record = truth[key_text(d["truth_key"])]
            carried = "|".join(str(record.get(f, "")) for f in pk)
            for k in (key_text(d["key"]), carried):
                allowed.add((k, d["defect_class"], d["field"]))
    keyless = {(d["defect_class"], d["field"]) for d in defects if d["key"] is None}
    for source_key, code, field, _ in rejects:
        ok = (source_key, code, field) in allowed if source_key else (code, field) in keyless
        if not ok:
            problems.append(f"{where}: {source_key} rejected ({code}, {field}) but no such defect")
    return problems


@pytest.fixture
def check_landed():
    """`check_landed(conn, sandbox, subsystem, resource)` → reconciliation problems."""
    return reconcile


@pytest.fixture
def realistic_faults() -> dict:
    return dict(REALISTIC)
