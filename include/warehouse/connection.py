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


def role_url(role: str, url: str | None = None) -> str:
    """`url` (default the warehouse) logging in as one of the platform's roles (roles.py)."""
    from include.warehouse import credentials

    parts = urlsplit(url or warehouse_url())
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    auth = f"{role}:{quote(credentials.password(role), safe='')}"
    return urlunsplit(parts._replace(netloc=f"{auth}@{host}"))


# Which role each kind of task connects as: the one place it is chosen (issue 15, item 1; the
# privileges of each role are the table in include/warehouse/roles.py). The bootstrap (DDL,
# grants), the demo's own set-up and the operator's command line stay the owner.
PURPOSES = {
    "collect": "xiaoben_loader",  # connectors: raw_*, landing
    "build": "xiaoben_transformer",  # dbt: staging … marts, snapshots, seeds
    "quality": "xiaoben_quality",  # Soda contracts, results, holds, warnings, digests
    "reports": "xiaoben_quality",  # reports read landing's run log and rejects
    "corrections": "xiaoben_quality",  # the correction workflow reads raw's landed values
    "assessment": "xiaoben_quality",  # the year-end assessment reads landing, quality, marts
}


def url_for(purpose: str, url: str | None = None) -> str:
    """The URL a task of this purpose uses: `url`'s server and database (default the
    warehouse), logging in as the purpose's role (PURPOSES)."""
    return role_url(PURPOSES[purpose], url)


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


def connect(url: str | None = None, purpose: str | None = None, **kwargs) -> psycopg.Connection:
    """A connection to `url` (default the warehouse), as the purpose's role when one is named."""
    return psycopg.connect(url_for(purpose, url) if purpose else url or warehouse_url(), **kwargs)
