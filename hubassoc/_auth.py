"""Where the access token comes from: a fixed string, your own callable, or OAuth refresh.

The transport asks :class:`_Credentials` for a token before every request and tells it
when HubSpot answered 401 ``EXPIRED_AUTHENTICATION``. For :class:`OAuthToken` the
refresh is single-flight: however many requests are in flight, one exchange at the
token endpoint serves them all. No token, secret or refresh token is ever put in a
repr, a log line or an exception.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import os
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

import aiohttp
import attrs

from ._codec import JSON_DECODE_ERRORS, loads
from ._exceptions import AuthenticationError, InvalidInputError

__all__ = ["OAuthToken", "TokenRefreshError"]

logger = logging.getLogger("hubassoc")

TOKEN_ENV: Final = "HUBSPOT_ACCESS_TOKEN"
#: HubSpot's current OAuth token endpoint (v1, ``/oauth/v1/token``, is deprecated
#: from 2027-02-16; both take the same form-encoded body).
DEFAULT_TOKEN_PATH: Final = "/oauth/v3/token"
#: HubSpot's access tokens last 30 minutes; used when an answer gives no ``expires_in``.
DEFAULT_LIFETIME: Final = 1800.0
EXPIRED_AUTHENTICATION: Final = "EXPIRED_AUTHENTICATION"

_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")
_REFRESH_ATTEMPTS = 3

TokenCallable = Callable[[], str | Awaitable[str]]


class TokenRefreshError(AuthenticationError):
    """HubSpot's token endpoint refused to give a new access token.

    ``category`` is HubSpot's code (``BAD_REFRESH_TOKEN`` for a revoked or unknown
    refresh token); nothing retrying can fix it: the app must be re-authorised.
    """


def _clean(token: Any, what: str) -> str:
    if not isinstance(token, str):
        raise InvalidInputError(f"{what} must be a str, got {type(token).__name__}")
    cleaned: str = token.strip()
    # Checked here so a stray newline from a secrets file fails clearly, and not inside
    # aiohttp, whose header-injection error would quote the value.
    if not _TOKEN_CHARS.fullmatch(cleaned):
        raise InvalidInputError(f"{what} is empty or contains spaces or control characters")
    return cleaned


@attrs.define(eq=False)
class OAuthToken:
    """Access tokens for a HubSpot public app, refreshed from its refresh token.

    The first request exchanges ``refresh_token`` at HubSpot's token endpoint
    (form-encoded ``grant_type=refresh_token``); the access token is then reused until
    shortly before ``expires_in`` runs out, and refreshed once more if HubSpot answers
    401 ``EXPIRED_AUTHENTICATION`` anyway (that request is then sent again). Concurrent
    requests share one refresh.

    Args:
        client_id: the app's client id.
        client_secret: the app's client secret (never shown in reprs or logs).
        refresh_token: the refresh token from the app's installation.
        token_url: the token endpoint; default: ``/oauth/v3/token`` on the client's
            ``base_url``.
        on_refresh_token: called with the new refresh token when HubSpot hands one out
            (sync or async), so you can store it; the old one may stop working.
        refresh_margin: seconds before expiry to refresh (at most a fifth of the
            token's lifetime, so very short lifetimes still reuse tokens).

    Example::

        auth = hubassoc.OAuthToken(
            client_id=os.environ["HUBSPOT_CLIENT_ID"],
            client_secret=os.environ["HUBSPOT_CLIENT_SECRET"],
            refresh_token=os.environ["HUBSPOT_REFRESH_TOKEN"],
        )
        async with hubassoc.Client(auth) as client:
            result = await client.read("contacts", "companies", ids)
    """

    client_id: str
    client_secret: str = attrs.field(repr=False)
    refresh_token: str = attrs.field(repr=False)
    token_url: str | None = None
    on_refresh_token: Callable[[str], object] | None = attrs.field(default=None, repr=False)
    refresh_margin: float = 60.0
    _access: str | None = attrs.field(default=None, init=False, repr=False)
    _expires_at: float = attrs.field(default=0.0, init=False, repr=False)
    _lock: asyncio.Lock | None = attrs.field(default=None, init=False, repr=False)
    _lock_loop: asyncio.AbstractEventLoop | None = attrs.field(default=None, init=False, repr=False)
    _refused: tuple[str, TokenRefreshError] | None = attrs.field(
        default=None, init=False, repr=False
    )
    refreshes: int = attrs.field(default=0, init=False)
    """How many times a new access token was fetched."""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.client_id, str) or not self.client_id.strip():
            raise InvalidInputError("client_id must be a non-empty str")
        self.client_secret = _clean(self.client_secret, "client_secret")
        self.refresh_token = _clean(self.refresh_token, "refresh_token")
        if self.token_url is not None and not str(self.token_url).startswith(
            ("http://", "https://")
        ):
            raise InvalidInputError("token_url must be an http(s) URL")
        margin = self.refresh_margin
        if isinstance(margin, bool) or not isinstance(margin, int | float) or not margin >= 0:
            raise InvalidInputError("refresh_margin must be a number >= 0")

    def _the_lock(self) -> asyncio.Lock:
        # Locks bind to a loop; a token object may outlive one asyncio.run().
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock = asyncio.Lock()
            self._lock_loop = loop
        return self._lock

    async def _token(self, session: aiohttp.ClientSession, base_url: str) -> str:
        access = self._access
        if access is not None and time.monotonic() < self._expires_at:
            return access
        return await self._refresh(session, base_url, stale=access)

    async def _refresh(
        self, session: aiohttp.ClientSession, base_url: str, *, stale: str | None
    ) -> str:
        async with self._the_lock():
            # Whoever waited on the lock while another refreshed takes the new token.
            access = self._access
            if access is not None and access != stale and time.monotonic() < self._expires_at:
                return access
            refused = self._refused
            if refused is not None and refused[0] == self.refresh_token:
                # HubSpot already refused this refresh token; asking again cannot help.
                raise refused[1]
            url = self.token_url or base_url.rstrip("/") + DEFAULT_TOKEN_PATH
            try:
                access, lifetime, new_refresh, asked_at = await _exchange(
                    session, url, self.client_id, self.client_secret, self.refresh_token
                )
            except TokenRefreshError as exc:
                if exc.status is not None and 400 <= exc.status < 500:
                    self._refused = (self.refresh_token, exc)
                raise
            self.refreshes += 1
            margin = min(self.refresh_margin, lifetime / 5)
            self._access = access
            # HubSpot's clock for the token starts when it issues it, somewhere between
            # the ask and the answer: counted from the ask, the token is never thought
            # to live longer than it does, however slow the answer.
            self._expires_at = asked_at + max(lifetime - margin, 0.0)
            logger.info("OAuth access token refreshed; valid for %.0fs", lifetime)
            if new_refresh is not None and new_refresh != self.refresh_token:
                self.refresh_token = new_refresh
                if self.on_refresh_token is not None:
                    outcome = self.on_refresh_token(new_refresh)
                    if inspect.isawaitable(outcome):
                        await outcome
            return access


async def _exchange(
    session: aiohttp.ClientSession,
    url: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
) -> tuple[str, float, str | None, float]:
    """Exchange a refresh token: (access token, lifetime in seconds, new refresh token,
    the ``time.monotonic()`` at which the answered request was sent)."""
    form = {
        "grant_type": "refresh_token",
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": refresh_token,
    }
    last = "no answer"
    for attempt in range(_REFRESH_ATTEMPTS):
        if attempt:
            await asyncio.sleep(0.5 * 2 ** (attempt - 1))
        asked_at = time.monotonic()
        try:
            async with session.post(
                url,
                data=form,
                headers={"Accept": "application/json"},
                timeout=aiohttp.ClientTimeout(total=30),
                raise_for_status=False,
            ) as response:
                status = response.status
                raw = await response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            last = f"connection failed ({type(exc).__name__})"
            continue
        data = _json_object(raw)
        if 200 <= status < 300:
            access = data.get("access_token", data.get("accessToken"))
            if not isinstance(access, str) or not _TOKEN_CHARS.fullmatch(access):
                raise TokenRefreshError(
                    "HubSpot's token endpoint answered without a usable access_token",
                    status=status,
                ) from None
            lifetime = _lifetime(data.get("expires_in", data.get("expiresIn")))
            new_refresh = data.get("refresh_token", data.get("refreshToken"))
            kept = new_refresh if isinstance(new_refresh, str) else None
            return access, lifetime, kept, asked_at
        if status >= 500 or status == 429:
            last = f"HTTP {status}"
            continue
        code = data.get("status") if data.get("status") != "error" else data.get("category")
        message = data.get("message")
        raise TokenRefreshError(
            "HubSpot refused the OAuth refresh token"
            + (f": {message}" if isinstance(message, str) and message else ""),
            status=status,
            category=str(code) if code else None,
            correlation_id=_str_or_none(data.get("correlationId")),
        ) from None
    raise TokenRefreshError(f"could not refresh the OAuth access token: {last}") from None


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        data = loads(raw) if raw else {}
    except JSON_DECODE_ERRORS:
        return {}
    return data if isinstance(data, dict) else {}


def _lifetime(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return DEFAULT_LIFETIME
    try:
        seconds = float(value)
    except ValueError:
        return DEFAULT_LIFETIME
    return seconds if math.isfinite(seconds) and seconds > 0 else DEFAULT_LIFETIME


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


TokenSource = str | TokenCallable | OAuthToken | None


class _Credentials:
    """The token for each request, from whichever source the client was given."""

    def __init__(self, source: TokenSource) -> None:
        self._static: str | None = None
        self._call: TokenCallable | None = None
        self._oauth: OAuthToken | None = None
        if source is None:
            env = os.environ.get(TOKEN_ENV)
            if env is None or not env.strip():
                raise InvalidInputError(
                    f"no access token: pass token=... or set the {TOKEN_ENV} environment variable"
                )
            self._static = _clean(env, "token")
        elif isinstance(source, str):
            self._static = _clean(source, "token")
        elif isinstance(source, OAuthToken):
            self._oauth = source
        elif callable(source):
            self._call = source
        else:
            raise InvalidInputError(
                "token must be a str, a callable returning one, a hubassoc.OAuthToken or None"
            )

    def __repr__(self) -> str:
        kind = "oauth" if self._oauth else "callable" if self._call else "static"
        return f"<credentials {kind}>"

    async def token(self, session: aiohttp.ClientSession, base_url: str) -> str:
        """The access token to send now."""
        if self._static is not None:
            return self._static
        if self._oauth is not None:
            return await self._oauth._token(session, base_url)
        assert self._call is not None
        value = self._call()
        if inspect.isawaitable(value):
            value = await value
        return _clean(value, "the token provider's token")

    async def renewed(
        self, session: aiohttp.ClientSession, base_url: str, stale: str
    ) -> str | None:
        """A different token after HubSpot said ``stale`` expired, or None if there is none."""
        if self._oauth is not None:
            return await self._oauth._refresh(session, base_url, stale=stale)
        if self._call is not None:
            fresh = await self.token(session, base_url)
            return fresh if fresh != stale else None
        return None
