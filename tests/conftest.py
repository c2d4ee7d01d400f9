"""Shared fixtures: a real emulator on a loopback socket, and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import hubassoc
from hubassoc.testing import FakeHubSpot

#: A distinctive token: tests assert it never shows up where it must not.
TOKEN = "pat-na1-SECRET-7f3a9c-do-not-log"


@pytest.fixture
async def hub() -> AsyncIterator[FakeHubSpot]:
    async with FakeHubSpot(token=TOKEN) as server:
        yield server


@pytest.fixture
async def client(hub: FakeHubSpot) -> AsyncIterator[hubassoc.Client]:
    async with hubassoc.Client(
        TOKEN, base_url=hub.url, rate_limit=None, max_retries=2, timeout=10
    ) as c:
        yield c
