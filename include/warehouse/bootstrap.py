"""Create what the platform needs on its PostgreSQL server; safe to run any number of times.

Databases (warehouse, Airflow metadata), roles (include/warehouse/roles.py, each with its
own password), the personal-data key, one `raw_<id>` schema
per subsystem file, then every `ddl/*.sql` file in name order. Those files hold the platform's
own tables (run log, rejects, quality results …) and must themselves be idempotent; then the
SQL forms of the data rules in `include/rules/` (the GB 11643 check).
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from include import audit, settings
from include.registry import registry
from include.rules import gb11643
from include.warehouse import connection, credentials, roles

DDL_DIR = Path(__file__).parent / "ddl"
BI_ROLE = roles.BI
BOOTSTRAP_LOCK = 7_2021_1020  # advisory lock id: the date of the college's rules


def ensure_databases(url: str) -> None:
    admin = connection.with_db(url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        for db in (settings.warehouse_db(), settings.airflow_db()):
            exists = conn.execute("select 1 from pg_database where datname = %s", [db]).fetchone()
            if not exists:
                conn.execute(sql.SQL("create database {} encoding 'UTF8' template template0")
                             .format(sql.Identifier(db)))  # fmt: skip


def ensure_roles(conn: psycopg.Connection) -> list[str]:
    """Every role of include/warehouse/roles.py, each logging in with its own password."""
    reg = registry()
    roles.ensure_role(conn, roles.DEPARTMENTS, login=False)
    for role in roles.login_roles(reg):
        roles.ensure_role(conn, role)
    return roles.login_roles(reg)


def store_pii_key(conn: psycopg.Connection) -> None:
    """The personal-data key into private.pii_key (refuses without one outside the demo)."""
    ipad, opad = credentials.hmac_pads(credentials.pii_key())
    conn.execute(
        "insert into private.pii_key (ipad, opad) values (%s, %s) on conflict (singleton)"
        " do update set ipad = excluded.ipad, opad = excluded.opad",
        [ipad, opad],
    )


def ensure_schemas(conn: psycopg.Connection) -> list[str]:
    schemas = [s.raw_schema for s in registry().subsystems.values()]
    for schema in schemas:
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    return schemas


def apply_ddl(conn: psycopg.Connection) -> list[str]:
    applied = []
    for path in sorted(DDL_DIR.glob("*.sql")):
        conn.execute(path.read_text(encoding="utf-8"))
        applied.append(path.name)
    # SQL forms of the data rules, generated from their one home
    conn.execute(gb11643.sql_function())
    applied.append("include/rules/gb11643.py")
    return applied


def prepare_database(conn: psycopg.Connection) -> tuple[list[str], list[str]]:
    """One warehouse database: raw schemas, platform tables, the key, every role's grants,
    and an audit event for every rules file changed since the last start (include/audit.py)."""
    schemas = ensure_schemas(conn)
    ddl = apply_ddl(conn)
    store_pii_key(conn)
    roles.ensure(conn, registry())
    audit.record_rules_files(conn)
    return schemas, ddl


def bootstrap(url: str | None = None) -> dict:
    """Ensure server, databases, roles, schemas and platform tables. Returns what it did."""
    url = url or connection.ensure_server()
    ensure_databases(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", [BOOTSTRAP_LOCK])
        try:
            login_roles = ensure_roles(conn)
            schemas, ddl = prepare_database(conn)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", [BOOTSTRAP_LOCK])
    return {"warehouse": url, "raw_schemas": schemas, "ddl": ddl, "roles": login_roles}
