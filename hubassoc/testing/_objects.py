"""Object type names and the association type ids HubSpot defines between them."""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from typing import Final

_HUBSPOT_DEFINED: Final = "HUBSPOT_DEFINED"
_OBJECT_TYPE_RE: Final = re.compile(r"[A-Za-z0-9_-]+")

_TYPE_ALIASES: Final[Mapping[str, str]] = {
    "contact": "contacts",
    "contacts": "contacts",
    "0-1": "contacts",
    "company": "companies",
    "companies": "companies",
    "0-2": "companies",
    "deal": "deals",
    "deals": "deals",
    "0-3": "deals",
    "ticket": "tickets",
    "tickets": "tickets",
    "0-5": "tickets",
}
_SINGULAR: Final[Mapping[str, str]] = {
    "contacts": "contact",
    "companies": "company",
    "deals": "deal",
    "tickets": "ticket",
}
_DEFAULT_TYPE_IDS: Final[Mapping[tuple[str, str], int]] = {
    ("contacts", "companies"): 279,
    ("companies", "contacts"): 280,
    ("deals", "contacts"): 3,
    ("contacts", "deals"): 4,
    ("deals", "companies"): 341,
    ("companies", "deals"): 342,
    ("contacts", "tickets"): 15,
    ("tickets", "contacts"): 16,
}
# HubSpot-defined types whose reverse direction has a different id (primary company).
_KNOWN_REVERSE_IDS: Final[Mapping[tuple[str, str, int], int]] = {
    ("contacts", "companies", 1): 2,
    ("companies", "contacts", 2): 1,
    ("deals", "companies", 5): 6,
    ("companies", "deals", 6): 5,
}


def _normalise_type(object_type: str) -> str:
    lowered = object_type.lower()
    return _TYPE_ALIASES.get(lowered, lowered)


def _singular(object_type: str) -> str:
    return _SINGULAR.get(object_type, object_type)


def _derived_type_id(from_type: str, to_type: str) -> int:
    # crc32 rather than hash(): the id must not change between processes.
    return 100_000 + zlib.crc32(f"{from_type}->{to_type}".encode()) % 900_000


def _default_type_id(from_type: str, to_type: str) -> int:
    known = _DEFAULT_TYPE_IDS.get((from_type, to_type))
    return known if known is not None else _derived_type_id(from_type, to_type)


def _reverse_type_id(from_type: str, to_type: str, type_id: int) -> int:
    if type_id == _default_type_id(from_type, to_type):
        return _default_type_id(to_type, from_type)
    return _KNOWN_REVERSE_IDS.get((from_type, to_type, type_id), type_id)


def _json_id(object_id: str) -> int | str:
    # HubSpot sends toObjectId as a number; ids that would not survive an int round
    # trip (leading zeros, non-digits, beyond int64) stay strings.
    if (
        object_id.isdigit()
        and object_id.isascii()
        and len(object_id) <= 18
        and (object_id[0] != "0" or object_id == "0")
    ):
        return int(object_id)
    return object_id


_OBJECT_TYPE_IDS: Final[Mapping[str, str]] = {
    "contacts": "0-1",
    "companies": "0-2",
    "deals": "0-3",
    "tickets": "0-5",
}


def _object_type_id(object_type: str) -> str:
    """HubSpot's id of an object type (``0-1`` for contacts); other types as they are."""
    return _OBJECT_TYPE_IDS.get(object_type, object_type)
