"""Response bodies the emulator sends: JSON codec, error bodies and batch envelopes."""

from __future__ import annotations

import http
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import attrs

from hubassoc.testing._objects import _singular


def _json_codec() -> tuple[Callable[[Any], bytes], Callable[[bytes], Any]]:
    """``(dumps, loads)``: msgspec (the ``[speed]`` extra), else orjson, else the stdlib.

    Each gives compact JSON, UTF-8 bytes out, and raises ValueError on bad input.
    """
    try:
        import msgspec
    except ImportError:
        pass
    else:
        # Encoder/Decoder instances skip the per-call set-up of msgspec.json.encode/decode.
        return msgspec.json.Encoder().encode, msgspec.json.Decoder().decode
    try:
        import orjson
    except ImportError:
        return (
            lambda obj: json.dumps(obj, separators=(",", ":")).encode(),
            json.loads,
        )
    return orjson.dumps, orjson.loads


_dumps, _loads = _json_codec()

_JSON: Final = "application/json"
# Stands for an object id in a template; no object type, label or message holds an "@".
_ID_SLOT: Final = "@id@"

_AUTH_MESSAGE: Final = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication "
    "and you can find more details at "
    "https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
_SCOPES_MESSAGE: Final = (
    "This app hasn't been granted all required scopes to make this call. Read more about "
    "required scopes here: https://developers.hubspot.com/scopes."
)
_CATEGORY_BY_STATUS: Final[Mapping[int, str]] = {
    400: "VALIDATION_ERROR",
    401: "INVALID_AUTHENTICATION",
    403: "MISSING_SCOPES",
    404: "OBJECT_NOT_FOUND",
    405: "VALIDATION_ERROR",
    409: "CONFLICT",
    423: "LOCKED",
    477: "MIGRATION_IN_PROGRESS",
}
_GATEWAY_PAGE: Final = (
    "<!DOCTYPE html>\n<html>\n<head><title>{status} {phrase}</title></head>\n"
    "<body>\n<center><h1>{status} {phrase}</h1></center>\n"
    "<hr><center>cloudflare</center>\n</body>\n</html>\n"
)


@attrs.define(slots=True)
class _Reply:
    status: int
    body: bytes = b""
    content_type: str | None = _JSON
    headers: dict[str, str] = attrs.Factory(dict)
    disconnect: bool = False


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Migration In Progress" if status == 477 else "Error"


def _error_reply(
    status: int, correlation_id: str, message: str | None = None, in_: str | None = None
) -> _Reply:
    body: dict[str, Any] = {
        "status": "error",
        "message": message or f"{_phrase(status)}.",
        "correlationId": correlation_id,
        "category": _CATEGORY_BY_STATUS.get(status, "INTERNAL_ERROR" if status >= 500 else "ERROR"),
    }
    if status == 400:
        body["errors"] = [{"message": body["message"], "in": in_ or "body"}]
    return _Reply(status, _dumps(body))


def _auth_reply(correlation_id: str) -> _Reply:
    body = {
        "status": "error",
        "message": _AUTH_MESSAGE,
        "correlationId": correlation_id,
        "category": "INVALID_AUTHENTICATION",
    }
    return _Reply(401, _dumps(body))


def _scopes_reply(correlation_id: str, scopes: list[str]) -> _Reply:
    body = {
        "status": "error",
        "message": _SCOPES_MESSAGE,
        "correlationId": correlation_id,
        "errors": [
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredScopes": list(scopes)},
            }
        ],
        "links": {"scopes": "https://developers.hubspot.com/scopes"},
        "category": "MISSING_SCOPES",
    }
    return _Reply(403, _dumps(body))


def _server_error_reply(status: int, correlation_id: str) -> _Reply:
    if status in (502, 503):
        page = _GATEWAY_PAGE.format(status=status, phrase=_phrase(status))
        return _Reply(status, page.encode(), "text/html", {"Server": "cloudflare"})
    return _error_reply(status, correlation_id, "internal error")


def _envelope(
    results: list[Any], errors: list[Any], requested_at: str, started_at: str | None = None
) -> dict[str, Any]:
    envelope: dict[str, Any] = {"status": "COMPLETE", "results": results, "errors": errors}
    if errors:
        envelope["numErrors"] = len(errors)
    envelope["requestedAt"] = requested_at
    envelope["startedAt"] = started_at or requested_at
    envelope["completedAt"] = _now_iso()
    envelope["links"] = {}
    return envelope


def _encoded_envelope(
    results: list[bytes],
    errors: list[bytes],
    num_errors: int,
    requested_at: str,
    started_at: str,
) -> bytes:
    """What ``_dumps(_envelope(...))`` gives, from the arrays' contents encoded already.

    ``results`` and ``errors`` are pieces that concatenate to the comma-separated
    items; one join over every piece copies a large answer once, not per nesting level.
    """
    times = {"requestedAt": requested_at, "startedAt": started_at or requested_at}
    times["completedAt"] = _now_iso()
    tail = _dumps({**times, "links": {}})
    middle = b'],"numErrors":%d,' % num_errors if num_errors else b"],"
    return b"".join(
        [
            b'{"status":"COMPLETE","results":[',
            *results,
            b'],"errors":[',
            *errors,
            middle,
            tail[1:],
        ]
    )


def _with_id_slots(template: Any) -> list[bytes]:
    """``template`` encoded and cut where :data:`_ID_SLOT` stands in its strings.

    Joining the pieces with an id encoded as a JSON string without its quotes
    (``_dumps(object_id)[1:-1]``) gives what encoding the template with that id would.
    """
    return _dumps(template).split(_ID_SLOT.encode())


def _item_error(
    category: str,
    message: str,
    context: dict[str, list[str]],
    sub_category: str | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"status": "error", "category": category}
    if sub_category is not None:
        error["subCategory"] = sub_category
    error["message"] = message
    error["context"] = context
    error["errors"] = []
    error["links"] = {}
    return error


def _missing_object_error(
    from_type: str, to_type: str, from_id: str, to_ids: list[str], invalid: set[str]
) -> dict[str, Any]:
    missing = [
        f"{_singular(object_type)} {object_id}"
        for object_type, object_id in [(from_type, from_id), *((to_type, t) for t in to_ids)]
        if object_id in invalid
    ]
    return _item_error(
        "OBJECT_NOT_FOUND",
        f"Objects do not exist: {', '.join(missing)}.",
        {"fromObjectId": [from_id], "toObjectId": list(to_ids)},
    )
