"""``/crm/associations/v4/definitions/configurations/{from}/{to}/batch/purge``.

Also served as ``/crm/v4/associations/definitions/...`` and ``/crm/associations/{YYYY-MM}/definitions/...``.
"""

from __future__ import annotations

import re
from typing import Any, Final

from hubassoc.testing._replies import _Reply
from hubassoc.testing._routes._associations import _answer
from hubassoc.testing._routes._base import _Batch, _Call, _Endpoint, _parse_batch

# HubSpot publishes the v4 configuration paths in two spellings, and a dated family.
_PREFIX: Final = (
    r"/crm/(?:associations/v4|v4/associations|associations/\d{4}-\d{2})"
    r"/definitions/configurations/([^/]+)/([^/]+)/batch/"
)

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


_ENDPOINTS: Final[tuple[_Endpoint[Any], ...]] = (
    _Endpoint("purge", "POST", re.compile(_PREFIX + "purge"), _parse_purge, _apply_purge),
)
