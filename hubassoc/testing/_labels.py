"""Association label definitions per directed object pair, as one portal holds them.

Every pair has HubSpot's own types: the unlabelled default and, for contacts,
companies and deals, "Primary". Custom labels are ``USER_DEFINED`` and get ids
from a counter of this portal (an emulator instance), one id per direction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs

from hubassoc.testing._objects import _HUBSPOT_DEFINED, _default_type_id

_USER_DEFINED: Final = "USER_DEFINED"
#: First id a custom label gets; HubSpot's own ids are far below, derived ones far above.
_FIRST_LABEL_ID: Final = 1000

# HubSpot-defined labelled types besides the unlabelled default, per direction.
_PRIMARY: Final[Mapping[tuple[str, str], int]] = {
    ("contacts", "companies"): 1,
    ("companies", "contacts"): 2,
    ("deals", "companies"): 5,
    ("companies", "deals"): 6,
}


@attrs.define(slots=True)
class _Label:
    category: str
    type_id: int
    label: str | None
    name: str | None = None
    #: The type id of the same label seen from the other object type.
    inverse_id: int | None = None


class _Labels:
    """Definitions by (from type, to type) and type id; types already normalised."""

    __slots__ = ("_by_pair", "_next_id")

    def __init__(self) -> None:
        self._by_pair: dict[tuple[str, str], dict[int, _Label]] = {}
        self._next_id = _FIRST_LABEL_ID

    def clear(self) -> None:
        self._by_pair.clear()
        self._next_id = _FIRST_LABEL_ID

    def of(self, from_type: str, to_type: str) -> dict[int, _Label]:
        """The pair's definitions, HubSpot's own ones created on first look."""
        defs = self._by_pair.get((from_type, to_type))
        if defs is None:
            default = _default_type_id(from_type, to_type)
            inverse = _default_type_id(to_type, from_type)
            defs = {default: _Label(_HUBSPOT_DEFINED, default, None, None, inverse)}
            primary = _PRIMARY.get((from_type, to_type))
            if primary is not None:
                defs[primary] = _Label(
                    _HUBSPOT_DEFINED, primary, "Primary", None, _PRIMARY[(to_type, from_type)]
                )
            self._by_pair[(from_type, to_type)] = defs
        return defs

    def find(self, from_type: str, to_type: str, category: str, type_id: int) -> _Label | None:
        found = self.of(from_type, to_type).get(type_id)
        return found if found is not None and found.category == category else None

    def create(
        self, from_type: str, to_type: str, label: str, name: str, inverse_label: str | None
    ) -> tuple[_Label, _Label | None]:
        """A new label and, for two object types or a paired label, its inverse."""
        forward_id = self._next_id
        self._next_id += 1
        if from_type == to_type and inverse_label is None:
            created = _Label(_USER_DEFINED, forward_id, label, name, forward_id)
            self.of(from_type, to_type)[forward_id] = created
            return created, None
        inverse_id = self._next_id
        self._next_id += 1
        created = _Label(_USER_DEFINED, forward_id, label, name, inverse_id)
        inverse = _Label(_USER_DEFINED, inverse_id, inverse_label or label, name, forward_id)
        self.of(from_type, to_type)[forward_id] = created
        self.of(to_type, from_type)[inverse_id] = inverse
        return created, inverse

    def remove(self, from_type: str, to_type: str, type_id: int) -> _Label | None:
        removed = self.of(from_type, to_type).pop(type_id, None)
        if removed is not None and removed.inverse_id is not None:
            self.of(to_type, from_type).pop(removed.inverse_id, None)
        return removed
