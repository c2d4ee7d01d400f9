"""pytest plugin: a running HubSpot emulator and a client bound to it, as fixtures.

Installed with hubassoc and loaded through the ``pytest11`` entry point, so any project
that has hubassoc installed gets two fixtures:

``fake_hubspot``
    A started :class:`hubassoc.testing.FakeHubSpot` on a free loopback port (any bearer
    token accepted), closed after the test.
``hubassoc_client``
    A :class:`hubassoc.Client` pointed at ``fake_hubspot`` with ``rate_limit=None``,
    closed after the test.

Both are async fixtures and need `pytest-asyncio <https://pypi.org/project/pytest-asyncio/>`_;
in its default strict mode, mark the tests ``@pytest.mark.asyncio``. Example::

    async def test_counts_companies(fake_hubspot, hubassoc_client):
        fake_hubspot.seed("contacts", "companies", {"1": ["10", "11"]})
        fake_hubspot.fail_next(2, 429, headers={"Retry-After": "0"})
        assert await count_companies(hubassoc_client, ["1"]) == 2

To configure them differently, define a fixture of the same name in your conftest.py.
Disable the plugin with ``-p no:hubassoc``.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from hubassoc import Client
    from hubassoc.testing import FakeHubSpot

__all__ = ["fake_hubspot", "hubassoc_client"]

#: The token ``hubassoc_client`` sends; ``fake_hubspot`` accepts any.
TEST_TOKEN = "hubassoc-test-token"


def _pytest_asyncio_fixture() -> Callable[[Callable[..., Any]], Any] | None:
    try:
        module = importlib.import_module("pytest_asyncio")
    except ImportError:
        return None
    decorator: Callable[[Callable[..., Any]], Any] = module.fixture
    return decorator


def _async_fixture(function: Callable[..., Any]) -> Any:
    """An async fixture under pytest-asyncio, or one that says how to get it."""
    decorator = _pytest_asyncio_fixture()
    if decorator is not None:
        return decorator(function)

    def missing() -> None:
        pytest.fail(
            f"the {function.__name__} fixture of hubassoc needs pytest-asyncio: "
            "pip install pytest-asyncio",
            pytrace=False,
        )

    return pytest.fixture(name=function.__name__)(missing)


@_async_fixture
async def fake_hubspot() -> AsyncIterator[FakeHubSpot]:
    """A started HubSpot emulator on a free port; see :mod:`hubassoc.testing`."""
    # Imported here so that loading the plugin costs nothing for tests that never use it.
    from hubassoc.testing import FakeHubSpot

    async with FakeHubSpot() as hub:
        yield hub


@_async_fixture
async def hubassoc_client(fake_hubspot: FakeHubSpot) -> AsyncIterator[Client]:
    """A :class:`hubassoc.Client` bound to ``fake_hubspot``, without client-side rate limit."""
    from hubassoc import Client

    async with Client(TEST_TOKEN, base_url=fake_hubspot.url, rate_limit=None) as client:
        yield client
