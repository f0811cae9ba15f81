"""Fixtures for the warehouse (dbt) tests: a sandbox college collected into its own database.

The campus sandbox runs over HTTP in a thread, the real collection code (`connectors.collect`)
pulls every resource of every subsystem into a database of its own on the session's
PostgreSQL (so other test modules that land data cannot disturb the ground-truth
comparisons), and dbt builds the whole project there once per session.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from psycopg import sql

from include.warehouse import connection

SCALE = 300
START = "2026-09-01"
DAYS = 14
DB = "xiaoben_dbt_test"


class Campus:
    """The sandbox, its HTTP server, and helpers to collect it into a warehouse database."""

    def __init__(self, sandbox, base_url: str, db_url: str):
        self.sb, self.base_url, self.db_url = sandbox, base_url, db_url
        self.timings: dict[str, float] = {}

    def collect(self, mode: str = "incremental") -> list[dict]:
        from connectors.client import Credentials
        from connectors.collect import collect
        from tests.sandbox_scope import sandbox_specs

        results = []
        for sid, spec in sorted(sandbox_specs().items()):
            key, secret = self.sb.credentials(sid)
            creds = Credentials(f"{self.base_url}/{sid}", key, secret)
            for name in spec.landed:
                results.append(collect(sid, name, mode=mode, credentials=creds, db_url=self.db_url))
        failed = [r for r in results if r.get("status") != "success"]
        assert not failed, failed
        return results

    def dbt(self, *args: str) -> str:
        from include.warehouse import dbt

        return dbt.run(list(args), url=self.db_url).stdout

    def query(self, text: str, params=None) -> list[tuple]:
        with psycopg.connect(self.db_url) as conn:
            return conn.execute(text, params).fetchall()


def _fresh_database(server_url: str) -> str:
    """(Re)create the test database and give it the platform's schemas and tables."""
    from include.warehouse import bootstrap

    with psycopg.connect(connection.with_db(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(DB)))
        conn.execute(
            sql.SQL("create database {} encoding 'UTF8' template template0").format(
                sql.Identifier(DB)
            )
        )
    url = connection.with_db(server_url, DB)
    with psycopg.connect(url, autocommit=True) as conn:
        bootstrap.prepare_database(conn)
    return url


@pytest.fixture(scope="session")
def campus(warehouse_url):
    """The sandbox college, collected in full and built by dbt (`dbt build`)."""
    from sandbox import Sandbox
    from sandbox.server import make_server

    sandbox = Sandbox(seed=2026, scale=SCALE, start=START, days=DAYS)
    server = make_server(sandbox, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        c = Campus(
            sandbox, f"http://127.0.0.1:{server.server_address[1]}", _fresh_database(warehouse_url)
        )
        started = time.monotonic()
        c.collect(mode="full")
        c.timings["collect"] = time.monotonic() - started
        started = time.monotonic()
        c.build_output = c.dbt("build")
        c.timings["build"] = time.monotonic() - started
        yield c
    finally:
        server.shutdown()
        server.server_close()
