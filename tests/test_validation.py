"""Bad input is refused before any request; good input is normalised."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest

from hubassoc import AssociationCategory, AssociationSpec, InvalidInputError
from hubassoc import _validation as validate


def test_ids_accept_ints_strip_and_dedupe() -> None:
    assert validate.ids(["101", 102, " 103 ", "101"]) == ["101", "102", "103"]
    assert validate.ids(iter([1, 2])) == ["1", "2"]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (["1", ""], "ids[1]: blank id"),
        (["  "], "ids[0]: blank id"),
        ([None], "ids[0]: an id must be a str or int"),
        ([True], "ids[0]"),
        ([1.5], "ids[0]"),
        ("101", "must be an iterable"),
        (101, "must be an iterable"),
    ],
)
def test_bad_ids(value: Any, fragment: str) -> None:
    with pytest.raises(InvalidInputError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        validate.ids(value)


def test_invalid_input_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="blank"):
        validate.ids([""])


@pytest.mark.parametrize("value", ["../x", "contacts/1", "", "con tacts", "a?b", None, 5])
def test_bad_object_types(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="object type"):
        validate.object_type(value, "from")


@pytest.mark.parametrize("value", ["contacts", "0-1", "2-12345", "p123_cars", "p_cars"])
def test_good_object_types(value: str) -> None:
    assert validate.object_type(value, "from") == value


def test_pairs_and_mapping() -> None:
    assert validate.pairs([("1", 2), [3, "4"], ("1", "2")]) == [("1", "2"), ("3", "4")]
    assert validate.pairs_or_mapping({"1": ["2", 3], 4: ["5"]}) == [
        ("1", "2"),
        ("1", "3"),
        ("4", "5"),
    ]
    with pytest.raises(InvalidInputError, match="pair"):
        validate.pairs([("1", "2", "3")])
    with pytest.raises(InvalidInputError, match="pair"):
        validate.pairs(["12"])
    with pytest.raises(InvalidInputError, match="iterable"):
        validate.pairs_or_mapping({"1": "2"})


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        (("x", "3"), r"pairs\[1\]\[0\]"),
        (("3", ""), r"pairs\[1\]\[1\]"),
        (("3", "-4"), r"pairs\[1\]\[1\]"),
    ],
)
def test_a_bad_id_among_plain_string_pairs_is_named(bad: tuple[str, str], where: str) -> None:
    # Plain 2-tuples of strings, the shape checked all at once: a bad one is still named.
    with pytest.raises(InvalidInputError, match=where):
        validate.pairs([("1", "2"), bad, ("5", "6")])
    assert validate.pairs([("1", "2"), (" 3", "4 "), ("1", "2")]) == [("1", "2"), ("3", "4")]


def test_specs() -> None:
    spec = AssociationSpec(AssociationCategory.USER_DEFINED, 3)
    assert validate.specs([spec, ("USER_DEFINED", 3), ("HUBSPOT_DEFINED", 1)]) == [
        spec,
        AssociationSpec(AssociationCategory.HUBSPOT_DEFINED, 1),
    ]
    with pytest.raises(InvalidInputError, match=r"specs\[0\]"):
        validate.specs([("USER_DEFINED", "3")])


@pytest.mark.parametrize("size", [10, 60_000])
@pytest.mark.parametrize("order", ["descending", "ascending"])
def test_ids_keep_the_first_of_each_repeat_in_order(size: int, order: str) -> None:
    ids = [str(n) for n in range(10**8 + size, 10**8, -1)]
    if order == "ascending":  # already in order: checked in one pass, no table
        ids.reverse()
    assert validate.ids(ids) == ids
    repeated = [*ids[:5], ids[2], *ids[5:], ids[0], ids[-1]]
    assert validate.ids(repeated) == ids


def test_a_long_id_list_is_checked_for_repeats_without_a_table_of_every_id() -> None:
    # A dict (or set) of 200,000 ids is about 8 MB beside the ids; the check by a sorted
    # copy of their references, 1.6 MB, and the validated copy another 1.6 MB.
    ids = [str(10**9 + (n * 7919) % 200_000) for n in range(200_000)]
    tracemalloc.start()
    try:
        out = validate.ids(ids)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out == ids
    assert peak < 5_000_000, f"validating 200,000 ids peaked at {peak / 1e6:.1f} MB"
