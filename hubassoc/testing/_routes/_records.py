"""``GET /crm/v4/objects/{fromType}/{fromId}/associations/{toType}``: one record's associations.

``limit`` (1 to 500, default 500) to-objects a page; ``after`` continues from the
previous page's ``paging.next.after``, which is present only while more remain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from hubassoc.testing._cursors import _decode_cursor, _encode_cursor
from hubassoc.testing._objects import _OBJECT_TYPE_RE, _json_id, _normalise_type, _singular
from hubassoc.testing._replies import _dumps, _Reply
from hubassoc.testing._routes._base import _Call, _Endpoint

_PATH: Final = r"/crm/(?:v4/objects|objects/\d{4}-\d{2})/([^/]+)/([^/]+)/associations/([^/]+)"
#: HubSpot's maximum (and the default here) for ``limit``.
_MAX_LIMIT: Final = 500

# (from type, from id, to type, limit, offset)
_RecordInput = tuple[str, str, str, int, int]


def _parse(call: _Call) -> _RecordInput | _Reply:
    from_raw, from_id, to_raw = call.params
    for raw_type in (from_raw, to_raw):
        if not _OBJECT_TYPE_RE.fullmatch(raw_type):
            return call.error(400, f"Unable to infer object type from: {raw_type}", "objectType")
    limit_text = call.query.get("limit", str(_MAX_LIMIT))
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= _MAX_LIMIT:
        return call.error(400, f"limit must be between 1 and {_MAX_LIMIT}.", "limit")
    offset = 0
    after = call.query.get("after")
    if after is not None:
        cursor = _decode_cursor(after)
        if cursor is None or cursor[1] != from_id:
            return call.error(400, f"Invalid paging cursor: {after}", "after")
        offset = cursor[0]
    return _normalise_type(from_raw), from_id, _normalise_type(to_raw), int(limit_text), offset


def _mentions(parsed: _RecordInput) -> Iterable[str]:
    return (parsed[1],)


def _apply(call: _Call, parsed: _RecordInput) -> _Reply:
    from_type, from_id, to_type, limit, offset = parsed
    if from_id in call.invalid_ids:
        return call.error(404, f"{_singular(from_type).capitalize()} {from_id} does not exist.")
    store = call.store
    edges = store.edges(from_type, to_type, from_id)
    order = edges.order() if edges is not None else []
    page = order[offset : offset + limit]
    body: dict[str, Any] = {
        "results": [
            {
                "toObjectId": _json_id(to_id),
                "associationTypes": store.types_as_json(edges.to[to_id]),
            }
            for to_id in page
            if edges is not None
        ]
    }
    repeat = from_id in call.repeat_ids
    if repeat or offset + limit < len(order):
        after = _encode_cursor(limit if repeat else offset + limit, from_id)
        link = f"{call.base_url}{call.path}?limit={limit}&after={after}"
        body["paging"] = {"next": {"after": after, "link": link}}
    return _Reply(200, _dumps(body))


_ENDPOINTS: Final[tuple[_Endpoint[Any], ...]] = (
    _Endpoint("record_associations", "GET", re.compile(_PATH), _parse, _apply, _mentions),
)
