"""``/crm/v4/associations/{from}/{to}/labels``: label definitions (list, create, update, delete)."""

from __future__ import annotations

import re
from typing import Any, Final

from hubassoc.testing._labels import _Label
from hubassoc.testing._objects import _OBJECT_TYPE_RE, _normalise_type
from hubassoc.testing._replies import _dumps, _Reply
from hubassoc.testing._routes._base import _Call, _Endpoint

_LABELS: Final = r"/crm/(?:v4/associations|associations/\d{4}-\d{2})/([^/]+)/([^/]+)/labels"


def _as_json(label: _Label) -> dict[str, Any]:
    return {"category": label.category, "typeId": label.type_id, "label": label.label}


def _pair(call: _Call) -> tuple[str, str] | _Reply:
    for raw_type in call.params[:2]:
        if not _OBJECT_TYPE_RE.fullmatch(raw_type):
            return call.error(400, f"Unable to infer object type from: {raw_type}", "objectType")
    return _normalise_type(call.params[0]), _normalise_type(call.params[1])


def _no_content(call: _Call) -> _Reply:
    return _Reply(204, b"", None)


# ---------------------------------------------------------------------- GET: list


def _apply_list(call: _Call, pair: tuple[str, str]) -> _Reply:
    labels = call.store.labels.of(*pair).values()
    return _Reply(200, _dumps({"results": [_as_json(label) for label in labels]}))


# ---------------------------------------------------------------------- POST: create

_CreateInput = tuple[str, str, str, str, str | None]


def _optional_text(body: dict[str, Any], key: str) -> str | bool | None:
    value = body.get(key)
    if value is None:
        return None
    return value if isinstance(value, str) and value.strip() else False


def _parse_create(call: _Call) -> _CreateInput | _Reply:
    pair = _pair(call)
    if isinstance(pair, _Reply):
        return pair
    body = call.body
    if not isinstance(body, dict):
        return call.error(400, "Invalid input JSON: the body must be a JSON object.", "body")
    label, name = body.get("label"), body.get("name")
    if not isinstance(label, str) or not label.strip():
        return call.error(400, "'label' must be a non-empty string.", "label")
    if not isinstance(name, str) or not name.strip():
        return call.error(400, "'name' must be a non-empty string.", "name")
    inverse = _optional_text(body, "inverseLabel")
    if inverse is False:
        return call.error(400, "'inverseLabel' must be a non-empty string.", "inverseLabel")
    assert not isinstance(inverse, bool)
    defs = call.store.labels.of(*pair)
    if any(d.name == name for d in defs.values()):
        return call.error(400, f"A label named {name!r} already exists for this pair.", "name")
    return pair[0], pair[1], label, name, inverse


def _apply_create(call: _Call, parsed: _CreateInput) -> _Reply:
    from_type, to_type, label, name, inverse_label = parsed
    created, inverse = call.store.labels.create(from_type, to_type, label, name, inverse_label)
    results = [_as_json(created)] + ([_as_json(inverse)] if inverse is not None else [])
    return _Reply(200, _dumps({"results": results}))


# ---------------------------------------------------------------------- PUT: update

_UpdateInput = tuple[str, str, int, str, str | None]


def _user_label(call: _Call, pair: tuple[str, str], type_id: int) -> _Label | _Reply:
    found = call.store.labels.of(*pair).get(type_id)
    if found is None:
        return call.error(404, f"No association label with typeId {type_id} for this pair.")
    if found.category != "USER_DEFINED":
        return call.error(400, f"typeId {type_id} is HubSpot-defined and cannot be changed.")
    return found


def _parse_update(call: _Call) -> _UpdateInput | _Reply:
    pair = _pair(call)
    if isinstance(pair, _Reply):
        return pair
    body = call.body
    if not isinstance(body, dict):
        return call.error(400, "Invalid input JSON: the body must be a JSON object.", "body")
    type_id, label = body.get("associationTypeId"), body.get("label")
    if not isinstance(type_id, int) or isinstance(type_id, bool):
        return call.error(400, "'associationTypeId' must be an integer.", "associationTypeId")
    if not isinstance(label, str) or not label.strip():
        return call.error(400, "'label' must be a non-empty string.", "label")
    inverse = _optional_text(body, "inverseLabel")
    if inverse is False:
        return call.error(400, "'inverseLabel' must be a non-empty string.", "inverseLabel")
    assert not isinstance(inverse, bool)
    found = _user_label(call, pair, type_id)
    if isinstance(found, _Reply):
        return found
    return pair[0], pair[1], type_id, label, inverse


def _apply_update(call: _Call, parsed: _UpdateInput) -> _Reply:
    from_type, to_type, type_id, label, inverse_label = parsed
    labels, store = call.store.labels, call.store
    found = labels.of(from_type, to_type)[type_id]
    found.label = label
    store.relabel(from_type, to_type, type_id, label)
    if inverse_label is not None and found.inverse_id not in (None, type_id):
        inverse = labels.of(to_type, from_type).get(found.inverse_id or 0)
        if inverse is not None:
            inverse.label = inverse_label
            store.relabel(to_type, from_type, inverse.type_id, inverse_label)
    return _no_content(call)


# ---------------------------------------------------------------------- DELETE

_DeleteInput = tuple[str, str, int]


def _parse_delete(call: _Call) -> _DeleteInput | _Reply:
    pair = _pair(call)
    if isinstance(pair, _Reply):
        return pair
    type_id = int(call.params[2])
    found = _user_label(call, pair, type_id)
    if isinstance(found, _Reply):
        return found
    return pair[0], pair[1], type_id


def _apply_delete(call: _Call, parsed: _DeleteInput) -> _Reply:
    from_type, to_type, type_id = parsed
    store = call.store
    # The label leaves every association that carried it (the associations stay), before
    # its definition goes, which still knows the inverse type id.
    for from_id, edges in list(store.pairs.get((from_type, to_type), {}).items()):
        carrying = [t for t, types in edges.to.items() if any(x[1] == type_id for x in types)]
        for to_id in carrying:
            store.remove_types(from_type, to_type, from_id, to_id, {type_id})
    store.labels.remove(from_type, to_type, type_id)
    return _no_content(call)


_ENDPOINTS: Final[tuple[_Endpoint[Any], ...]] = (
    _Endpoint("list_labels", "GET", re.compile(_LABELS), _pair, _apply_list),
    _Endpoint("create_label", "POST", re.compile(_LABELS), _parse_create, _apply_create),
    _Endpoint("update_label", "PUT", re.compile(_LABELS), _parse_update, _apply_update),
    _Endpoint(
        "delete_label", "DELETE", re.compile(_LABELS + r"/(\d+)"), _parse_delete, _apply_delete
    ),
)
