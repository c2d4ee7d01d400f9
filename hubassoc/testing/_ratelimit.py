"""The emulator's rate limits: a rolling window, a daily budget, and their headers."""

from __future__ import annotations

import collections
from typing import Final

from hubassoc.testing._replies import _dumps, _Reply

# HubSpot's private-app burst limit, used for 429 headers when no window is configured.
_DEFAULT_WINDOW: Final = (100, 10.0)


def _ten_secondly_reply(correlation_id: str, rate_limit: tuple[int, float] | None) -> _Reply:
    max_requests, interval = rate_limit or _DEFAULT_WINDOW
    body = {
        "status": "error",
        "message": "You have reached your ten_secondly_rolling limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id,
        "policyName": "TEN_SECONDLY_ROLLING",
        "groupName": "publicapi:private-app-api-calls-ten-secondly:0",
    }
    headers = {
        "X-HubSpot-RateLimit-Max": str(max_requests),
        "X-HubSpot-RateLimit-Remaining": "0",
        "X-HubSpot-RateLimit-Interval-Milliseconds": str(round(interval * 1000)),
    }
    return _Reply(429, _dumps(body), headers=headers)


def _daily_reply(correlation_id: str) -> _Reply:
    body = {
        "status": "error",
        "message": "You have reached your daily limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id,
        "policyName": "DAILY",
        "groupName": "publicapi:private-app-api-calls-daily:0",
    }
    return _Reply(429, _dumps(body))


class _Limiter:
    """Arrival times inside the rolling window and the requests counted today.

    The limits themselves are read on every call, so changing them on a running
    emulator takes effect at the next request.
    """

    __slots__ = ("daily_used", "window")

    def __init__(self) -> None:
        self.window: collections.deque[float] = collections.deque()
        self.daily_used = 0

    def clear(self) -> None:
        self.window.clear()
        self.daily_used = 0

    def _prune(self, now: float, rate_limit: tuple[int, float] | None) -> None:
        if rate_limit is None:
            return
        horizon = now - rate_limit[1]
        window = self.window
        while window and window[0] <= horizon:
            window.popleft()

    def _headers(
        self, rate_limit: tuple[int, float] | None, daily_limit: int | None
    ) -> dict[str, str]:
        headers: dict[str, str] = {}
        if rate_limit is not None:
            max_requests, interval = rate_limit
            headers["X-HubSpot-RateLimit-Max"] = str(max_requests)
            headers["X-HubSpot-RateLimit-Remaining"] = str(max(0, max_requests - len(self.window)))
            headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(round(interval * 1000))
        if daily_limit is not None:
            headers["X-HubSpot-RateLimit-Daily"] = str(daily_limit)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(
                max(0, daily_limit - self.daily_used)
            )
        return headers

    def peek(
        self, now: float, rate_limit: tuple[int, float] | None, daily_limit: int | None
    ) -> dict[str, str]:
        """The headers as they stand, without counting a request."""
        self._prune(now, rate_limit)
        return self._headers(rate_limit, daily_limit)

    def admit(
        self,
        now: float,
        correlation_id: str,
        rate_limit: tuple[int, float] | None,
        daily_limit: int | None,
    ) -> tuple[_Reply | None, dict[str, str]]:
        """Count one request, or return the 429 that refuses it; with the headers."""
        self._prune(now, rate_limit)
        if daily_limit is not None and self.daily_used >= daily_limit:
            return _daily_reply(correlation_id), self._headers(rate_limit, daily_limit)
        if rate_limit is not None and len(self.window) >= rate_limit[0]:
            reply = _ten_secondly_reply(correlation_id, rate_limit)
            return reply, self._headers(rate_limit, daily_limit)
        if rate_limit is not None:
            self.window.append(now)
        self.daily_used += 1
        return None, self._headers(rate_limit, daily_limit)
