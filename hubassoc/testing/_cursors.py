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
    # isdigit() alone admits digits int() refuses, such as "²".
    if not sep or not (offset_text.isascii() and offset_text.isdigit()):
        return None
    offset = int(offset_text)
    # Only canonical cursors are accepted, so edited or made-up strings are rejected.
    if _cursor_bytes(offset, from_id) != canonical:
        return None
    return offset, from_id


# A round of 20 concurrent 1,000-id pages fits in one generation; both take < 10 MB.
_GENERATION: Final = 25_000


class _Issued:
    """Cursors handed out lately, by their text, with what they decode to.

    A next page's cursor is nearly always one handed out shortly before, and a
    look-up costs a tenth of :func:`_decode_cursor`. Two generations of at most
    :data:`_GENERATION` cursors each bound the memory; an older cursor, or one
    sent back with ``=`` for ``%3D``, is decoded as usual.
    """

    __slots__ = ("new", "old")

    def __init__(self) -> None:
        self.new: dict[str, tuple[int, str]] = {}
        self.old: dict[str, tuple[int, str]] = {}

    def add(self, cursor: bytes, offset: int, from_id: str) -> None:
        """Remember ``cursor``, made by :func:`_cursor_bytes` from ``offset, from_id``."""
        if len(self.new) >= _GENERATION:
            self.old, self.new = self.new, {}
        self.new[cursor.decode("ascii")] = (offset, from_id)

    def decode(self, after: str) -> tuple[int, str] | None:
        """What :func:`_decode_cursor` gives for ``after``."""
        return self.new.get(after) or self.old.get(after) or _decode_cursor(after)

    def clear(self) -> None:
        self.new.clear()
        self.old.clear()
