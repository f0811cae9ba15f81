"""Fixtures: small sandboxes served over real HTTP on a free loopback port."""

from __future__ import annotations

import threading

import pytest

from sandbox import Sandbox
from sandbox.client import Client
from sandbox.server import make_server

SCALE = 300


class Running:
    """A sandbox, its server and a reference client."""

    def __init__(self, sandbox: Sandbox):
        self.sb = sandbox
        self.server = make_server(sandbox, "127.0.0.1", 0)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def client(self) -> Client:
        return Client(
            self.base,
            self.sb.catalog(),
            self.sb.credentials,
            self.sb.start.isoformat(),
            self.sb.now,
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def shared():
    """One read-only sandbox for the tests that neither move the clock nor set faults."""
    running = Running(Sandbox(seed=2026, scale=SCALE))
    yield running
    running.close()


@pytest.fixture
def fresh():
    """A sandbox of its own, for tests that advance the clock or switch faults on."""
    made = []

    def make(**kwargs) -> Running:
        kwargs.setdefault("scale", 200)
        running = Running(Sandbox(**kwargs))
        made.append(running)
        return running

    yield make
    for running in made:
        running.close()
