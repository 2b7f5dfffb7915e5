"""Fixtures shared by unit tests: loopback model servers (one per test, or one per module
cleared per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.loopback import LoopbackServer


@pytest.fixture(scope="module")
def shared_server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def srv(shared_server: LoopbackServer) -> LoopbackServer:
    """The module's loopback server with an empty request log."""
    shared_server.clear()
    return shared_server


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A fresh loopback model server for one test."""
    with LoopbackServer() as server:
        yield server
