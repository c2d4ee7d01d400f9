"""Batch-read answers decoded by msgspec straight into structs (the ``[speed]`` extra).

A batch-read page is mostly to-objects, and decoding each into a dict only to read two
of its keys is most of the cost of a read: decoded into the structs below, the same
page costs a third as much, and what HubSpot sends beyond them is skipped unread.
The structs are as strict as the usual answer is regular: anything else (an id sent as
a number, a cursor that is not a string, a missing key) fails to decode here, and
:mod:`hubassoc._pages` takes that page down its dict path, which checks every value
and names what cannot be believed. Each to-object's ``associationTypes`` is kept as
its raw JSON, so a page whose to-objects all carry the same types (the usual page) is
checked by comparing bytes and parsed once.

Importing this module fails without msgspec; every page then takes the dict path.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ._codec import decode_with

__all__ = ["ReadPage", "decode_read_page"]


class _From(msgspec.Struct, gc=False):
    id: str


class _Next(msgspec.Struct, gc=False):
    after: str


class _Paging(msgspec.Struct, gc=False):
    next: _Next | None = None


class _To(msgspec.Struct, gc=False, rename="camel"):
    to_object_id: int
    association_types: msgspec.Raw


class _Result(msgspec.Struct, gc=False, kw_only=True):
    from_: _From = msgspec.field(name="from")
    to: list[_To]
    paging: _Paging | None = None


class ReadPage(msgspec.Struct, gc=False, rename="camel"):
    """One batch-read answer: typed results, every other field as plain JSON values.

    Nothing in a decoded JSON document can refer back to itself, so no instance is
    part of a reference cycle and none needs the garbage collector's tracking.
    """

    results: list[_Result] | None = None
    status: Any = None
    #: Left as JSON text: decoded when the page is parsed, one page at a time, instead
    #: of as soon as its answer arrives (a thousand "no associations" errors are ten
    #: times the bytes of their JSON, and the answers of every call in flight arrive
    #: before the first of them is parsed).
    errors: msgspec.Raw = msgspec.Raw(b"null")
    requested_at: Any = None
    started_at: Any = None
    completed_at: Any = None
    links: Any = None


_DECODER = msgspec.json.Decoder(ReadPage)


def decode_read_page(body: bytes) -> ReadPage | None:
    """``body`` as a :class:`ReadPage`, or None if it is JSON of another shape.

    Raises ``msgspec.DecodeError`` (one of ``JSON_DECODE_ERRORS``) if it is not JSON.
    """
    try:
        return decode_with(_DECODER.decode, body)
    except msgspec.ValidationError:
        return None
