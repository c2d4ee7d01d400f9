"""OAuth as HubSpot does it: a token endpoint, access tokens that expire, refresh tokens.

:class:`OAuthApp` configures it; the emulator's state lives in :class:`_OAuthState`,
and what tests read and do to it in the :class:`_OAuthControls` mixin.
Access tokens are random strings the emulator remembers with their expiry; once past
it, a request gets HubSpot's 401 ``EXPIRED_AUTHENTICATION`` body.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Final

import attrs

from hubassoc.testing._replies import _dumps, _Reply

#: The token endpoint's paths: v1 (deprecated 2027-02-16), v3, and the dated one.
TOKEN_PATHS: Final = ("/oauth/v1/token", "/oauth/v3/token", "/oauth/2026-03/token")


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


@attrs.frozen
class OAuthApp:
    """A public app installed in the emulated portal, for OAuth tests.

    With ``FakeHubSpot(oauth=OAuthApp(...))`` the emulator serves HubSpot's token
    endpoint (``POST /oauth/v1/token``, ``/oauth/v3/token``, ``/oauth/2026-03/token``,
    form-encoded ``grant_type=refresh_token``) and accepts the access tokens it issued
    until ``token_lifetime`` seconds have passed.

    Attributes:
        client_id: the app's client id.
        client_secret: the app's client secret.
        refresh_token: the installation's first refresh token.
        token_lifetime: seconds an access token is valid (HubSpot: 1,800).
        rotate_refresh_tokens: hand out a new refresh token with every refresh and
            stop accepting the old one.
    """

    client_id: str
    client_secret: str = attrs.field(repr=False)
    refresh_token: str = attrs.field(repr=False)
    token_lifetime: float = attrs.field(default=1800.0, validator=_positive)
    rotate_refresh_tokens: bool = False


class _OAuthState:
    """Issued tokens and counters of one emulator."""

    def __init__(self, app: OAuthApp) -> None:
        self.app = app
        self.refresh_tokens: set[str] = {app.refresh_token}
        self.access: dict[str, float] = {}
        self.refreshes = 0
        self.refused = 0

    def check(self, credential: str) -> float | bool | None:
        """True if valid, the expiry (monotonic) if expired, None if never issued."""
        expiry = self.access.get(credential)
        if expiry is None:
            return None
        return True if time.monotonic() < expiry else expiry

    def expire_all(self) -> None:
        now = time.monotonic()
        for token in self.access:
            self.access[token] = min(self.access[token], now)

    def grant(self, form: dict[str, str], correlation_id: str) -> _Reply:
        app = self.app
        if form.get("grant_type") != "refresh_token":
            return self._refuse(
                "BAD_GRANT_TYPE", "grant_type must be refresh_token", correlation_id
            )
        if form.get("client_id") != app.client_id:
            return self._refuse("BAD_CLIENT_ID", "missing or unknown client id", correlation_id)
        if not secrets.compare_digest(form.get("client_secret", ""), app.client_secret):
            return self._refuse(
                "BAD_CLIENT_SECRET", "missing or invalid client secret", correlation_id
            )
        refresh = form.get("refresh_token", "")
        if refresh not in self.refresh_tokens:
            return self._refuse(
                "BAD_REFRESH_TOKEN", "missing or unknown refresh token", correlation_id
            )
        if app.rotate_refresh_tokens:
            self.refresh_tokens.discard(refresh)
            refresh = f"emu-rt-{secrets.token_hex(12)}"
            self.refresh_tokens.add(refresh)
        access = f"emu-at-{secrets.token_hex(16)}"
        self.access[access] = time.monotonic() + app.token_lifetime
        self.refreshes += 1
        lifetime = app.token_lifetime
        body = {
            "token_type": "bearer",
            "refresh_token": refresh,
            "access_token": access,
            "expires_in": int(lifetime) if float(lifetime).is_integer() else lifetime,
        }
        return _Reply(200, _dumps(body))

    def _refuse(self, status: str, message: str, correlation_id: str) -> _Reply:
        self.refused += 1
        body = {"status": status, "message": message, "correlationId": correlation_id}
        return _Reply(400, _dumps(body))


class _OAuthControls:
    """What tests see of the OAuth app and do to it: a mixin of :class:`FakeHubSpot`."""

    _oauth: _OAuthState | None

    @property
    def token_refreshes(self) -> int:
        """Access tokens issued by the OAuth token endpoint."""
        return self._oauth.refreshes if self._oauth is not None else 0

    @property
    def refresh_tokens(self) -> set[str]:
        """Refresh tokens the OAuth endpoint accepts now (with ``oauth=``)."""
        return set(self._oauth.refresh_tokens) if self._oauth is not None else set()

    @property
    def access_tokens(self) -> list[str]:
        """Every access token the OAuth endpoint issued, in order."""
        return list(self._oauth.access) if self._oauth is not None else []

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far expired, as if its lifetime had passed."""
        self._require_oauth().expire_all()

    def revoke_refresh_tokens(self) -> None:
        """Stop accepting every refresh token (as when the app is uninstalled)."""
        self._require_oauth().refresh_tokens.clear()

    def grant_refresh_token(self, refresh_token: str) -> None:
        """Accept ``refresh_token`` from now on (as when the app is installed again)."""
        self._require_oauth().refresh_tokens.add(refresh_token)

    def _require_oauth(self) -> _OAuthState:
        if self._oauth is None:
            raise RuntimeError("FakeHubSpot was created without oauth=OAuthApp(...)")
        return self._oauth


def _expired_reply(correlation_id: str, expiry: float) -> _Reply:
    """HubSpot's 401 for an OAuth access token past its expiry."""
    ago = max(0, int(time.monotonic() - expiry))
    when = datetime.now(UTC) - timedelta(seconds=time.monotonic() - expiry)
    stamp = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = {
        "status": "error",
        "message": f"The OAuth token used to make this call expired {ago} second(s) ago.",
        "correlationId": correlation_id,
        "category": "EXPIRED_AUTHENTICATION",
        "context": {"expire time": [stamp]},
    }
    return _Reply(401, _dumps(body))
