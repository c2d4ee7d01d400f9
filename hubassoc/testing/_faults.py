"""Failures the emulator can be told to produce: random :class:`Faults` and scripted rules."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from hubassoc.testing._ratelimit import _ten_secondly_reply
from hubassoc.testing._replies import (
    _JSON,
    _dumps,
    _envelope,
    _error_reply,
    _now_iso,
    _Reply,
    _scopes_reply,
)


def _check_probability(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value!r}")


def _check_non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _check_optional_non_negative(
    instance: object, attribute: attrs.Attribute[float | None], value: float | None
) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _check_status(status: int) -> None:
    if not 100 <= status <= 599:
        raise ValueError(f"status must be an HTTP status code, got {status!r}")


@attrs.frozen
class Faults:
    """Random transport and server faults injected by :class:`FakeHubSpot`.

    Each arriving request draws its fate from one ``random.Random(seed)`` owned
    by the emulator, in arrival order and whether or not the fault ends up
    applying, so the k-th request always gets the k-th decision and a seed
    replays the same outcomes for the same sequence of requests.
    ``rate_limit``, ``server_error``, ``disconnect`` and ``truncated`` are
    mutually exclusive outcomes (their sum must not exceed 1); ``slow`` is drawn
    independently and delays any request by ``slow_seconds``. Faults never
    touch a request that a scripted rule (``fail_next``, ``fail_ids``,
    ``missing_scopes``, authentication), the rate limiter or input validation
    already answered. Assigning :attr:`FakeHubSpot.faults` or calling
    :meth:`FakeHubSpot.reset` re-seeds the generator.

    Attributes:
        seed: Seed of the emulator's random generator.
        rate_limit: Probability of a 429 ``TEN_SECONDLY_ROLLING`` answer.
        retry_after: Value of the ``Retry-After`` header on those 429s (omitted when None).
        server_error: Probability of a 500, 502, 503 or 504; 502 and 503 carry an
            HTML gateway page instead of JSON. Nothing is applied.
        disconnect: Probability that the connection is closed without a response;
            half of these happen after the request was applied, half before.
        truncated: Probability of a 200 whose JSON body is cut in half, sent after
            the request was applied.
        slow: Probability of an extra delay of ``slow_seconds`` before answering.
        slow_seconds: Length of that delay.
    """

    seed: int = 0
    rate_limit: float = attrs.field(default=0.0, validator=_check_probability)
    retry_after: float | None = attrs.field(default=None, validator=_check_optional_non_negative)
    server_error: float = attrs.field(default=0.0, validator=_check_probability)
    disconnect: float = attrs.field(default=0.0, validator=_check_probability)
    truncated: float = attrs.field(default=0.0, validator=_check_probability)
    slow: float = attrs.field(default=0.0, validator=_check_probability)
    slow_seconds: float = attrs.field(default=0.5, validator=_check_non_negative)

    def __attrs_post_init__(self) -> None:
        total = self.rate_limit + self.server_error + self.disconnect + self.truncated
        if total > 1.0 + 1e-9:
            raise ValueError(
                "rate_limit + server_error + disconnect + truncated must not exceed 1, "
                f"got {total!r}"
            )


def _fault_kind(faults: Faults, u: float) -> str | None:
    threshold = 0.0
    for kind, probability in (
        ("rate_limit", faults.rate_limit),
        ("server_error", faults.server_error),
        ("disconnect", faults.disconnect),
        ("truncated", faults.truncated),
    ):
        threshold += probability
        if u < threshold:
            return kind
    return None


@attrs.define(slots=True)
class _FailRule:
    remaining: int
    status: int
    body: bytes | None
    headers: dict[str, str]
    path_contains: str | None


def _scripted_reply(
    status: int,
    correlation_id: str,
    body: bytes | None,
    headers: Mapping[str, str],
    *,
    scopes: list[str],
    rate_limit: tuple[int, float] | None,
) -> _Reply:
    """The answer a scripted failure gives: ``body`` as is, or HubSpot's body for ``status``."""
    if body is not None:
        stripped = body.lstrip()
        content_type = _JSON if stripped[:1] in (b"{", b"[") else "text/plain"
        reply = _Reply(status, body, content_type)
    elif status == 429:
        reply = _ten_secondly_reply(correlation_id, rate_limit)
    elif status == 403:
        reply = _scopes_reply(correlation_id, scopes or ["crm.objects.contacts.read"])
    elif 200 <= status < 300:
        reply = _Reply(status, b"" if status == 204 else _dumps(_envelope([], [], _now_iso())))
    else:
        reply = _error_reply(status, correlation_id)
    reply.headers.update(headers)
    return reply
