"""What an HTTP answer means, decided without I/O.

:func:`classify` maps (status, headers, body) to one of four outcomes: a success to
parse, a failure worth retrying (with the wait the server asked for, if any), an error
that stops the whole operation, or a failure of just this chunk. Keeping this pure
lets every HubSpot quirk be tested directly.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from ._codec import JSON_DECODE_ERRORS, loads
from ._exceptions import AuthenticationError, ForbiddenError, HubSpotError, RateLimitError
from ._wire import structure_context

# HubSpot asks for a pause and a retry on these (error-handling docs); 500 is usually
# transient too. 522/523 mean "contact support" and are not retried.
RETRY_STATUSES = frozenset({423, 429, 477, 500, 502, 503, 504, 521})
_SCOPE_KEYS = ("missingScopes", "requiredScopes", "requiredGranularScopes")
#: 423 Locked: HubSpot asks for "a delay of at least 2 seconds".
LOCKED_MIN_WAIT = 2.0
#: The burst window HubSpot uses when a 429 does not say otherwise.
DEFAULT_WINDOW = 10.0


@attrs.frozen
class ErrorBody:
    """The parts of a HubSpot error body that matter, every field optional."""

    message: str | None = None
    category: str | None = None
    sub_category: str | None = None
    correlation_id: str | None = None
    policy_name: str | None = None
    context: dict[str, list[str]] = attrs.Factory(dict)
    detail_contexts: list[dict[str, list[str]]] = attrs.Factory(list)


@attrs.frozen
class RateLimitInfo:
    """What an answer's ``X-HubSpot-RateLimit-*`` headers said; HubSpot may omit any of them.

    The client passes one to :meth:`hubassoc.RateLimiter.feedback` for every request it
    sent. Every field is None when the header was missing (and all are None when the
    request got no answer at all: a timeout, a dropped connection, a cancellation).

    Attributes:
        max: ``X-HubSpot-RateLimit-Max``, the requests the app may make per window.
        remaining: ``X-HubSpot-RateLimit-Remaining``, what was left of the window when
            HubSpot admitted the request (the request itself already counted).
        interval: ``X-HubSpot-RateLimit-Interval-Milliseconds``, in seconds.

    Example::

        def feedback(self, info: hubassoc.RateLimitInfo, *, retry_after: float | None) -> None:
            if info.remaining is not None and info.remaining < 5:
                self.slow_down()
    """

    max: int | None = None
    remaining: int | None = None
    interval: float | None = None


@attrs.frozen
class Success:
    """A 2xx; ``data`` is the parsed JSON, or None when there was no body."""

    data: Any


@attrs.frozen
class Retry:
    """Worth another attempt. ``wait`` is the server's own wait, never to be jittered."""

    reason: str
    status: int | None = None
    wait: float | None = None
    rate_limited: bool = False
    body: ErrorBody = attrs.Factory(ErrorBody)


@attrs.frozen
class Fatal:
    """Stops the whole operation: retrying or continuing cannot help."""

    error: HubSpotError


@attrs.frozen
class ChunkFailure:
    """This chunk failed for good (a 4xx such as 400); the others go on."""

    reason: str
    status: int
    body: ErrorBody


Outcome = Success | Retry | Fatal | ChunkFailure


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def parse_error_body(body: bytes) -> ErrorBody:
    """Read HubSpot's error body; anything unreadable (a gateway's HTML page) is empty."""
    try:
        data = loads(body) if body else None
    except JSON_DECODE_ERRORS:
        return ErrorBody()
    if not isinstance(data, Mapping):
        return ErrorBody()
    details = data.get("errors")
    detail_contexts = (
        [structure_context(d.get("context")) for d in details if isinstance(d, Mapping)]
        if isinstance(details, list)
        else []
    )
    sub = data.get("subCategory")
    return ErrorBody(
        message=_str_or_none(data.get("message")),
        category=_str_or_none(data.get("category") or data.get("errorType")),
        sub_category=sub if isinstance(sub, str) else None,
        correlation_id=_str_or_none(data.get("correlationId")),
        policy_name=_str_or_none(data.get("policyName")),
        context=structure_context(data.get("context")),
        detail_contexts=detail_contexts,
    )


def missing_scopes(body: ErrorBody) -> list[str]:
    """Scopes named by a 403, from whichever key and level HubSpot used."""
    found: list[str] = []
    for context in (body.context, *body.detail_contexts):
        for key in _SCOPE_KEYS:
            found.extend(context.get(key, ()))
    return list(dict.fromkeys(found))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds):
        return None
    return max(seconds, 0.0)


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def parse_rate_limit_headers(headers: Mapping[str, str]) -> RateLimitInfo:
    """Read ``X-HubSpot-RateLimit-Max/-Remaining/-Interval-Milliseconds``."""
    interval_ms = _header_int(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
    return RateLimitInfo(
        max=_header_int(headers, "X-HubSpot-RateLimit-Max"),
        remaining=_header_int(headers, "X-HubSpot-RateLimit-Remaining"),
        interval=interval_ms / 1000 if interval_ms and interval_ms > 0 else None,
    )


def _message(body: ErrorBody, status: int) -> str:
    return body.message or f"HubSpot answered HTTP {status}"


def classify(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    decode: Callable[[bytes], Any] = loads,
) -> Outcome:
    """Decide what one HTTP answer means. ``headers`` must be case-insensitive.

    A 2xx body is decoded by ``decode`` (the plan's own, which may decode the endpoint's
    usual answer into something other than plain JSON values).
    """
    if 200 <= status < 300:
        # Any 2xx is success: HubSpot has changed 201 to 200 under live clients before.
        if not body.strip():
            return Success(None)
        try:
            return Success(decode(body))
        except JSON_DECODE_ERRORS:
            return Retry(f"HTTP {status} with a body that is not valid JSON", status)

    error = parse_error_body(body)
    correlation_id = error.correlation_id or headers.get("X-HubSpot-Correlation-Id")
    if correlation_id != error.correlation_id:
        error = attrs.evolve(error, correlation_id=correlation_id)
    message = _message(error, status)
    if status == 401:
        return Fatal(
            AuthenticationError(
                message, status=401, category=error.category, correlation_id=correlation_id
            )
        )
    if status == 403:
        return Fatal(
            ForbiddenError(
                message,
                missing_scopes=missing_scopes(error),
                category=error.category,
                correlation_id=correlation_id,
            )
        )
    if status == 429:
        if (error.policy_name or "").upper() == "DAILY":
            return Fatal(
                RateLimitError(
                    message,
                    policy_name=error.policy_name,
                    category=error.category,
                    correlation_id=correlation_id,
                )
            )
        wait = parse_retry_after(headers.get("Retry-After"))
        if wait is None:
            secondly = (error.policy_name or "").upper() == "SECONDLY"
            wait = 1.0 if secondly else parse_rate_limit_headers(headers).interval or DEFAULT_WINDOW
        return Retry(
            f"HTTP 429 {error.policy_name or 'rate limit'}",
            429,
            wait,
            rate_limited=True,
            body=error,
        )
    if status in RETRY_STATUSES:
        wait = parse_retry_after(headers.get("Retry-After"))
        if status == 423:
            wait = max(wait or 0.0, LOCKED_MIN_WAIT)
        return Retry(f"HTTP {status}", status, wait, body=error)
    if status >= 400:
        return ChunkFailure(message, status, error)
    # 1xx/3xx: aiohttp follows redirects, so this is a proxy or an API change.
    return ChunkFailure(f"unexpected HTTP {status}", status, error)
