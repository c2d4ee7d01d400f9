"""The pytest plugin, as a user's test suite sees it (run through ``pytester``)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

#: User code under test, and a user's tests of it against 429s and a partial failure.
USER_TESTS = '''
import pytest

import hubassoc


async def company_counts(client: hubassoc.Client, contact_ids: list[str]) -> dict[str, int | None]:
    """How many companies each contact has; None where HubSpot could not say."""
    result = await client.read("contacts", "companies", contact_ids)
    counts: dict[str, int | None] = {item.from_id: len(item.to) for item in result.results}
    counts.update(dict.fromkeys(result.ids_without_associations, 0))
    counts.update(dict.fromkeys(result.failed_ids, None))
    return counts


MARK
async def test_rides_out_429s(fake_hubspot, hubassoc_client):
    fake_hubspot.seed("contacts", "companies", {"1": ["10", "11"], "2": ["20"]})
    fake_hubspot.fail_next(3, 429, headers={"Retry-After": "0"})
    assert await company_counts(hubassoc_client, ["1", "2", "3"]) == {"1": 2, "2": 1, "3": 0}
    assert fake_hubspot.status_counts[429] == 3


MARK
async def test_reports_a_partial_failure(fake_hubspot, hubassoc_client):
    fake_hubspot.seed("contacts", "companies", {"1": ["10"], "2": ["20"]})
    fake_hubspot.invalid_ids.add("2")
    assert await company_counts(hubassoc_client, ["1", "2"]) == {"1": 1, "2": None}


MARK
async def test_a_rejected_request_fails_only_its_ids(fake_hubspot, hubassoc_client):
    fake_hubspot.seed("contacts", "companies", {"1": ["10"], "2": ["20"]})
    fake_hubspot.fail_next(1, 400)
    assert await company_counts(hubassoc_client, ["1", "2"]) == {"1": None, "2": None}
    assert await company_counts(hubassoc_client, ["1", "2"]) == {"1": 1, "2": 1}
'''

INI = """
[pytest]
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_users_test_their_code_against_the_emulator(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makeini(INI)
    mark = "@pytest.mark.asyncio" if mode == "strict" else ""
    pytester.makepyfile(test_user=USER_TESTS.replace("MARK", mark))
    result = pytester.runpytest("-o", f"asyncio_mode={mode}", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_fixtures_can_be_overridden_and_coexist_with_others(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makeconftest(
        """
import pytest
import pytest_asyncio

import hubassoc


@pytest.fixture
def client():
    return "the project's own client fixture"


@pytest_asyncio.fixture
async def hubassoc_client(fake_hubspot):
    async with hubassoc.Client("t", base_url=fake_hubspot.url, rate_limit=None, max_retries=0) as c:
        yield c
"""
    )
    pytester.makepyfile(
        test_override="""
import pytest


@pytest.mark.asyncio
async def test_override(fake_hubspot, hubassoc_client, client):
    assert client == "the project's own client fixture"
    fake_hubspot.fail_next(1, 503)
    result = await hubassoc_client.read("contacts", "companies", ["1"])
    assert result.failed_ids == ["1"]  # no retries in this project's client
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_plugin_can_be_disabled(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_off="def test_off(fake_hubspot):\n    pass\n")
    result = pytester.runpytest("-p", "no:hubassoc", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'fake_hubspot' not found*"])
