"""The warehouse bootstrap against a real PostgreSQL: databases, roles, schemas; idempotent."""

from __future__ import annotations

import psycopg

from include import settings
from include.registry import registry
from include.warehouse import connection
from include.warehouse.bootstrap import BI_ROLE, bootstrap


def test_bootstrap_creates_databases_schemas_and_roles(warehouse_url):
    with psycopg.connect(connection.with_db(warehouse_url, "postgres")) as conn:
        dbs = {r[0] for r in conn.execute("select datname from pg_database")}
    assert {settings.warehouse_db(), settings.airflow_db()} <= dbs
    with psycopg.connect(warehouse_url) as conn:
        schemas = {r[0] for r in conn.execute("select nspname from pg_namespace")}
        assert {f"raw_{sid}" for sid in registry().subsystems} | {"landing", "quality"} <= schemas
        role = conn.execute("select rolcanlogin from pg_roles where rolname = %s", [BI_ROLE])
        assert role.fetchone() == (True,)


def test_bootstrap_is_idempotent(warehouse_url):
    first = bootstrap()
    second = bootstrap()
    assert first == second


def test_embedded_server_reports_its_state(warehouse_url):
    if connection.configured_url():
        return  # running against an external server: nothing embedded to inspect
    server = connection.embedded()
    assert server.is_running() and "running" in server.status()
    with psycopg.connect(server.url("postgres")) as conn:
        assert conn.execute("show server_version").fetchone()[0].startswith("16.")
