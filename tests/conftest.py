"""Shared fixtures: a real PostgreSQL for the whole test session.

By default an embedded server is started under a temporary folder on a free loopback port, so
tests never touch the developer's `.xiaoben/` data. Set XIAOBEN_TEST_DATABASE_URL to run the
suite against another server (a throw-away database on it is used).
"""

from __future__ import annotations

import os
import socket

import pytest

from include.warehouse import connection


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(name="free_port")
def free_port_fixture():
    """A function returning an unused loopback TCP port."""
    return free_port


@pytest.fixture(scope="session")
def warehouse_url(tmp_path_factory) -> str:
    """URL of a bootstrapped warehouse database that lives for the test session."""
    from include.warehouse.bootstrap import bootstrap

    home = tmp_path_factory.mktemp("xiaoben_home")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XIAOBEN_HOME", str(home))
        server = None
        if url := os.environ.get("XIAOBEN_TEST_DATABASE_URL"):
            env.setenv("XIAOBEN_DATABASE_URL", connection.with_db(url, "xiaoben_test"))
            env.setenv("XIAOBEN_WAREHOUSE_DB", "xiaoben_test")
            env.setenv("XIAOBEN_AIRFLOW_DB", "xiaoben_test_airflow")
        else:
            env.setenv("XIAOBEN_PG_PORT", str(free_port()))
            server = connection.embedded()
        try:
            yield bootstrap()["warehouse"]
        finally:
            if server is not None:
                server.stop()
