"""The JSON codec: the stdlib's, or a faster one when the ``[speed]`` extra is installed.

Every body hubassoc sends or reads goes through :func:`dumps` and :func:`loads`; a 2xx
body that does not decode raises one of :data:`JSON_DECODE_ERRORS`, which the transport
retries. Knows nothing about HubSpot's envelopes or hubassoc's models.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while a large page is decoded or structured.

    Why: a 1,000-id page is tens of thousands of fresh containers that cannot form
    cycles. Collections triggered half-way through only promote them (and the results
    kept so far) to older generations, and that promotion is what sets off full
    collections of the whole heap, again and again as a large read grows: measured on a
    20,000-id read (248,000 associations), 12 full collections took 0.8-1.1 s of 1.3-1.6 s
    of client CPU; with this pause, 1 took 0.08 s. Reference counting still frees
    everything as usual, and the collector runs normally right after.

    The switch is process-wide, so it is only flipped by whoever found it on, and always
    flipped back, even on an error; a caller that disabled the collector keeps it off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


#: Bodies at least this large are decoded with the collector paused (see gc_paused);
#: below it the pause buys nothing measurable.
GC_PAUSE_MIN_BYTES = 32 * 1024

try:  # msgspec is optional (`pip install hubassoc[speed]`): same results, less CPU.
    import msgspec

    _decode: Callable[[bytes], Any] = msgspec.json.Decoder().decode
    _encode = msgspec.json.Encoder().encode

    def dumps(obj: Any) -> bytes:
        """Encode to JSON bytes."""
        return _encode(obj)

    #: What decoding a body that is not JSON raises.
    JSON_DECODE_ERRORS: tuple[type[Exception], ...] = (msgspec.DecodeError, UnicodeDecodeError)
except ImportError:  # pragma: no cover - tests/test_typed_pages.py runs this in a subprocess
    _decode = json.loads

    def dumps(obj: Any) -> bytes:
        """Encode to JSON bytes."""
        return json.dumps(obj, separators=(",", ":")).encode()

    JSON_DECODE_ERRORS = (json.JSONDecodeError, UnicodeDecodeError)


def decode_with(decode: Callable[[bytes], T], data: bytes) -> T:
    """``decode(data)``, with the collector paused if ``data`` is large (see gc_paused)."""
    if len(data) < GC_PAUSE_MIN_BYTES:
        return decode(data)
    with gc_paused():
        return decode(data)


def loads(data: bytes) -> Any:
    """Decode JSON bytes; a large body is decoded with the collector paused."""
    return decode_with(_decode, data)
