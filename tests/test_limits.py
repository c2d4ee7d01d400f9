"""Association limit configurations, and their enforcement on writes, in both path families."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import hubassoc
from hubassoc import AssociationCategory, AssociationSpec, InvalidInputError, LimitConfiguration
from hubassoc.testing import FakeHubSpot

from .conftest import TOKEN

HUBSPOT = AssociationCategory.HUBSPOT_DEFINED
PRIMARY = AssociationSpec(HUBSPOT, 1)
UNLABELLED = AssociationSpec(HUBSPOT, 279)


@pytest.fixture(params=["v4", "2026-03"])
async def api(request: pytest.FixtureRequest, hub: FakeHubSpot) -> AsyncIterator[hubassoc.Client]:
    async with hubassoc.Client(
        TOKEN, base_url=hub.url, rate_limit=None, max_retries=0, api_version=request.param
    ) as client:
        yield client


def _root(client: hubassoc.Client) -> str:
    version = client.api_version
    middle = "v4" if version == "v4" else version
    return f"/crm/associations/{middle}/definitions/configurations"


async def test_create_read_update_and_purge_limits(hub: FakeHubSpot, api: hubassoc.Client) -> None:
    created = await api.limits.create("contacts", "companies", {PRIMARY: 1, UNLABELLED: 50})
    assert created.num_errors == 0
    assert hub.limit("contacts", "companies", "HUBSPOT_DEFINED", 1) == 1
    assert hub.limit("contacts", "companies", "HUBSPOT_DEFINED", 279) == 50
    assert LimitConfiguration(HUBSPOT, 1, 1, "Primary") in created.results

    read = await api.limits.read("contacts", "companies")
    assert {(c.type_id, c.max_to_object_ids) for c in read} == {(1, 1), (279, 50)}
    everything = await api.limits.read_all()
    assert {c.spec for c in everything} == {PRIMARY, UNLABELLED}

    updated = await api.limits.update("contacts", "companies", [(UNLABELLED, 20)])
    assert [c.max_to_object_ids for c in updated.results] == [20]
    assert hub.limit("contacts", "companies", "HUBSPOT_DEFINED", 279) == 20

    await api.limits.purge("contacts", "companies", [UNLABELLED])
    assert hub.configurations("contacts", "companies") == [("HUBSPOT_DEFINED", 1)]

    root = _root(api)
    assert [(r.method, r.path, r.status) for r in hub.requests] == [
        ("POST", f"{root}/contacts/companies/batch/create", 201),
        ("GET", f"{root}/contacts/companies", 200),
        ("GET", f"{root}/all", 200),
        ("POST", f"{root}/contacts/companies/batch/update", 200),
        ("POST", f"{root}/contacts/companies/batch/purge", 204),
    ]


async def test_refused_limit_writes_name_their_spec(hub: FakeHubSpot, api: hubassoc.Client) -> None:
    hub.add_configuration("contacts", "companies", "HUBSPOT_DEFINED", 1, 3)
    created = await api.limits.create(
        "contacts", "companies", {PRIMARY: 1, AssociationSpec(HUBSPOT, 279): 5}
    )
    assert created.failed_ids == ["HUBSPOT_DEFINED:1"]
    assert hub.limit("contacts", "companies", "HUBSPOT_DEFINED", 1) == 3
    assert hub.limit("contacts", "companies", "HUBSPOT_DEFINED", 279) == 5
    updated = await api.limits.update("deals", "companies", {AssociationSpec(HUBSPOT, 5): 2})
    assert updated.failed_ids == ["HUBSPOT_DEFINED:5"]
    assert hub.requests[-1].status == 207


async def test_a_write_that_breaks_a_limit_is_a_per_input_error(
    hub: FakeHubSpot, api: hubassoc.Client
) -> None:
    await api.limits.create("contacts", "companies", {PRIMARY: 1})
    result = await api.associations.create(
        "contacts", "companies", [("1", "10", PRIMARY), ("1", "11", PRIMARY), ("2", "11", PRIMARY)]
    )
    assert [(r.from_id, r.to_id) for r in result.results] == [("1", "10"), ("2", "11")]
    assert result.failed_ids == ["1"]
    (error,) = result.failures
    assert error.context["toObjectId"] == ["11"]
    assert "limit of 1" in error.message
    assert hub.associations("contacts", "companies", "1") == ["10"]


async def test_default_associations_respect_limits_in_both_directions(
    hub: FakeHubSpot, api: hubassoc.Client
) -> None:
    # At most one contact per company: the limit is on companies -> contacts (type 280).
    hub.add_configuration("companies", "contacts", "HUBSPOT_DEFINED", 280, 1)
    result = await api.associate_default(
        "contacts", "companies", [("1", "100"), ("2", "100"), ("2", "200")]
    )
    assert result.failed_ids == ["2"]
    assert hub.associations("companies", "contacts", "100") == ["1"]
    assert hub.associations("contacts", "companies", "2") == ["200"]


@pytest.mark.parametrize("limits", [{PRIMARY: 0}, [(PRIMARY,)], {"x": 1}, [(PRIMARY, True)]])
async def test_bad_limits_are_refused_before_any_request(
    hub: FakeHubSpot, client: hubassoc.Client, limits: object
) -> None:
    with pytest.raises(InvalidInputError):
        client.limits.create("contacts", "companies", limits)
    assert hub.requests == []
