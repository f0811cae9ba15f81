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


def test_raw_tables_have_one_definition_with_the_run_log_key(warehouse_url):
    """Landing and dbt's on-run-start both create raw tables by landing.ensure_raw_table."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        # a table made by the old dbt copy of the DDL, without the foreign key, gets it
        conn.execute("create schema raw_rules_probe")
        conn.execute(
            "create table raw_rules_probe.things (pull_id bigint not null,"
            " fetched_at timestamptz not null, source_key text not null,"
            " payload_hash text not null, payload jsonb not null, primary key (source_key,"
            " payload_hash))"
        )
        for _ in range(2):  # idempotent
            conn.execute("select landing.ensure_raw_table('raw_rules_probe', 'things')")
        fk = conn.execute(
            "select confrelid::regclass::text from pg_constraint"
            " where conrelid = 'raw_rules_probe.things'::regclass and contype = 'f'"
        ).fetchall()
        pk = conn.execute(
            "select pg_get_constraintdef(oid) from pg_constraint"
            " where conrelid = 'raw_rules_probe.things'::regclass and contype = 'p'"
        ).fetchone()
        conn.execute("drop schema raw_rules_probe cascade")
    assert fk == [("landing.run_log",)]
    assert pk == ("PRIMARY KEY (source_key, payload_hash)",)
    hooks = (settings.DBT_DIR / "macros" / "hooks.sql").read_text(encoding="utf-8")
    assert "landing.ensure_raw_table(" in hooks and "create table" not in hooks


def test_latest_versions_skips_held_pulls_and_reads_after_a_watermark(warehouse_url):
    """landing.latest_versions: the one definition of "latest version per key"."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("select landing.ensure_raw_table('raw_rules_probe', 'things')")
        pulls = [
            conn.execute(
                "insert into landing.run_log (subsystem, resource, mode)"
                " values ('rules_probe', 'things', 'full') returning pull_id"
            ).fetchone()[0]
            for _ in range(3)
        ]
        for pull, version in zip(pulls, ("a", "b", "c"), strict=True):
            conn.execute(
                "insert into raw_rules_probe.things values (%s, now() + %s * interval '1 s',"
                " 'k1', %s, jsonb_build_object('v', %s::text))",
                [pull, pull, version, version],
            )
        conn.execute(
            "insert into quality.holds (pull_id, subsystem, resource, reason)"
            " values (%s, 'rules_probe', 'things', 'probe')",
            [pulls[2]],
        )

        def latest(args: str, *params) -> list:
            query = f"select payload ->> 'v' from landing.latest_versions({args})"
            return [r[0] for r in conn.execute(query, ["raw_rules_probe.things", *params])]

        everything = latest("%s")
        published = latest("%s, published_only => true")
        after_b = latest("%s, published_only => true, after_pull => %s", pulls[1])
        conn.execute("delete from quality.holds where pull_id = %s", [pulls[2]])
        conn.execute("drop schema raw_rules_probe cascade")
        conn.execute("delete from landing.run_log where subsystem = 'rules_probe'")
    assert everything == ["c"]  # the last fetched version
    assert published == ["b"]  # c is held: b stays current
    assert after_b == []  # nothing published after pull b
