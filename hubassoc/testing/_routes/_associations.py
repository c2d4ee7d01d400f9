"""``/crm/v4/associations/{from}/{to}/batch/{read,associate/default,archive}``.

Also served under the date-versioned family, ``/crm/associations/{YYYY-MM}/...``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from hubassoc.testing._cursors import _cursor_bytes
from hubassoc.testing._graph import _AssocType
from hubassoc.testing._objects import _HUBSPOT_DEFINED, _default_type_id, _json_id, _singular
from hubassoc.testing._replies import (
    _ID_SLOT,
    _dumps,
    _encoded_envelope,
    _envelope,
    _item_error,
    _missing_object_error,
    _Reply,
    _with_id_slots,
)
from hubassoc.testing._routes._base import (
    _Batch,
    _Call,
    _Endpoint,
    _parse_batch,
    _ref_id,
)

# The v4 family and the date-versioned one (``/crm/associations/2026-03/...``).
_PREFIX: Final = r"/crm/(?:v4/associations|associations/\d{4}-\d{2})/([^/]+)/([^/]+)/batch/"


def _limit_error(
    from_type: str, to_type: str, from_id: str, to_id: str, limit: int
) -> dict[str, Any]:
    """The per-input error of a write that would break a configured association limit."""
    return _item_error(
        "VALIDATION_ERROR",
        f"Associating {_singular(from_type)} {from_id} with {_singular(to_type)} {to_id} "
        f"would exceed the configured limit of {limit}.",
        {"fromObjectId": [from_id], "toObjectId": [to_id]},
    )


def _answer(call: _Call, results: list[Any], errors: list[Any], *, empty_ok: bool) -> _Reply:
    """200/207 with an envelope, or 204 for a clean write when the emulator answers so."""
    if empty_ok and not errors and call.empty_write_responses:
        return _Reply(204, b"", None)
    envelope = _envelope(results, errors, call.requested_at, call.started_at)
    return _Reply(207 if errors else 200, _dumps(envelope))


def _encoded_answer(call: _Call, results: list[bytes], errors: list[bytes]) -> _Reply:
    """:func:`_answer` of results and errors encoded one by one (no 204).

    Each result's first piece and each error start with a comma, dropped here
    from the first of each.
    """
    if results:
        results[0] = results[0][1:]
    if errors:
        errors[0] = errors[0][1:]
    body = _encoded_envelope(results, errors, len(errors), call.requested_at, call.started_at)
    return _Reply(207 if errors else 200, body)


# ---------------------------------------------------------------------- batch/read

_ReadInput = tuple[str, str | None]


def _check_read_input(item: Any) -> _ReadInput | str:
    object_id = _ref_id(item)
    if object_id is None:
        return "Each input must be an object with a string 'id'."
    after = item.get("after")
    if after is not None and not isinstance(after, str):
        return "'after' must be a string."
    return object_id, after


def _fast_read_inputs(inputs: list[Any]) -> list[_ReadInput] | None:
    """The inputs when every one is ``{"id": "<non-empty>", "after"?: "<string>"}``, else None.

    One comprehension for what :func:`_check_read_input` does call by call; anything
    else (an int id, a missing key) takes the checks one by one, and their messages.
    """
    try:
        parsed = [(item["id"], item.get("after")) for item in inputs]
    except (TypeError, KeyError):
        return None
    for object_id, after in parsed:
        if type(object_id) is not str or not object_id:
            return None
        if after is not None and type(after) is not str:
            return None
    return parsed


def _parse_read(call: _Call) -> _Batch[_ReadInput] | _Reply:
    return _parse_batch(call, call.read_limit, _check_read_input, _fast_read_inputs)


def _read_mentions(parsed: _Batch[_ReadInput]) -> Iterable[str]:
    return (from_id for from_id, _ in parsed[2])


def _apply_read(call: _Call, parsed: _Batch[_ReadInput]) -> _Reply:
    """Each result and error is encoded as it is made, the envelope around them last.

    A result's to-objects come from the store's cache of encoded to-objects, so a
    page costs a dict look-up per to-object; ids are encoded by the codec, so the
    bytes are the ones encoding the whole answer as dicts would give.
    """
    from_type, to_type, inputs = parsed
    store = call.store
    pair = store.pairs.get((from_type, to_type), {})
    encoded = store.encoded_targets(from_type, to_type)
    page_size = call.page_size
    invalid_ids, repeat_ids = call.invalid_ids, call.repeat_ids
    from_name, to_name = _singular(from_type), _singular(to_type)
    context_types = {"fromObjectType": [from_name], "toObjectType": [to_name]}
    none_found = _with_id_slots(
        _item_error(
            "OBJECT_NOT_FOUND",
            f"No {to_name} is associated with {from_name} {_ID_SLOT}.",
            {"fromObjectId": [_ID_SLOT], **context_types},
            sub_category="crm.associations.NO_ASSOCIATIONS_FOUND",
        )
    )
    none_found[0] = b"," + none_found[0]
    # '"<base>?after=': the codec's escaping of the link, without its closing quote.
    link = _dumps(f"{call.base_url}{call.path}?after=")[:-1]
    issued = store.issued
    cached = encoded.get

    def target(to_id: str, types: tuple[_AssocType, ...]) -> bytes:
        """The to-object encoded, when the cache holds none for these very types."""
        entry = encoded.get(to_id)
        if entry is not None and entry[0] == types:
            return entry[1]
        item = {"toObjectId": _json_id(to_id), "associationTypes": store.types_as_json(types)}
        data = _dumps(item)
        encoded[to_id] = (types, data)
        return data

    results: list[bytes] = []  # pieces; each result's first starts with a comma
    errors: list[bytes] = []  # one per error, each starting with a comma
    for from_id, after in inputs:
        if from_id in invalid_ids:
            error = _item_error(
                "OBJECT_NOT_FOUND",
                f"{from_name.capitalize()} {from_id} does not exist.",
                {"fromObjectId": [from_id], **context_types},
            )
            errors.append(b"," + _dumps(error))
            continue
        offset = 0
        if after is not None:
            cursor = issued.decode(after)
            if cursor is None or cursor[1] != from_id:
                error = _item_error(
                    "VALIDATION_ERROR",
                    f"Invalid paging cursor for {from_name} {from_id}.",
                    {"fromObjectId": [from_id], "after": [after], **context_types},
                )
                errors.append(b"," + _dumps(error))
                continue
            offset = cursor[0]
        edges = pair.get(from_id)
        repeat = from_id in repeat_ids
        if (edges is None or not edges.to) and not repeat:
            errors.append(_dumps(from_id)[1:-1].join(none_found))
            continue
        results.append(b',{"from":{"id":' + _dumps(from_id) + b'},"to":[')
        more = False
        if edges is not None:
            order = edges.order()
            more = offset + page_size < len(order)
            types_of = edges.to
            # A cached entry stands if it was made for the very types on this edge.
            items = [
                entry[1]
                if (entry := cached(to_id)) is not None and entry[0] is types_of[to_id]
                else target(to_id, types_of[to_id])
                for to_id in order[offset : offset + page_size]
            ]
            results.append(b",".join(items))
        if repeat or more:
            next_offset = page_size if repeat else offset + page_size
            next_after = _cursor_bytes(next_offset, from_id)
            issued.add(next_after, next_offset, from_id)
            paging = b'],"paging":{"next":{"after":"' + next_after + b'","link":' + link
            results.append(paging + next_after + b'"}}}')
        else:
            results.append(b"]}")
    return _encoded_answer(call, results, errors)


# ---------------------------------------------------------------------- batch/associate/default

_PairInput = tuple[str, str]


def _check_associate_input(item: Any) -> _PairInput | str:
    if not isinstance(item, dict):
        return "Each input must be an object with 'from' and 'to'."
    from_id, to_id = _ref_id(item.get("from")), _ref_id(item.get("to"))
    if from_id is None or to_id is None:
        return "Each input needs 'from': {'id': ...} and 'to': {'id': ...}."
    return from_id, to_id


def _fast_pair_inputs(inputs: list[Any]) -> list[_PairInput] | None:
    """The inputs when every one is ``{"from": {"id": "..."}, "to": {"id": "..."}}``, else None."""
    try:
        parsed = [(item["from"]["id"], item["to"]["id"]) for item in inputs]
    except (TypeError, KeyError):
        return None
    for from_id, to_id in parsed:
        if type(from_id) is not str or type(to_id) is not str or not from_id or not to_id:
            return None
    return parsed


def _parse_associate(call: _Call) -> _Batch[_PairInput] | _Reply:
    return _parse_batch(call, call.write_limit, _check_associate_input, _fast_pair_inputs)


def _pair_mentions(parsed: _Batch[_PairInput]) -> Iterable[str]:
    return (object_id for pair in parsed[2] for object_id in pair)


def _apply_associate_default(call: _Call, parsed: _Batch[_PairInput]) -> _Reply:
    from_type, to_type, inputs = parsed
    type_id = _default_type_id(from_type, to_type)
    spec = {"associationCategory": _HUBSPOT_DEFINED, "associationTypeId": type_id}
    invalid = call.invalid_ids
    results: list[Any] = []
    errors: list[Any] = []
    applied: list[tuple[str, str]] = []
    store = call.store
    # Configured limits are checked pair by pair, each counting the ones applied before it.
    limited = bool(
        store.configs.get((from_type, to_type)) or store.configs.get((to_type, from_type))
    )
    if not limited and (not invalid or invalid.isdisjoint(_pair_mentions(parsed))):
        # Every pair is applied: no per-pair checks, one pass to build the results.
        store.associate_many(from_type, to_type, inputs, type_id, _HUBSPOT_DEFINED, None)
        results = [{"from": {"id": f}, "to": {"id": t}, "associationSpec": spec} for f, t in inputs]
        return _answer(call, results, errors, empty_ok=False)
    for from_id, to_id in inputs:
        if invalid and (from_id in invalid or to_id in invalid):
            errors.append(_missing_object_error(from_type, to_type, from_id, [to_id], invalid))
            continue
        if limited:
            limit = store.over_limit(from_type, to_type, from_id, to_id, _HUBSPOT_DEFINED, type_id)
            if limit is not None:
                errors.append(_limit_error(from_type, to_type, from_id, to_id, limit))
                continue
            store.add_types(from_type, to_type, from_id, to_id, [(_HUBSPOT_DEFINED, type_id, None)])
        else:
            applied.append((from_id, to_id))
        results.append({"from": {"id": from_id}, "to": {"id": to_id}, "associationSpec": spec})
    store.associate_many(from_type, to_type, applied, type_id, _HUBSPOT_DEFINED, None)
    return _answer(call, results, errors, empty_ok=False)


# ---------------------------------------------------------------------- batch/archive

_ArchiveInput = tuple[str, list[str]]


def _check_archive_input(item: Any) -> _ArchiveInput | str:
    if not isinstance(item, dict):
        return "Each input must be an object with 'from' and 'to'."
    from_id = _ref_id(item.get("from"))
    to_refs = item.get("to")
    if from_id is None or not isinstance(to_refs, list):
        return "Each input needs 'from': {'id': ...} and 'to': [{'id': ...}, ...]."
    to_ids: list[str] = []
    for ref in to_refs:
        to_id = _ref_id(ref)
        if to_id is None:
            return "Each 'to' entry must be an object with a string 'id'."
        to_ids.append(to_id)
    return from_id, to_ids


def _fast_archive_inputs(inputs: list[Any]) -> list[_ArchiveInput] | None:
    """The inputs when every one is ``{"from": {"id": "..."}, "to": [{"id": "..."}, ...]}``."""
    try:
        parsed = [(item["from"]["id"], [ref["id"] for ref in item["to"]]) for item in inputs]
    except (TypeError, KeyError):
        return None
    for item, (from_id, to_ids) in zip(inputs, parsed, strict=True):
        if type(from_id) is not str or not from_id or type(item["to"]) is not list:
            return None
        for to_id in to_ids:
            if type(to_id) is not str or not to_id:
                return None
    return parsed


def _parse_archive(call: _Call) -> _Batch[_ArchiveInput] | _Reply:
    return _parse_batch(call, call.write_limit, _check_archive_input, _fast_archive_inputs)


def _archive_mentions(parsed: _Batch[_ArchiveInput]) -> Iterable[str]:
    return (object_id for from_id, to_ids in parsed[2] for object_id in (from_id, *to_ids))


def _apply_archive(call: _Call, parsed: _Batch[_ArchiveInput]) -> _Reply:
    from_type, to_type, inputs = parsed
    invalid = call.invalid_ids
    errors: list[Any] = []
    applied: list[_ArchiveInput] = []
    for from_id, to_ids in inputs:
        if invalid and (from_id in invalid or any(to_id in invalid for to_id in to_ids)):
            errors.append(_missing_object_error(from_type, to_type, from_id, to_ids, invalid))
            continue
        applied.append((from_id, to_ids))
    call.store.disassociate_many(from_type, to_type, applied)
    return _answer(call, [], errors, empty_ok=True)


_ENDPOINTS: Final[tuple[_Endpoint[Any], ...]] = (
    _Endpoint(
        "read", "POST", re.compile(_PREFIX + "read"), _parse_read, _apply_read, _read_mentions
    ),
    _Endpoint(
        "associate",
        "POST",
        re.compile(_PREFIX + "associate/default"),
        _parse_associate,
        _apply_associate_default,
        _pair_mentions,
    ),
    _Endpoint(
        "archive",
        "POST",
        re.compile(_PREFIX + "archive"),
        _parse_archive,
        _apply_archive,
        _archive_mentions,
    ),
)
