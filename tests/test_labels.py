"""Labelled associations and label definitions, against the emulator in both path families."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import hubassoc
from hubassoc import (
    APIError,
    AssociationCategory,
    AssociationSpec,
    AssociationType,
    InvalidInputError,
)
from hubassoc._batch import Chunk
from hubassoc._models import BatchError
from hubassoc._writes import unconfirmed_pairs
from hubassoc.testing import FakeHubSpot

from .conftest import TOKEN

HUBSPOT = AssociationCategory.HUBSPOT_DEFINED
USER = AssociationCategory.USER_DEFINED
PRIMARY = AssociationSpec(HUBSPOT, 1)


@pytest.fixture(params=["v4", "2026-03"])
async def api(request: pytest.FixtureRequest, hub: FakeHubSpot) -> AsyncIterator[hubassoc.Client]:
    async with hubassoc.Client(
        TOKEN, base_url=hub.url, rate_limit=None, max_retries=0, api_version=request.param
    ) as client:
        yield client


def _prefix(client: hubassoc.Client) -> str:
    version = client.api_version
    return "/crm/v4/associations" if version == "v4" else f"/crm/associations/{version}"


async def test_label_definitions_lifecycle(hub: FakeHubSpot, api: hubassoc.Client) -> None:
    listed = await api.labels.list("contacts", "companies")
    assert AssociationType(HUBSPOT, 279, None) in listed
    assert AssociationType(HUBSPOT, 1, "Primary") in listed

    forward, inverse = await api.labels.create(
        "contacts", "companies", "Decision maker", inverse_label="Has decision maker"
    )
    assert forward.category == USER
    assert forward.label == "Decision maker"
    assert inverse.label == "Has decision maker"
    assert inverse.type_id != forward.type_id
    assert ("USER_DEFINED", forward.type_id, "Decision maker") in hub.labels(
        "contacts", "companies"
    )
    assert ("USER_DEFINED", inverse.type_id, "Has decision maker") in hub.labels(
        "companies", "contacts"
    )
    assert await api.labels.spec_for("contacts", "companies", "Decision maker") == forward.spec

    await api.labels.update("contacts", "companies", forward, "Buyer", inverse_label="Bought by")
    assert ("USER_DEFINED", forward.type_id, "Buyer") in hub.labels("contacts", "companies")
    assert ("USER_DEFINED", inverse.type_id, "Bought by") in hub.labels("companies", "contacts")

    await api.labels.delete("contacts", "companies", forward.type_id)
    assert all(t[1] != forward.type_id for t in hub.labels("contacts", "companies"))
    assert all(t[1] != inverse.type_id for t in hub.labels("companies", "contacts"))

    methods = [(r.method, r.path) for r in hub.requests]
    labels_path = f"{_prefix(api)}/contacts/companies/labels"
    assert methods == [
        ("GET", labels_path),
        ("POST", labels_path),
        ("GET", labels_path),
        ("PUT", labels_path),
        ("DELETE", f"{labels_path}/{forward.type_id}"),
    ]


async def test_spec_for_an_unknown_label_names_the_known_ones(
    hub: FakeHubSpot, api: hubassoc.Client
) -> None:
    hub.add_label("contacts", "companies", "Billing contact")
    with pytest.raises(InvalidInputError, match="'Billing contact', 'Primary'"):
        await api.labels.spec_for("contacts", "companies", "Buyer")


async def test_hubspot_defined_labels_cannot_be_changed(api: hubassoc.Client) -> None:
    with pytest.raises(APIError) as caught:
        await api.labels.update("contacts", "companies", 1, "Main")
    assert caught.value.status == 400
    with pytest.raises(APIError) as missing:
        await api.labels.delete("contacts", "companies", 99999)
    assert missing.value.status == 404


async def test_batch_create_with_several_labels_per_pair(
    hub: FakeHubSpot, api: hubassoc.Client
) -> None:
    buyer, inverse = hub.add_label(
        "contacts", "companies", "Decision maker", inverse_label="Has decision maker"
    )
    buyer_spec = AssociationSpec(USER, buyer)
    result = await api.associations.create(
        "contacts",
        "companies",
        [("101", "201", [PRIMARY, buyer_spec]), (102, 202, ("USER_DEFINED", buyer))],
    )
    assert result.num_errors == 0
    by_pair = {(r.from_id, r.to_id): r for r in result.results}
    assert sorted(by_pair[("101", "201")].labels) == ["Decision maker", "Primary"]
    assert by_pair[("102", "202")].labels == ["Decision maker"]
    assert by_pair[("101", "201")].from_object_type_id == "0-1"

    # Stored per direction, with the inverse type ids, and the unlabelled type beside them.
    assert hub.association_types("contacts", "companies", "101", "201") == [
        ("HUBSPOT_DEFINED", 279, None),
        ("HUBSPOT_DEFINED", 1, "Primary"),
        ("USER_DEFINED", buyer, "Decision maker"),
    ]
    assert hub.association_types("companies", "contacts", "201", "101") == [
        ("HUBSPOT_DEFINED", 280, None),
        ("HUBSPOT_DEFINED", 2, "Primary"),
        ("USER_DEFINED", inverse, "Has decision maker"),
    ]
    (request,) = hub.requests
    assert request.path == f"{_prefix(api)}/contacts/companies/batch/create"
    assert request.status == 201
    assert request.body["inputs"][0]["types"] == [
        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1},
        {"associationCategory": "USER_DEFINED", "associationTypeId": buyer},
    ]

    read = await api.read("contacts", "companies", ["101"])
    labels = {t.label for t in read.results[0].to[0].association_types}
    assert labels == {None, "Primary", "Decision maker"}


async def test_batch_create_reports_unknown_types_and_missing_objects_per_pair(
    hub: FakeHubSpot, api: hubassoc.Client
) -> None:
    hub.invalid_ids.add("999")
    result = await api.associations.create(
        "contacts",
        "companies",
        [("1", "2", PRIMARY), ("3", "4", AssociationSpec(USER, 4242)), ("5", "999", PRIMARY)],
    )
    assert [(r.from_id, r.to_id) for r in result.results] == [("1", "2")]
    assert result.failed_ids == ["3", "5"]
    assert hub.requests[0].status == 207
    assert hub.associations("contacts", "companies", "3") == []
    assert hub.associations("contacts", "companies", "1") == ["2"]


async def test_archive_labels_keeps_the_association(hub: FakeHubSpot, api: hubassoc.Client) -> None:
    buyer, _ = hub.add_label("contacts", "companies", "Decision maker")
    buyer_spec = AssociationSpec(USER, buyer)
    await api.associations.create(
        "contacts", "companies", [("1", "2", [PRIMARY, buyer_spec]), ("3", "4", PRIMARY)]
    )
    result = await api.associations.archive_labels(
        "contacts",
        "companies",
        [("1", "2", buyer_spec), ("3", "4", AssociationSpec(HUBSPOT, 279))],
    )
    assert result.num_errors == 0
    assert hub.requests[-1].path == f"{_prefix(api)}/contacts/companies/batch/labels/archive"
    assert hub.requests[-1].status == 204
    assert hub.association_types("contacts", "companies", "1", "2") == [
        ("HUBSPOT_DEFINED", 279, None),
        ("HUBSPOT_DEFINED", 1, "Primary"),
    ]
    assert hub.association_types("companies", "contacts", "2", "1") == [
        ("HUBSPOT_DEFINED", 280, None),
        ("HUBSPOT_DEFINED", 2, "Primary"),
    ]
    # Removing the unlabelled type removes the association with all its labels.
    assert hub.associations("contacts", "companies", "3") == []
    assert hub.associations("companies", "contacts", "4") == []


async def test_deleting_a_label_removes_it_from_associations(
    hub: FakeHubSpot, api: hubassoc.Client
) -> None:
    buyer, _inverse = hub.add_label("contacts", "companies", "Decision maker")
    await api.associations.create("contacts", "companies", [("1", "2", ("USER_DEFINED", buyer))])
    await api.labels.delete("contacts", "companies", buyer)
    assert hub.association_types("contacts", "companies", "1", "2") == [
        ("HUBSPOT_DEFINED", 279, None)
    ]
    assert hub.association_types("companies", "contacts", "2", "1") == [
        ("HUBSPOT_DEFINED", 280, None)
    ]


async def test_a_pair_the_answer_leaves_out_is_reported(
    hub: FakeHubSpot, client: hubassoc.Client
) -> None:
    answer = (
        b'{"status":"COMPLETE","results":[{"fromObjectId":1,"toObjectId":2,"labels":[]}],'
        b'"errors":[],"startedAt":"2026-01-01T00:00:00Z","completedAt":"2026-01-01T00:00:01Z"}'
    )
    hub.fail_next(1, 201, body=answer)
    result = await client.associations.create(
        "contacts", "companies", [("1", "2", PRIMARY), ("3", "4", PRIMARY)]
    )
    (error,) = result.errors
    assert error.category == "INVALID_RESPONSE"
    assert error.context == {"ids": ["3"], "toIds": ["4"]}
    assert result.failed_ids == ["3"]


def test_unconfirmed_pairs_counts_errors_that_name_pairs_or_whole_ids() -> None:
    chunk = Chunk(b"", 3, {"ids": ["1", "1", "2"], "toIds": ["a", "b", "c"]})
    pair_error = BatchError(context={"fromObjectId": ["1"], "toObjectId": ["a"]})
    assert unconfirmed_pairs(chunk, [], [pair_error]) is not None
    whole = BatchError(context={"ids": ["1"]})
    missing = unconfirmed_pairs(chunk, [("2", "c")], [whole])
    assert missing is None
    left = unconfirmed_pairs(chunk, [("1", "b")], [pair_error])
    assert left is not None
    assert left.context == {"ids": ["2"], "toIds": ["c"]}


@pytest.mark.parametrize(
    "inputs",
    [
        [("1", "2")],
        [("1", "2", [])],
        [("1", "2", "Primary")],
        [("1", "2", ("USER_DEFINED", "7"))],
        "12",
    ],
)
async def test_bad_create_inputs_are_refused_before_any_request(
    hub: FakeHubSpot, client: hubassoc.Client, inputs: object
) -> None:
    with pytest.raises(InvalidInputError):
        client.associations.create("contacts", "companies", inputs)
    assert hub.requests == []


async def test_repeated_pairs_are_sent_once_with_all_their_types(
    hub: FakeHubSpot, client: hubassoc.Client
) -> None:
    buyer, _ = hub.add_label("contacts", "companies", "Decision maker")
    await client.associations.create(
        "contacts", "companies", [("1", "2", PRIMARY), ("1", "2", ("USER_DEFINED", buyer))]
    )
    (request,) = hub.requests
    assert request.n_inputs == 1
    assert len(request.body["inputs"][0]["types"]) == 2
