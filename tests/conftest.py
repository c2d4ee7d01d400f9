"""Shared fixtures: a real emulator on a loopback socket, a client pointed at it, and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
import redis.asyncio as aioredis

import hubassoc
from hubassoc.testing import FakeHubSpot

from ._servers import RedisServer

#: A distinctive token: tests assert it never shows up where it must not.
TOKEN = "pat-na1-SECRET-7f3a9c-do-not-log"


@pytest.fixture
async def hub() -> AsyncIterator[FakeHubSpot]:
    async with FakeHubSpot(token=TOKEN) as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
async def client(hub: FakeHubSpot) -> AsyncIterator[hubassoc.Client]:
    async with hubassoc.Client(
        TOKEN, base_url=hub.url, rate_limit=None, max_retries=2, timeout=10
    ) as c:
        yield c


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """A throwaway redis-server for the tests of one module (skips without the binary)."""
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    """A redis-py asyncio client of :func:`redis_server`, closed after the test."""
    client = aioredis.Redis(port=redis_server.port)
    yield client
    await client.aclose()
