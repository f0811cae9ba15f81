"""Which PostgreSQL the platform uses, and how to connect to it.

Configured server first (XIAOBEN_DATABASE_URL, or an Airflow connection `xiaoben_warehouse`
given as AIRFLOW_CONN_XIAOBEN_WAREHOUSE), the embedded server otherwise. The Airflow metadata
database lives on the same server unless XIAOBEN_AIRFLOW_DATABASE_URL says otherwise.
"""

from __future__ import annotations

import json
import os
import re
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg

from include import settings
from include.warehouse.embedded import EmbeddedPostgres


def embedded() -> EmbeddedPostgres:
    return EmbeddedPostgres(settings.state_dir() / "pg" / "data", settings.embedded_port())


def configured_url() -> str | None:
    """The warehouse URL set by the operator, or None to use the embedded server."""
    if url := os.environ.get("XIAOBEN_DATABASE_URL"):
        return url
    conn = os.environ.get("AIRFLOW_CONN_XIAOBEN_WAREHOUSE")
    if not conn:
        return None
    if conn.lstrip().startswith("{"):  # Airflow's JSON connection format
        c = json.loads(conn)
        auth = c.get("login", "") + (f":{c['password']}" if c.get("password") else "")
        return f"postgresql://{auth}@{c['host']}:{c.get('port', 5432)}/{c.get('schema', '')}"
    return conn.replace("postgres://", "postgresql://", 1)


def with_db(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def shown(url: str) -> str:
    """The URL to print: the password replaced by *** (`./run db url` gives the full one)."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def warehouse_url() -> str:
    url = configured_url()
    return url if url else embedded().url(settings.warehouse_db())


def role_url(role: str) -> str:
    """The warehouse URL logging in as one of the platform's roles (include/warehouse/roles.py)."""
    from include.warehouse import credentials

    parts = urlsplit(warehouse_url())
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    auth = f"{role}:{quote(credentials.password(role), safe='')}"
    return urlunsplit(parts._replace(netloc=f"{auth}@{host}"))


def airflow_url() -> str:
    """SQLAlchemy URL of Airflow's metadata database."""
    url = os.environ.get("XIAOBEN_AIRFLOW_DATABASE_URL") or with_db(
        warehouse_url(), settings.airflow_db()
    )
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)


def ensure_server() -> str:
    """Start the embedded server when no server is configured; returns the warehouse URL."""
    if configured_url() is None:
        embedded().start()
    return warehouse_url()


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    return psycopg.connect(url or warehouse_url(), **kwargs)
