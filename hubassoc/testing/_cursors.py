"""Batch-read paging cursors: opaque to clients, ``offset:from_id`` underneath.

URL-safe base64 with ``=`` written as ``%3D``, as HubSpot's cursors look. Only the exact
string the emulator would make is accepted back, so edited or made-up cursors fail.
"""

from __future__ import annotations

import binascii
from typing import Final

_TO_URLSAFE: Final = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE: Final = bytes.maketrans(b"-_", b"+/")


def _cursor_bytes(offset: int, from_id: str) -> bytes:
    """URL-safe base64 of ``offset:from_id`` with ``=`` as ``%3D``, ASCII bytes.

    binascii and a translation table rather than :mod:`base64`, whose Python
    wrappers cost more than the encoding: a rate-limited read makes 1,000 a page.
    """
    raw = binascii.b2a_base64(f"{offset}:{from_id}".encode(), newline=False)
    return raw.translate(_TO_URLSAFE).replace(b"=", b"%3D")


def _encode_cursor(offset: int, from_id: str) -> str:
    return _cursor_bytes(offset, from_id).decode("ascii")


def _decode_cursor(after: str) -> tuple[int, str] | None:
    try:
        canonical = after.replace("=", "%3D").encode("ascii")
        raw = canonical.replace(b"%3D", b"=").translate(_FROM_URLSAFE)
        text = binascii.a2b_base64(raw).decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeError is a ValueError
        return None
    offset_text, sep, from_id = text.partition(":")
    if not sep or not offset_text.isdigit():
        return None
    offset = int(offset_text)
    # Only canonical cursors are accepted, so edited or made-up strings are rejected.
    if _cursor_bytes(offset, from_id) != canonical:
        return None
    return offset, from_id
