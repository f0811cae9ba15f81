"""Fixtures for the correction tests: the sandbox's academic students landed in a database of
their own (real sandbox over HTTP, real collection code, real PostgreSQL)."""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg import sql

from include.warehouse import connection

DB = "xiaoben_corrections_test"


def land(warehouse_url: str, db: str, resources: tuple[str, ...]) -> str:
    """URL of a new database `db` holding the academic `resources` as the sandbox serves them."""
    from connectors.client import Credentials
    from connectors.collect import collect
    from include.warehouse import bootstrap
    from sandbox import Sandbox
    from sandbox.server import make_server

    with psycopg.connect(connection.with_db(warehouse_url, "postgres"), autocommit=True) as c:
        c.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(db)))
        c.execute(sql.SQL("create database {} encoding 'UTF8' template template0").format(
            sql.Identifier(db)))  # fmt: skip
    url = connection.with_db(warehouse_url, db)
    with psycopg.connect(url, autocommit=True) as conn:
        bootstrap.prepare_database(conn)  # grants too: dbt and the workflow log in as their roles
    sandbox = Sandbox(seed=2026, scale=200, start="2026-09-01", days=3)
    server = make_server(sandbox, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        key, secret = sandbox.credentials("academic")
        creds = Credentials(f"http://127.0.0.1:{server.server_address[1]}/academic", key, secret)
        for resource in resources:
            result = collect("academic", resource, mode="full", credentials=creds, db_url=url)
            assert result["status"] == "success", result
    finally:
        server.shutdown()
        server.server_close()
    return url


@pytest.fixture(scope="session")
def landed(warehouse_url):
    """URL of a database holding raw_academic.students as the sandbox serves them."""
    return land(warehouse_url, DB, ("students",))


@pytest.fixture(scope="session")
def landed_grades(warehouse_url):
    """URL of a database holding raw_academic.grades (an incremental staging model's source)."""
    return land(warehouse_url, DB + "_grades", ("grades",))


def query(url: str, text: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(text, params).fetchall()
