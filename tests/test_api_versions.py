"""``api_version=``: every endpoint is called in the chosen path family, and the emulator serves both."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import hubassoc
from hubassoc import AssociationCategory, AssociationSpec, InvalidInputError
from hubassoc._paths import Paths
from hubassoc.testing import FakeHubSpot

from .conftest import TOKEN

VERSIONS = ["v4", "2026-03"]


@pytest.fixture(params=VERSIONS)
async def versioned(
    request: pytest.FixtureRequest, hub: FakeHubSpot
) -> AsyncIterator[hubassoc.Client]:
    async with hubassoc.Client(
        TOKEN, base_url=hub.url, rate_limit=None, max_retries=0, api_version=request.param
    ) as client:
        yield client


def test_paths_of_each_family() -> None:
    v4, dated = Paths("v4"), Paths("2026-03")
    assert v4.batch("contacts", "companies", "read") == (
        "/crm/v4/associations/contacts/companies/batch/read"
    )
    assert dated.batch("contacts", "companies", "labels/archive") == (
        "/crm/associations/2026-03/contacts/companies/batch/labels/archive"
    )
    assert v4.configurations("contacts", "companies", "purge") == (
        "/crm/associations/v4/definitions/configurations/contacts/companies/batch/purge"
    )
    assert dated.configurations() == "/crm/associations/2026-03/definitions/configurations/all"
    assert (
        v4.labels("contacts", "companies", 36)
        == "/crm/v4/associations/contacts/companies/labels/36"
    )
    assert (
        dated.labels("contacts", "companies")
        == "/crm/associations/2026-03/contacts/companies/labels"
    )
    assert v4.record("contacts", "101", "companies") == (
        "/crm/v4/objects/contacts/101/associations/companies"
    )
    assert dated.record("p_cars", "7", "0-2") == "/crm/objects/2026-03/p_cars/7/associations/0-2"


@pytest.mark.parametrize("bad", ["v3", "2026-3", "2026-13", "", "latest", 4, None])
def test_bad_api_version_is_refused_before_any_request(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="api_version"):
        hubassoc.Client(TOKEN, api_version=bad)  # type: ignore[arg-type]


async def test_read_write_and_purge_in_each_family(
    hub: FakeHubSpot, versioned: hubassoc.Client
) -> None:
    version = versioned.api_version
    prefix = "/crm/v4/associations" if version == "v4" else f"/crm/associations/{version}"
    hub.seed("contacts", "companies", {"1": [str(100 + i) for i in range(150)]})
    hub.add_configuration("contacts", "companies", "USER_DEFINED", 3, 5)

    read = await versioned.associations.read("contacts", "companies", ["1"])
    assert read.results[0].to_ids == [str(100 + i) for i in range(150)]
    created = await versioned.associate_default("contacts", "companies", [("2", "9")])
    assert created.num_errors == 0
    assert hub.associations("companies", "contacts", "9") == ["2"]
    await versioned.archive("contacts", "companies", [("1", "100")])
    assert "100" not in hub.associations("contacts", "companies", "1")
    spec = AssociationSpec(AssociationCategory.USER_DEFINED, 3)
    await versioned.limits.purge("contacts", "companies", [spec])
    assert hub.configurations("contacts", "companies") == []

    paths = [r.path for r in hub.requests]
    assert paths[:2] == [f"{prefix}/contacts/companies/batch/read"] * 2  # two pages
    assert paths[2:4] == [
        f"{prefix}/contacts/companies/batch/associate/default",
        f"{prefix}/contacts/companies/batch/archive",
    ]
    config_prefix = "/crm/associations/v4" if version == "v4" else f"/crm/associations/{version}"
    assert paths[4] == f"{config_prefix}/definitions/configurations/contacts/companies/batch/purge"
    assert {r.status for r in hub.requests} <= {200, 204}


async def test_emulator_serves_the_python_sdk_spelling_of_configuration_paths(
    hub: FakeHubSpot, client: hubassoc.Client
) -> None:
    hub.add_configuration("contacts", "companies", "USER_DEFINED", 3, 5)
    session = client._transport.open()
    async with session.post(
        hub.url + "/crm/v4/associations/definitions/configurations/contacts/companies/batch/purge",
        json={"inputs": [{"category": "USER_DEFINED", "typeId": 3}]},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as response:
        assert response.status == 204
    assert hub.configurations("contacts", "companies") == []


def test_resources_are_the_client_methods() -> None:
    client = hubassoc.Client(TOKEN)
    assert client.api_version == "v4"
    assert repr(client.associations) == "<hubassoc Associations resource>"
    assert client.read("contacts", "companies", ["1"]).__class__ is hubassoc.BatchOperation
