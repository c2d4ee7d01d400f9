"""What every endpoint family builds on: the routed call, the endpoint record, input checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

import attrs

from hubassoc.testing._graph import _Store
from hubassoc.testing._oauth import _OAuthState
from hubassoc.testing._objects import _OBJECT_TYPE_RE, _normalise_type
from hubassoc.testing._replies import _error_reply, _Reply

_P = TypeVar("_P")
_T = TypeVar("_T")


@attrs.frozen
class _Call:
    """One routed request, with the emulator state and settings its handler may use.

    Built by the server once the request is released, so settings read here are
    the ones in force when the request is processed.
    """

    method: str
    path: str
    params: tuple[str, ...]
    query: Mapping[str, str]
    raw: bytes
    body: Any
    correlation_id: str
    requested_at: str
    started_at: str
    store: _Store
    invalid_ids: set[str]
    repeat_ids: set[str]
    page_size: int
    read_limit: int
    write_limit: int
    empty_write_responses: bool
    base_url: str
    oauth: _OAuthState | None = None

    def error(self, status: int, message: str | None = None, in_: str | None = None) -> _Reply:
        """A HubSpot error body for this call."""
        return _error_reply(status, self.correlation_id, message, in_)


@attrs.frozen
class _Endpoint(Generic[_P]):
    """One endpoint: the method and path it answers, and its two steps.

    ``parse`` checks the request and returns its parsed input ``_P`` or the 400
    that refuses it; nothing is applied. ``apply`` changes the store and builds
    the answer. ``mentions`` lists the object ids that ``fail_ids`` rules look
    at (None: the endpoint mentions no object ids). ``authenticated=False`` skips
    the bearer token check, rate limits and scopes (token endpoints).
    """

    name: str
    method: str
    pattern: re.Pattern[str]
    parse: Callable[[_Call], _P | _Reply]
    apply: Callable[[_Call, _P], _Reply]
    mentions: Callable[[_P], Iterable[str]] | None = None
    authenticated: bool = True


# (normalised from type, normalised to type, parsed inputs) of a batch call.
_Batch = tuple[str, str, list[_T]]


def _parse_batch(
    call: _Call,
    limit: int,
    checker: Callable[[Any], _T | str],
    fast: Callable[[list[Any]], list[_T] | None] | None = None,
) -> _Batch[_T] | _Reply:
    """Check the path's two object types and a ``{"inputs": [...]}`` body item by item.

    ``fast`` may take every input at once when all are in the usual form (None
    otherwise); it must give what ``checker`` gives for them.
    """
    from_raw, to_raw = call.params[0], call.params[1]
    for raw_type in (from_raw, to_raw):
        if not _OBJECT_TYPE_RE.fullmatch(raw_type):
            return call.error(400, f"Unable to infer object type from: {raw_type}", "objectType")
    body = call.body
    if not isinstance(body, dict):
        message = "Invalid input JSON: the body must be a JSON object."
        if not call.raw:
            message = "Invalid input JSON: the request body is empty."
        return call.error(400, message, "body")
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        return call.error(400, "Invalid input: 'inputs' must be a non-empty array.", "inputs")
    if len(inputs) > limit:
        return call.error(
            400,
            f"Too many inputs: {len(inputs)} exceeds the limit of {limit} per request.",
            "inputs",
        )
    from_type, to_type = _normalise_type(from_raw), _normalise_type(to_raw)
    if fast is not None:
        quick = fast(inputs)
        if quick is not None:
            return from_type, to_type, quick
    parsed: list[_T] = []
    for index, item in enumerate(inputs):
        result = checker(item)
        if isinstance(result, str):
            return call.error(400, result, f"inputs[{index}]")
        parsed.append(result)
    return from_type, to_type, parsed


def _as_id(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _ref_id(value: Any) -> str | None:
    return _as_id(value.get("id")) if isinstance(value, dict) else None
