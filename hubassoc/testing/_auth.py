"""Who may call the emulator: the bearer token check."""

from __future__ import annotations

import hmac


def _authorised(header: str | None, token: str | None) -> bool:
    """Whether an ``Authorization`` header carries a bearer token the emulator accepts.

    With ``token=None`` any non-empty bearer token is accepted.
    """
    if header is None:
        return False
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        return False
    if token is None:
        return True
    return hmac.compare_digest(credential.encode(), token.encode())
