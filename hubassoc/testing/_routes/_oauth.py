"""HubSpot's OAuth token endpoint (refresh grant), served when the emulator has an app."""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import parse_qsl

from hubassoc.testing._oauth import TOKEN_PATHS
from hubassoc.testing._replies import _Reply
from hubassoc.testing._routes._base import _Call, _Endpoint

_TOKEN_RE: Final = re.compile("|".join(re.escape(p) for p in TOKEN_PATHS))


def _parse_token(call: _Call) -> dict[str, str] | _Reply:
    if call.oauth is None:
        return call.error(404, "This portal has no OAuth app installed.")
    try:
        return dict(parse_qsl(call.raw.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return call.error(400, "The body must be form-encoded.", "body")


def _apply_token(call: _Call, form: dict[str, str]) -> _Reply:
    assert call.oauth is not None
    return call.oauth.grant(form, call.correlation_id)


_ENDPOINTS: Final[tuple[_Endpoint[Any], ...]] = (
    _Endpoint("oauth_token", "POST", _TOKEN_RE, _parse_token, _apply_token, authenticated=False),
)
