"""The environment every Airflow process of the platform runs with.

The same variables serve `./run demo`, the tests and a developer opening the Airflow UI, so
all three see the same DAGs, the same metadata database and the same connections. Connections
are given as AIRFLOW_CONN_* variables so no secret is ever written to the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

from include import settings
from include.warehouse import connection


def airflow_home() -> Path:
    return settings.state_dir() / "airflow"


def environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    """os.environ plus the platform's Airflow settings (explicit settings in os.environ win)."""
    warehouse = connection.warehouse_url()
    defaults = {
        "AIRFLOW_HOME": str(airflow_home()),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": settings.TIMEZONE,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": connection.airflow_url(),
        # Local UI: one admin account, password written to AIRFLOW_HOME by SimpleAuthManager.
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow_home() / "logs"),
        "AIRFLOW_CONN_XIAOBEN_WAREHOUSE": warehouse.replace("postgresql://", "postgres://", 1),
        "SODA_CORE_TELEMETRY_ENABLED": "false",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "XIAOBEN_HOME": str(settings.state_dir()),
    }
    env = dict(os.environ)
    for key, value in {**defaults, **(extra or {})}.items():
        env.setdefault(key, value)
    return env


def apply(extra: dict[str, str] | None = None) -> None:
    """Put the platform's Airflow settings into this process before Airflow is imported."""
    os.environ.update(environ(extra))
    airflow_home().mkdir(parents=True, exist_ok=True)
