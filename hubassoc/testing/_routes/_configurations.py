"""``/crm/associations/v4/definitions/configurations``: limit configurations.

``/all`` and ``/{from}/{to}`` (GET), ``/{from}/{to}/batch/{create,update,purge}``.

Also served as ``/crm/v4/associations/definitions/...`` and ``/crm/associations/{YYYY-MM}/definitions/...``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from hubassoc.testing._objects import _OBJECT_TYPE_RE, _normalise_type
from hubassoc.testing._replies import _dumps, _item_error, _Reply
from hubassoc.testing._routes._associations import _answer
from hubassoc.testing._routes._base import _Batch, _Call, _Endpoint, _parse_batch

# HubSpot publishes the v4 configuration paths in two spellings, and a dated family.
_ROOT: Final = (
    r"/crm/(?:associations/v4|v4/associations|associations/\d{4}-\d{2})"
    r"/definitions/configurations"
)
_PAIR: Final = _ROOT + r"/([^/]+)/([^/]+)"
_PREFIX: Final = _PAIR + r"/batch/"

_PurgeInput = tuple[str, int]


def _check_purge_input(item: Any) -> _PurgeInput | str:
    if not isinstance(item, dict):
        return "Each input must be an object with 'category' and 'typeId'."
    category, type_id = item.get("category"), item.get("typeId")
    if not isinstance(category, str) or not category:
        return "'category' must be a non-empty string."
    if not isinstance(type_id, int) or isinstance(type_id, bool):
        return "'typeId' must be an integer."
    return category, type_id


def _parse_purge(call: _Call) -> _Batch[_PurgeInput] | _Reply:
    return _parse_batch(call, call.write_limit, _check_purge_input)


def _apply_purge(call: _Call, parsed: _Batch[_PurgeInput]) -> _Reply:
    from_type, to_type, inputs = parsed
    configs = call.store.configs.get((from_type, to_type), {})
    for category, type_id in inputs:
        configs.pop((category, type_id), None)
    return _answer(call, [], [], empty_ok=True)


def _config_json(call: _Call, pair: tuple[str, str], key: tuple[str, int], limit: int) -> Any:
    label = call.store.labels.of(*pair).get(key[1])
    return {
        "category": key[0],
        "typeId": key[1],
        "label": label.label if label is not None else None,
        "userEnforcedMaxToObjectIds": limit,
    }


# ---------------------------------------------------------------------- GET all / one pair


def _parse_all(call: _Call) -> tuple[()] | _Reply:
    return ()


def _apply_all(call: _Call, parsed: tuple[()]) -> _Reply:
    results = [
        _config_json(call, pair, key, limit)
        for pair, configs in call.store.configs.items()
        for key, limit in configs.items()
    ]
    return _Reply(200, _dumps({"results": results}))


def _parse_pair(call: _Call) -> tuple[str, str] | _Reply:
    for raw_type in call.params[:2]:
        if not _OBJECT_TYPE_RE.fullmatch(raw_type):
            return call.error(400, f"Unable to infer object type from: {raw_type}", "objectType")
    return _normalise_type(call.params[0]), _normalise_type(call.params[1])


def _apply_pair(call: _Call, pair: tuple[str, str]) -> _Reply:
    configs = call.store.configs.get(pair, {})
    results = [_config_json(call, pair, key, limit) for key, limit in configs.items()]
    return _Reply(200, _dumps({"results": results}))


# ---------------------------------------------------------------------- batch/create, batch/update

_LimitInput = tuple[str, int, int]


def _check_limit_input(item: Any) -> _LimitInput | str:
    checked = _check_purge_input(item)
    if isinstance(checked, str):
        return checked
    limit = item.get("maxToObjectIds")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        return "'maxToObjectIds' must be an integer >= 1."
    return checked[0], checked[1], limit


def _parse_limits(call: _Call) -> _Batch[_LimitInput] | _Reply:
    return _parse_batch(call, call.write_limit, _check_limit_input)


def _limit_error(message: str, category: str, type_id: int) -> dict[str, Any]:
    return _item_error(
        "VALIDATION_ERROR", message, {"category": [category], "typeId": [str(type_id)]}
    )


def _write_limits(call: _Call, parsed: _Batch[_LimitInput], *, update: bool) -> _Reply:
    from_type, to_type, inputs = parsed
    pair = (from_type, to_type)
    configs = call.store.configs.setdefault(pair, {})
    results: list[Any] = []
    errors: list[Any] = []
    for category, type_id, limit in inputs:
        key = (category, type_id)
        if call.store.labels.find(from_type, to_type, category, type_id) is None:
            errors.append(
                _limit_error(f"No association type {category}/{type_id}.", category, type_id)
            )
        elif update and key not in configs:
            errors.append(
                _limit_error(f"No limit is configured for {category}/{type_id}.", category, type_id)
            )
        elif not update and key in configs:
            errors.append(
                _limit_error(
                    f"A limit is already configured for {category}/{type_id}.", category, type_id
                )
            )
        else:
            configs[key] = limit
            results.append(_config_json(call, pair, key, limit))
    reply = _answer(call, results, errors, empty_ok=False)
    if not errors and not update:
        reply.status = 201  # batch/create answers 201, batch/update 200; both 207 with errors
    return reply


def _apply_create(call: _Call, parsed: _Batch[_LimitInput]) -> _Reply:
    return _write_limits(call, parsed, update=False)


def _apply_update(call: _Call, parsed: _Batch[_LimitInput]) -> _Reply:
    return _write_limits(call, parsed, update=True)


_ENDPOINTS: Final[tuple[_Endpoint[Any], ...]] = (
    _Endpoint("purge", "POST", re.compile(_PREFIX + "purge"), _parse_purge, _apply_purge),
    _Endpoint(
        "create_limits", "POST", re.compile(_PREFIX + "create"), _parse_limits, _apply_create
    ),
    _Endpoint(
        "update_limits", "POST", re.compile(_PREFIX + "update"), _parse_limits, _apply_update
    ),
    _Endpoint("read_all_limits", "GET", re.compile(_ROOT + "/all"), _parse_all, _apply_all),
    _Endpoint("read_limits", "GET", re.compile(_PAIR), _parse_pair, _apply_pair),
)
