"""``.../{from}/{to}/batch/create`` and ``.../batch/labels/archive``: associations with labels."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from hubassoc.testing._graph import _AssocType, _Store
from hubassoc.testing._objects import (
    _HUBSPOT_DEFINED,
    _default_type_id,
    _json_id,
    _object_type_id,
    _singular,
)
from hubassoc.testing._replies import _item_error, _missing_object_error, _Reply
from hubassoc.testing._routes._associations import _PREFIX, _answer, _limit_error
from hubassoc.testing._routes._base import _Batch, _Call, _Endpoint, _parse_batch, _ref_id

# (from id, to id, [(category, type id), ...]) of one input.
_TypedInput = tuple[str, str, list[tuple[str, int]]]


def _check_typed_input(item: Any) -> _TypedInput | str:
    if not isinstance(item, dict):
        return "Each input must be an object with 'from', 'to' and 'types'."
    from_id, to_id = _ref_id(item.get("from")), _ref_id(item.get("to"))
    if from_id is None or to_id is None:
        return "Each input needs 'from': {'id': ...} and 'to': {'id': ...}."
    raw_types = item.get("types")
    if not isinstance(raw_types, list) or not raw_types:
        return "'types' must be a non-empty array of {associationCategory, associationTypeId}."
    types: list[tuple[str, int]] = []
    for spec in raw_types:
        category = spec.get("associationCategory") if isinstance(spec, dict) else None
        type_id = spec.get("associationTypeId") if isinstance(spec, dict) else None
        if not isinstance(category, str) or not category:
            return "'associationCategory' must be a non-empty string."
        if not isinstance(type_id, int) or isinstance(type_id, bool):
            return "'associationTypeId' must be an integer."
        types.append((category, type_id))
    return from_id, to_id, types


def _parse_typed(call: _Call) -> _Batch[_TypedInput] | _Reply:
    return _parse_batch(call, call.write_limit, _check_typed_input)


def _typed_mentions(parsed: _Batch[_TypedInput]) -> Iterable[str]:
    return (object_id for from_id, to_id, _ in parsed[2] for object_id in (from_id, to_id))


def _pair_context(from_id: str, to_id: str) -> dict[str, list[str]]:
    return {"fromObjectId": [from_id], "toObjectId": [to_id]}


def _resolve(
    store: _Store, from_type: str, to_type: str, types: list[tuple[str, int]]
) -> list[_AssocType] | str:
    """The stored types for the asked ones, or the message naming those that do not exist."""
    found: list[_AssocType] = []
    unknown: list[str] = []
    for category, type_id in types:
        label = store.labels.find(from_type, to_type, category, type_id)
        if label is None:
            unknown.append(f"{category}/{type_id}")
        else:
            found.append((label.category, label.type_id, label.label))
    if unknown:
        return (
            f"Association type(s) {', '.join(unknown)} do not exist from "
            f"{_singular(from_type)} to {_singular(to_type)}."
        )
    return found


def _apply_create(call: _Call, parsed: _Batch[_TypedInput]) -> _Reply:
    from_type, to_type, inputs = parsed
    store, invalid = call.store, call.invalid_ids
    default_id = _default_type_id(from_type, to_type)
    results: list[Any] = []
    errors: list[Any] = []
    for from_id, to_id, asked in inputs:
        if invalid and (from_id in invalid or to_id in invalid):
            errors.append(_missing_object_error(from_type, to_type, from_id, [to_id], invalid))
            continue
        resolved = _resolve(store, from_type, to_type, asked)
        if isinstance(resolved, str):
            errors.append(_item_error("VALIDATION_ERROR", resolved, _pair_context(from_id, to_id)))
            continue
        # A labelled association always comes with the pair's unlabelled one.
        if all(t[1] != default_id for t in resolved):
            resolved.insert(0, (_HUBSPOT_DEFINED, default_id, None))
        broken = [
            (t, limit)
            for t in resolved
            if (limit := store.over_limit(from_type, to_type, from_id, to_id, t[0], t[1]))
            is not None
        ]
        if broken:
            errors.append(_limit_error(from_type, to_type, from_id, to_id, broken[0][1]))
            continue
        store.add_types(from_type, to_type, from_id, to_id, resolved)
        labels = [
            t[2]
            for t in store.types_between(from_type, to_type, from_id, to_id)
            if t[2] is not None
        ]
        results.append(
            {
                "fromObjectTypeId": _object_type_id(from_type),
                "fromObjectId": _json_id(from_id),
                "toObjectTypeId": _object_type_id(to_type),
                "toObjectId": _json_id(to_id),
                "labels": labels,
            }
        )
    reply = _answer(call, results, errors, empty_ok=False)
    if not errors:
        reply.status = 201  # HubSpot's batch create answers 201, or 207 with errors
    return reply


def _apply_archive_labels(call: _Call, parsed: _Batch[_TypedInput]) -> _Reply:
    from_type, to_type, inputs = parsed
    store, invalid = call.store, call.invalid_ids
    default_id = _default_type_id(from_type, to_type)
    errors: list[Any] = []
    for from_id, to_id, asked in inputs:
        if invalid and (from_id in invalid or to_id in invalid):
            errors.append(_missing_object_error(from_type, to_type, from_id, [to_id], invalid))
            continue
        type_ids = {type_id for _, type_id in asked}
        if default_id in type_ids:
            # Removing the unlabelled association removes every label of the pair with it.
            store.disassociate(from_type, to_type, from_id, to_id)
        else:
            store.remove_types(from_type, to_type, from_id, to_id, type_ids)
    return _answer(call, [], errors, empty_ok=True)


_ENDPOINTS: Final[tuple[_Endpoint[Any], ...]] = (
    _Endpoint(
        "create",
        "POST",
        re.compile(_PREFIX + "create"),
        _parse_typed,
        _apply_create,
        _typed_mentions,
    ),
    _Endpoint(
        "archive_labels",
        "POST",
        re.compile(_PREFIX + "labels/archive"),
        _parse_typed,
        _apply_archive_labels,
        _typed_mentions,
    ),
)
