"""Shared by the DAG tests: the environment of an Airflow child process with its own home.

Airflow reads its configuration once, at import; so every DAG test runs Airflow in a child
process whose environment is set first (a temporary AIRFLOW_HOME and SQLite metadata DB),
never in the pytest process, whose Airflow settings other tests may own.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from include import settings


def role_passwords() -> dict[str, str]:
    """The platform roles' passwords as a deployment hands them to its workers (credentials.py):
    a task process with another state folder (XIAOBEN_HOME) still logs in as its role."""
    from include.warehouse import credentials, roles

    return {
        f"XIAOBEN_{role.removeprefix('xiaoben_').upper()}_PASSWORD": credentials.password(role)
        for role in (roles.LOADER, roles.TRANSFORMER, roles.QUALITY, roles.QMO, roles.BI)
    }


def airflow_environment(home: Path, extra: dict | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_")) and k != "AIRFLOW_HOME"
    }
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.DAGS_DIR),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "PYTHONPATH": str(settings.ROOT),
        **role_passwords(),
        **(extra or {}),
    })  # fmt: skip
    return env


@pytest.fixture(scope="session")
def airflow_env():
    """`airflow_env(home, extra)` → the environment for an Airflow child process."""
    return airflow_environment
