"""The thin aiohttp layer: session ownership, concurrency bound, rate limiter, retries.

One :meth:`Transport.post` is one chunk call: every attempt takes a slot of the
client-wide concurrency bound, then a slot of the rate limiter (in that order, so the
limiter's clock reads when the request really starts), sends, reads the answer and
hands it to :func:`hubassoc._classify.classify`. aiohttp exceptions never leave this
module: their reprs carry the request headers, and so the token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import attrs

from ._auth import EXPIRED_AUTHENTICATION, _Credentials
from ._classify import (
    ChunkFailure,
    Fatal,
    RateLimitInfo,
    Retry,
    Success,
    classify,
    parse_rate_limit_headers,
)
from ._codec import loads
from ._exceptions import AuthenticationError, ClientClosedError
from ._ratelimit import RateLimiter
from ._retry import RetryableError, RetryPolicy, with_retries
from ._version import __version__

logger = logging.getLogger("hubassoc")
_NO_RATE_INFO = RateLimitInfo()

#: What a chunk call ends with: parsed data, a failure of this chunk, or (a Retry) the
#: last reason after the retries ran out.
CallOutcome = Success | ChunkFailure | Retry


@attrs.define
class CallStats:
    """Requests sent and retries made, counted per operation for progress reports."""

    calls: int = 0
    retries: int = 0


def _rate_info(headers: Any) -> RateLimitInfo:
    if "X-HubSpot-RateLimit-Remaining" in headers:
        return parse_rate_limit_headers(headers)
    return _NO_RATE_INFO


class Transport:
    """Sends chunk calls for one client; shared by all of that client's operations."""

    def __init__(
        self,
        *,
        credentials: _Credentials,
        base_url: str,
        session: aiohttp.ClientSession | None,
        timeout: float,
        max_concurrency: int,
        limiter: RateLimiter,
        retry_policy: RetryPolicy,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_concurrency = max_concurrency
        self.limiter = limiter
        self.retry_policy = retry_policy
        self._credentials = credentials
        # The Authorization header is added per request: an OAuth token changes.
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"hubassoc/{__version__}",
        }
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._slots = asyncio.Semaphore(max_concurrency)

    def __repr__(self) -> str:
        return f"<Transport {self.base_url}>"

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._closed

    def open(self) -> aiohttp.ClientSession:
        """The session, created on first use inside the running loop."""
        if self._closed:
            raise ClientClosedError("this hubassoc.Client is closed; create a new one")
        if self._session is None:
            # aiohttp binds a session to the running loop, so it cannot be made in __init__.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=max(self.max_concurrency, 10)),
            )
        elif self._session.closed:
            # A borrowed session closed by its owner: say so, not aiohttp's bare RuntimeError.
            raise ClientClosedError("the aiohttp session passed as session= has been closed")
        return self._session

    async def close(self) -> None:
        """Close the session if this transport created it; a borrowed one stays open."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()

    async def post(
        self,
        path: str,
        body: bytes | None,
        *,
        size: int,
        timeout: float | None = None,
        stats: CallStats | None = None,
        method: str = "POST",
        decode: Callable[[bytes], Any] = loads,
    ) -> CallOutcome:
        """Send one chunk (``method`` defaults to POST), with retries; raise only errors that stop everything.

        ``decode`` turns a 2xx body into what the plan parses; a body it cannot decode
        is retried like any other garbled answer.
        """
        url = self.base_url + path
        client_timeout = aiohttp.ClientTimeout(
            total=timeout if timeout is not None else self.timeout
        )
        stats = stats if stats is not None else CallStats()
        attempts = 0

        async def attempt() -> Success | ChunkFailure:
            nonlocal attempts
            attempts += 1
            stats.calls += 1
            if attempts > 1:
                stats.retries += 1
            outcome = await self._attempt(method, url, body, client_timeout, decode)
            if isinstance(outcome, Retry):
                raise RetryableError(outcome)
            if isinstance(outcome, Fatal):
                raise outcome.error from None
            return outcome

        try:
            return await with_retries(
                attempt,
                self.retry_policy,
                describe=lambda: f"{method} {path} ({size} inputs)",
            )
        except RetryableError as exc:
            return attrs.evolve(
                exc.retry, reason=f"{exc.retry.reason}; gave up after {attempts} attempt(s)"
            )

    async def _attempt(
        self,
        method: str,
        url: str,
        body: bytes | None,
        timeout: aiohttp.ClientTimeout,
        decode: Callable[[bytes], Any],
    ) -> Success | ChunkFailure | Retry | Fatal:
        session = self.open()
        sent: list[str] = []

        async def token() -> str:
            # Asked for once the request has its slots, right before it is sent: a token
            # taken before waiting for them could expire while the request waits.
            value = await self._credentials.token(session, self.base_url)
            sent.append(value)
            return value

        outcome = await self._send(session, method, url, body, timeout, token, decode)
        if (
            sent
            and isinstance(outcome, Fatal)
            and isinstance(outcome.error, AuthenticationError)
            and outcome.error.category == EXPIRED_AUTHENTICATION
        ):
            # An access token can expire between our clock and HubSpot's: get a new one
            # (one refresh however many requests met it) and send this request again.
            fresh = await self._credentials.renewed(session, self.base_url, sent[-1])
            if fresh is not None:
                outcome = await self._send(session, method, url, body, timeout, token, decode)
        return outcome

    async def _send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        body: bytes | None,
        timeout: aiohttp.ClientTimeout,
        token: Callable[[], Awaitable[str]],
        decode: Callable[[bytes], Any],
    ) -> Success | ChunkFailure | Retry | Fatal:
        async with self._slots:
            await self.limiter.acquire()
            reported = finished = False
            try:
                headers_out = {**self._headers, "Authorization": f"Bearer {await token()}"}
                async with session.request(
                    method,
                    url,
                    data=body,
                    headers=headers_out,
                    timeout=timeout,
                    raise_for_status=False,
                ) as response:
                    status = response.status
                    headers: Any = response.headers
                    if status != 429:
                        # HubSpot admitted the request before it began to answer: the
                        # limiter hears of it now, not after the body (tens of ms later).
                        self.limiter.feedback(_rate_info(headers), retry_after=None)
                        reported = True
                    raw = await response.read()
                finished = True
            except TimeoutError:
                return Retry(f"no answer within {timeout.total}s")
            except aiohttp.ClientError as exc:
                # The class name says enough; str(exc) of some aiohttp errors names headers.
                return Retry(f"connection failed ({type(exc).__name__})")
            finally:
                if not (finished or reported):
                    # Failed or cancelled: the server may have counted it, until now at
                    # the latest. Every acquire() gets one feedback(), whatever happens.
                    self.limiter.feedback(_NO_RATE_INFO, retry_after=None)
        outcome = classify(status, headers, raw, decode)
        if not reported:
            # A 429: its wait comes from the body (the policy) as much as the headers.
            retry_after = (
                outcome.wait if isinstance(outcome, Retry) and outcome.rate_limited else None
            )
            self.limiter.feedback(_rate_info(headers), retry_after=retry_after)
        return outcome
