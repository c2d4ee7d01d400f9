"""One record's associations: GET pages followed through ``after``, in both path families."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import hubassoc
from hubassoc import InvalidInputError
from hubassoc._batch import REPEATED_CURSOR
from hubassoc.testing import FakeHubSpot

from .conftest import TOKEN


@pytest.fixture(params=["v4", "2026-03"])
async def api(request: pytest.FixtureRequest, hub: FakeHubSpot) -> AsyncIterator[hubassoc.Client]:
    async with hubassoc.Client(
        TOKEN, base_url=hub.url, rate_limit=None, max_retries=0, api_version=request.param
    ) as client:
        yield client


async def test_pages_are_followed_until_paging_is_gone(
    hub: FakeHubSpot, api: hubassoc.Client
) -> None:
    to_ids = [str(5000 + i) for i in range(12)]
    hub.seed("contacts", "companies", {"101": to_ids, "102": ["9"]})
    seen = [
        obj.to_object_id
        async for obj in api.associations.list("contacts", 101, "companies", limit=5)
    ]
    assert seen == to_ids
    prefix = "/crm/v4/objects" if api.api_version == "v4" else f"/crm/objects/{api.api_version}"
    gets = [r for r in hub.requests if r.method == "GET"]
    assert [r.path for r in gets] == [f"{prefix}/contacts/101/associations/companies"] * 3
    assert all(r.status == 200 for r in gets)


async def test_awaiting_gives_every_object_with_its_types(
    hub: FakeHubSpot, api: hubassoc.Client
) -> None:
    hub.associate("contacts", "companies", "7", "8")
    hub.associate("contacts", "companies", "7", "8", type_id=1, label="Primary")
    result = await api.associations.list("contacts", "7", "companies")
    (obj,) = result.results
    assert obj.to_object_id == "8"
    assert {(t.type_id, t.label) for t in obj.association_types} == {(279, None), (1, "Primary")}
    assert result.num_errors == 0


async def test_a_repeated_cursor_ends_the_read_with_an_error(
    hub: FakeHubSpot, api: hubassoc.Client
) -> None:
    hub.seed("contacts", "companies", {"1": [str(i) for i in range(10, 20)]})
    hub.repeat_cursor_for(["1"])
    result = await api.associations.list("contacts", "1", "companies", limit=4)
    (error,) = result.errors
    assert error.sub_category == REPEATED_CURSOR
    assert error.ids == ["1"]
    assert len(hub.requests) == 2  # the first page, then the repeated cursor's page
    assert len(result.results) == 8


async def test_a_missing_record_is_an_error_naming_it(
    hub: FakeHubSpot, api: hubassoc.Client
) -> None:
    hub.invalid_ids.add("404")
    result = await api.associations.list("contacts", "404", "companies")
    assert result.failed_ids == ["404"]
    assert result.errors[0].context["httpStatus"] == ["404"]


async def test_a_record_without_associations_is_empty(api: hubassoc.Client) -> None:
    result = await api.associations.list("contacts", "55", "companies")
    assert result.results == []
    assert result.errors == []


@pytest.mark.parametrize("limit", [0, 501, True])
async def test_bad_limits_are_refused_before_any_request(
    hub: FakeHubSpot, client: hubassoc.Client, limit: object
) -> None:
    with pytest.raises(InvalidInputError, match="limit"):
        client.associations.list("contacts", "1", "companies", limit=limit)  # type: ignore[arg-type]
    assert hub.requests == []
