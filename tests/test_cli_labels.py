"""``hubassoc create`` (labelled associations from a file) and ``hubassoc labels``.

The pure parts are tested directly; the commands run as a subprocess against
:class:`FakeHubSpot` served from the test's loop, as in ``test_cli.py``.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import pytest

from hubassoc import AssociationCategory, AssociationSpec, AssociationType
from hubassoc._cli import (
    InputError,
    LabelError,
    format_inputs,
    parse_labelled,
    resolve_labels,
)
from hubassoc.testing import FakeHubSpot
from tests.test_cli import TIMEOUT, TOKEN, _cli, _lines, _start

HUBSPOT = AssociationCategory.HUBSPOT_DEFINED
USER = AssociationCategory.USER_DEFINED
DEFAULT = ("HUBSPOT_DEFINED", 279, None)  # contacts -> companies, unlabelled
PRIMARY = ("HUBSPOT_DEFINED", 1, "Primary")


# ---------------------------------------------------------------------------- input files


def test_labelled_rows_of_one_pair_become_one_input() -> None:
    parsed = parse_labelled(
        [
            "from,to,label",
            "1,2,Decision maker",
            "1,2,",
            '3,4,"Buyer, EMEA"',
            "1,2,USER_DEFINED:7",
            "1,2,Decision maker",
        ]
    )
    assert parsed.items == [
        ("1", "2", ("Decision maker", "", "USER_DEFINED:7")),
        ("3", "4", ("Buyer, EMEA",)),
    ]
    assert parsed.duplicates == 1
    assert parsed.format.header == ("from", "to", "label")


def test_labelled_csv_header_is_optional_and_a_label_alone_is_no_header() -> None:
    # "Label" is a fine label name: a first row naming no id column is data.
    assert parse_labelled(["1,2,Label", "3,4,3"]).items == [
        ("1", "2", ("Label",)),
        ("3", "4", ("3",)),
    ]
    swapped = parse_labelled(["label,toObjectId,fromObjectId", "Buyer,2,1"])
    assert swapped.items == [("1", "2", ("Buyer",))]
    assert swapped.format.columns == ("label", "to", "from")


def test_labelled_jsonl_labels_may_be_missing_null_or_numbers() -> None:
    parsed = parse_labelled(
        [
            '{"from": 1, "to": 2, "label": 1000}',
            '{"from": "1", "to": "2"}',
            '{"from": "1", "to": "2", "label": null}',
            '{"from": "5", "to": {"id": "6"}, "label": "Buyer"}',
        ]
    )
    assert parsed.items == [("1", "2", ("1000", "")), ("5", "6", ("Buyer",))]
    assert parsed.duplicates == 1
    assert parsed.format.format == "jsonl"


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (["1,2,a", "3,4"], 2, "expected 3 comma-separated fields (from,to,label)"),
        (["from,to,label", "1,,a"], 2, "'to' must be a record id"),
        (["from,too,label", "1,2,a"], 1, "the header must name the columns from, to and label"),
        (['{"from": "1", "to": "2", "label": ["a"]}'], 1, "'label' must be a label name"),
        (['{"from": "1", "to": "2", "label": true}'], 1, "'label' must be a label name"),
        (['{"from": "1", "label": "a"}'], 1, "missing 'to'"),
    ],
)
def test_bad_labelled_lines(lines: list[str], line: int, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_labelled(lines, "labelled.csv")
    assert caught.value.line == line
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "lines",
    [
        ["to,from,label", "2,1,Buyer", "2,1,", "4,3,USER_DEFINED:3"],
        ["1,2,Buyer", "1,2,Champion"],
        ['{"from": "1", "to": "2", "label": "Buyer"}', '{"from": "1", "to": "2", "label": ""}'],
    ],
)
def test_failed_labelled_inputs_are_written_back_row_by_row(lines: list[str]) -> None:
    parsed = parse_labelled(lines)
    text = format_inputs(parsed.format, parsed.items, header=True)
    assert len(text.splitlines()) == len(lines)  # one row per label, the header kept
    again = parse_labelled(text.splitlines())
    assert again.items == parsed.items
    assert again.format == parsed.format


# ---------------------------------------------------------------------------- label texts


DEFINITIONS = [
    AssociationType(HUBSPOT, 279, None),
    AssociationType(HUBSPOT, 1, "Primary"),
    AssociationType(USER, 1000, "Decision maker"),
    AssociationType(USER, 1002, "Billing contact"),
]


def test_label_texts_resolve_by_name_id_category_or_to_the_unlabelled_type() -> None:
    specs = resolve_labels(
        ["Decision maker", "1002", "user_defined:5", "", "Primary"],
        DEFINITIONS,
        "contacts",
        "companies",
    )
    assert specs == {
        "Decision maker": AssociationSpec(USER, 1000),
        "1002": AssociationSpec(USER, 1002),
        "user_defined:5": AssociationSpec(USER, 5),  # taken as written
        "": AssociationSpec(HUBSPOT, 279),
        "Primary": AssociationSpec(HUBSPOT, 1),
    }


def test_label_texts_that_name_nothing_are_all_reported() -> None:
    with pytest.raises(LabelError) as caught:
        resolve_labels(["Champion", "Primary", "77", "decision maker"], DEFINITIONS, "c", "d")
    message = str(caught.value)
    assert message.startswith(
        "no association labels 'Champion', 'decision maker' from c to d; the labels are: "
        "'Billing contact', 'Decision maker', 'Primary'"
    )
    assert "no association type 77 from c to d (write CATEGORY:77" in message
    twice = [AssociationType(HUBSPOT, 3, "A"), AssociationType(USER, 3, "B")]
    with pytest.raises(LabelError, match="defined as HUBSPOT_DEFINED, USER_DEFINED"):
        resolve_labels(["3"], twice, "c", "d")
    with pytest.raises(LabelError, match="no unlabelled association type"):
        resolve_labels([""], DEFINITIONS[1:], "c", "d")


# ---------------------------------------------------------------------------- create


def _create_args(hub: FakeHubSpot, *extra: str) -> list[str]:
    return [
        "create",
        "contacts",
        "companies",
        *("--base-url", hub.url, "--rate-limit", "none"),
        *extra,
    ]


def _creates(hub: FakeHubSpot) -> list[dict[str, Any]]:
    """The inputs of every batch-create request that was applied, request by request."""
    return [
        r.body for r in hub.requests if r.path.endswith("/batch/create") and r.status in (201, 207)
    ]


def _types_of(body: dict[str, Any]) -> dict[tuple[str, str], list[tuple[str, int]]]:
    return {
        (i["from"]["id"], i["to"]["id"]): [
            (t["associationCategory"], t["associationTypeId"]) for t in i["types"]
        ]
        for i in body["inputs"]
    }


async def test_create_by_name_type_id_category_several_labels_and_unlabelled(
    tmp_path: Path,
) -> None:
    (tmp_path / "pairs.csv").write_text(
        "from,to,label\n"
        "101,201,Decision maker\n"
        "101,201,Billing contact\n"
        "102,202,1000\n"
        "103,203,USER_DEFINED:1002\n"
        "104,204,\n"
        "105,205,HUBSPOT_DEFINED:1\n"
        "101,201,Decision maker\n"
    )
    async with FakeHubSpot(token=TOKEN) as hub:
        decision, decision_inverse = hub.add_label(
            "contacts", "companies", "Decision maker", inverse_label="Has decision maker"
        )
        billing, _ = hub.add_label("contacts", "companies", "Billing contact")
        assert (decision, billing) == (1000, 1002)
        done = await _cli(_create_args(hub, "--pairs", "pairs.csv", "--out", "out.jsonl"), tmp_path)
        assert done.returncode == 0, done.stderr

        # One lookup of the definitions, then one create with each pair's types together.
        assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in hub.requests] == [
            ("GET", "labels"),
            ("POST", "create"),
        ]
        [body] = _creates(hub)
        assert _types_of(body) == {
            ("101", "201"): [("USER_DEFINED", 1000), ("USER_DEFINED", 1002)],
            ("102", "202"): [("USER_DEFINED", 1000)],
            ("103", "203"): [("USER_DEFINED", 1002)],
            ("104", "204"): [("HUBSPOT_DEFINED", 279)],
            ("105", "205"): [("HUBSPOT_DEFINED", 1)],
        }

        def stored(from_id: str, to_id: str) -> set[tuple[str, int, str | None]]:
            return set(hub.association_types("contacts", "companies", from_id, to_id))

        buyer = ("USER_DEFINED", 1000, "Decision maker")
        billed = ("USER_DEFINED", 1002, "Billing contact")
        assert stored("101", "201") == {DEFAULT, buyer, billed}
        assert stored("102", "202") == {DEFAULT, buyer}
        assert stored("103", "203") == {DEFAULT, billed}
        assert stored("104", "204") == {DEFAULT}
        assert stored("105", "205") == {DEFAULT, PRIMARY}
        inverse = hub.association_types("companies", "contacts", "201", "101")
        assert ("USER_DEFINED", decision_inverse, "Has decision maker") in inverse

    lines = _lines(tmp_path / "out.jsonl")
    assert [(line["fromObjectId"], line["toObjectId"]) for line in lines] == [
        ("101", "201"),
        ("102", "202"),
        ("103", "203"),
        ("104", "204"),
        ("105", "205"),
    ]
    assert lines[0] == {
        "fromObjectTypeId": "0-1",
        "fromObjectId": "101",
        "toObjectTypeId": "0-2",
        "toObjectId": "201",
        "labels": ["Decision maker", "Billing contact"],
    }
    assert lines[3]["labels"] == []
    assert "1 duplicate input(s) skipped" in done.stderr
    assert "create done: 5 pairs, 5 lines written, 0 failed; 2 requests, 0 retries" in done.stderr


async def test_an_unknown_label_name_exits_2_before_any_write(tmp_path: Path) -> None:
    (tmp_path / "pairs.csv").write_text("1,2,Decision maker\n3,4,Champion\n")
    (tmp_path / "out.jsonl").write_text("an earlier run\n")
    async with FakeHubSpot(token=TOKEN) as hub:
        hub.add_label("contacts", "companies", "Decision maker")
        args = _create_args(hub, "--pairs", "pairs.csv", "--out", "out.jsonl")
        done = await _cli([*args, "--checkpoint", "job.ckpt", "--failed", "failed.csv"], tmp_path)
        # The definitions were asked for; nothing was written to HubSpot.
        assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in hub.requests] == [("GET", "labels")]
        assert hub.graph("contacts", "companies") == {}
    assert done.returncode == 2, done.stderr
    assert (
        "hubassoc: error: no association label 'Champion' from contacts to companies; "
        "the labels are: 'Decision maker', 'Primary'"
    ) in done.stderr
    assert "Traceback" not in done.stderr
    assert (tmp_path / "out.jsonl").read_text() == "an earlier run\n"
    assert not (tmp_path / "job.ckpt").exists()
    assert not (tmp_path / "failed.csv").exists()


async def test_failed_pairs_go_to_failed_as_their_rows_and_rerun(tmp_path: Path) -> None:
    rows = [
        {"from": "1", "to": "10", "label": "USER_DEFINED:1000"},
        {"from": "1", "to": "10", "label": "HUBSPOT_DEFINED:1"},
        {"from": "2", "to": "999", "label": "USER_DEFINED:1000"},  # 999 does not exist
        {"from": "2", "to": "999", "label": "HUBSPOT_DEFINED:279"},
        {"from": "3", "to": "30", "label": "USER_DEFINED:4242"},  # no such type
        {"from": "4", "to": "40", "label": "USER_DEFINED:1000"},
    ]
    (tmp_path / "pairs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    async with FakeHubSpot(token=TOKEN) as hub:
        hub.add_label("contacts", "companies", "Decision maker")
        hub.invalid_ids.add("999")
        common = ["--chunk-size", "2", "--concurrency", "1"]
        first = await _cli(
            _create_args(
                hub, "--pairs", "pairs.jsonl", "--failed", "failed.jsonl", "--out", "1", *common
            ),
            tmp_path,
        )
        assert first.returncode == 1, first.stderr
        assert "create done: 4 pairs, 2 lines written, 2 failed (written to failed.jsonl)" in (
            first.stderr
        )
        # Every row of a failed pair, in the input's format, ready to run again.
        failed = [json.loads(line) for line in (tmp_path / "failed.jsonl").read_text().splitlines()]
        assert failed == rows[2:5]
        assert [(line["fromObjectId"], line["toObjectId"]) for line in _lines(tmp_path / "1")] == [
            ("1", "10"),
            ("4", "40"),
        ]
        assert set(hub.association_types("contacts", "companies", "1", "10")) == {
            DEFAULT,
            PRIMARY,
            ("USER_DEFINED", 1000, "Decision maker"),
        }
        assert hub.associations("contacts", "companies", "2") == []
        assert hub.associations("contacts", "companies", "3") == []
        # CATEGORY:typeId is sent as written: no definitions were looked up.
        assert all(r.method == "POST" for r in hub.requests)

        hub.invalid_ids.clear()
        second = await _cli(
            _create_args(hub, "--pairs", "failed.jsonl", "--failed", "again.jsonl", *common),
            tmp_path,
        )
        assert second.returncode == 1, second.stderr
        assert [
            json.loads(line) for line in (tmp_path / "again.jsonl").read_text().splitlines()
        ] == [rows[4]]
        assert set(hub.association_types("contacts", "companies", "2", "999")) == {
            DEFAULT,
            ("USER_DEFINED", 1000, "Decision maker"),
        }


async def test_sigterm_then_resume_redoes_no_finished_block(tmp_path: Path) -> None:
    pairs = [(str(100 + i), str(200 + i)) for i in range(6)]
    labels = ["Decision maker", "", "1000", "Decision maker", "USER_DEFINED:1000", "Primary"]
    text = "".join(f"{f},{t},{label}\n" for (f, t), label in zip(pairs, labels, strict=True))
    (tmp_path / "pairs.csv").write_text(text)
    async with FakeHubSpot(token=TOKEN) as hub:
        hub.add_label("contacts", "companies", "Decision maker")
        args = _create_args(
            hub,
            *("--pairs", "pairs.csv", "--chunk-size", "2", "--concurrency", "1"),
            *("--out", "out.jsonl", "--failed", "failed.csv", "--checkpoint", "job.ckpt"),
        )
        process = await _start(args, tmp_path)
        await hub.wait_for_requests(2)  # the label lookup and block 0
        # Block 1's request gets a 503 whose Retry-After keeps it unfinished.
        hub.fail_next(1, 503, headers={"Retry-After": "60"}, path_contains="/batch/create")
        await hub.wait_for_requests(3)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT)
        assert process.returncode == 128 + signal.SIGTERM, stderr
        assert "stopped by SIGTERM: 1 of 3 blocks done; run the same command again" in (
            stderr.decode()
        )
        assert [list(_types_of(body)) for body in _creates(hub)] == [[pairs[0], pairs[1]]]
        assert [
            (line["fromObjectId"], line["toObjectId"]) for line in _lines(tmp_path / "out.jsonl")
        ] == pairs[:2]

        # As if the process had also died in the middle of writing block 1.
        with (tmp_path / "out.jsonl").open("ab") as out:
            out.write(b'{"fromObjectTypeId": "0-1", "fromObj')

        resumed = await _cli(args, tmp_path)
        assert resumed.returncode == 0, resumed.stderr
        # Blocks 1 and 2 were sent once each, block 0 not again.
        assert [list(_types_of(body)) for body in _creates(hub)] == [
            pairs[0:2],
            pairs[2:4],
            pairs[4:6],
        ]
        written = [
            (line["fromObjectId"], line["toObjectId"]) for line in _lines(tmp_path / "out.jsonl")
        ]
        assert written == pairs  # each pair once
        assert not (tmp_path / "job.ckpt").exists()
        assert (tmp_path / "failed.csv").read_text() == ""
        buyer = ("USER_DEFINED", 1000, "Decision maker")
        expected = [{DEFAULT, buyer}, {DEFAULT}, {DEFAULT, buyer}, {DEFAULT, buyer}]
        expected += [{DEFAULT, buyer}, {DEFAULT, PRIMARY}]
        for (f, t), types in zip(pairs, expected, strict=True):
            assert set(hub.association_types("contacts", "companies", f, t)) == types, f
        assert "create done: 6 pairs, 6 lines written, 0 failed" in resumed.stderr


# ---------------------------------------------------------------------------- labels


async def test_labels_lists_a_pairs_definitions(tmp_path: Path) -> None:
    async with FakeHubSpot(token=TOKEN) as hub:
        buyer, _ = hub.add_label("contacts", "companies", "Decision maker")
        base = ["labels", "contacts", "companies", "--base-url", hub.url]
        to_file = await _cli([*base, "--out", "labels.jsonl"], tmp_path)
        to_stdout = await _cli(base, tmp_path)
        assert hub.requests[0].method == "GET"
        assert hub.requests[0].path.endswith("/crm/v4/associations/contacts/companies/labels")
    assert to_file.returncode == 0, to_file.stderr
    expected = [
        {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
        {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
        {"category": "USER_DEFINED", "typeId": buyer, "label": "Decision maker"},
    ]
    assert _lines(tmp_path / "labels.jsonl") == expected
    assert "labels done: 3 labels written" in to_file.stderr
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert [json.loads(line) for line in to_stdout.stdout.splitlines()] == expected


async def test_labels_refused_by_hubspot_exits_1_and_keeps_the_old_file(tmp_path: Path) -> None:
    (tmp_path / "labels.jsonl").write_text("an earlier run\n")
    async with FakeHubSpot(token="another-token") as hub:
        done = await _cli(
            ["labels", "contacts", "companies", "--base-url", hub.url, "--out", "labels.jsonl"],
            tmp_path,
        )
    assert done.returncode == 1
    assert "hubassoc: error: HubSpot stopped the job: " in done.stderr
    assert "INVALID_AUTHENTICATION" in done.stderr
    assert TOKEN not in done.stderr + done.stdout
    assert (tmp_path / "labels.jsonl").read_text() == "an earlier run\n"
