"""Input validation: turn what callers pass into clean, deduplicated inputs, or refuse.

Everything here runs before any request is sent, so bad input costs nothing but an
:class:`~hubassoc.InvalidInputError` that says which item was wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import islice
from operator import eq, lt
from typing import Any, cast

from ._exceptions import InvalidInputError
from ._models import AssociationCategory, AssociationSpec

_OBJECT_TYPE = re.compile(r"[A-Za-z0-9_-]+")
Pair = tuple[str, str]
_STR = {str}


def object_type(value: Any, role: str) -> str:
    """Validate an object type such as ``contacts``, ``0-1`` or ``p123_cars``."""
    if not isinstance(value, str) or not _OBJECT_TYPE.fullmatch(value):
        raise InvalidInputError(
            f"{role} object type must be a non-empty string of letters, digits, '_' or '-' "
            f"(like 'contacts' or '0-1'), got {_short(value)}"
        )
    return value


def object_id(value: Any, where: str) -> str:
    """Validate one record id: an int >= 0 or a string of digits, returned as a string.

    HubSpot's record ids are positive integers; answers are held to the same rule
    (:func:`hubassoc._wire.record_id`), so an id that could never come back is refused
    here, before any request is sent.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidInputError(f"{where}: an id must be a str or int, got {type(value).__name__}")
    if isinstance(value, int):
        if value < 0:
            raise InvalidInputError(f"{where}: a record id is not negative, got {value}")
        return str(value)
    text = value.strip()
    if not text:
        raise InvalidInputError(f"{where}: blank id")
    if not (text.isdigit() and text.isascii()):
        raise InvalidInputError(
            f"{where}: a record id is a string of digits (like '101'), got {_short(text)}"
        )
    return text


def digits(text: str) -> bool:
    """Whether ``text`` is one or more ASCII digits.

    Checked on its bytes: on the thousands of ids of a chunk joined into one string,
    ``bytes.isdigit`` is about nine times faster than ``str.isdigit``.
    """
    return text.isascii() and text.encode().isdigit()


def digit_strings(items: Sequence[Any]) -> bool:
    """Whether ``items`` is one or more ids, each a non-empty string of ASCII digits.

    Checked in a few passes in C, the usual input's and answer's shape; anything else
    is for a per-item path to check and name.
    """
    return set(map(type, items)) == _STR and "" not in items and digits("".join(items))


def _iterable(value: Any, what: str) -> Iterable[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidInputError(
            f"{what} must be an iterable (a list, tuple, set...), got {_short(value)}"
        )
    return value


def ids(values: Any) -> list[str]:
    """Validate ids; duplicates are dropped, first occurrence wins."""
    items = _iterable(values, "ids")
    # The usual input, a list of digit strings, checked in a few passes in C: a string
    # of ASCII digits is its own valid form (nothing to strip, not blank).
    if (type(items) is list or type(items) is tuple) and digit_strings(items):
        return _unique(items)
    return _unique([object_id(v, f"ids[{i}]") for i, v in enumerate(items)])


#: Inputs at least this long are checked for repeats by sorting (see _unique).
_SORT_AT = 50_000


def _unique(items: Sequence[str]) -> list[str]:
    """``items`` as a new list, each once, in first-seen order.

    A large input is checked for repeats on a sorted copy of its references (8 bytes an
    id) rather than by hashing every id into a dict (about 40): for a million ids that
    is the difference between 8 MB and 45 MB at the peak of a job whose ids take 60 MB.
    Repeats are rare, so only then is the dict built. Sorting is linear on ids given in
    order and costs about as much as the dict on shuffled ones.
    """
    # Ids in increasing order (a query's ORDER BY, say) repeat none: one pass in C, which
    # stops at once on ids in any other order.
    if all(map(lt, items, islice(items, 1, None))):
        return list(items)
    if len(items) < _SORT_AT:
        return list(dict.fromkeys(items))
    ordered = sorted(items)
    repeats = any(map(eq, ordered, islice(ordered, 1, None)))
    del ordered
    return list(dict.fromkeys(items)) if repeats else list(items)


def _pair(value: Any, where: str) -> Pair:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidInputError(f"{where}: expected a (from_id, to_id) pair, got {_short(value)}")
    items = tuple(value)
    if len(items) != 2:
        raise InvalidInputError(
            f"{where}: expected a (from_id, to_id) pair, got {len(items)} items"
        )
    return object_id(items[0], f"{where}[0]"), object_id(items[1], f"{where}[1]")


def pairs(values: Any) -> list[Pair]:
    """Validate (from_id, to_id) pairs; duplicates are dropped."""
    items = _iterable(values, "pairs")
    plain = _plain_pairs(items)
    if plain is not None:
        return list(dict.fromkeys(plain))
    out = [_pair(v, f"pairs[{i}]") for i, v in enumerate(items)]
    return list(dict.fromkeys(out))


_TUPLE = {tuple}
_TWO = {2}


def _plain_pairs(items: Iterable[Any]) -> Sequence[Pair] | None:
    """The usual input, a list (or tuple) of 2-tuples of digit strings, checked in a few
    passes in C (as :func:`ids` checks its usual input) and returned as given; None for
    anything else, which is then checked pair by pair and named where it is wrong."""
    if not (type(items) is list or type(items) is tuple) or not items:
        return None
    if set(map(type, items)) != _TUPLE or set(map(len, items)) != _TWO:
        return None
    if not all(map(digit_strings, zip(*items, strict=True))):
        return None
    return cast("Sequence[Pair]", items)


def pairs_or_mapping(values: Any) -> list[Pair]:
    """Validate ``{from_id: [to_id, ...]}`` or an iterable of pairs."""
    if isinstance(values, Mapping):
        out: list[Pair] = []
        for key, targets in values.items():
            from_id = object_id(key, f"key {_short(key)}")
            out.extend(
                (from_id, object_id(t, f"[{from_id!r}][{i}]"))
                for i, t in enumerate(_iterable(targets, f"the to-ids of {from_id!r}"))
            )
        return list(dict.fromkeys(out))
    return pairs(values)


def specs(values: Any) -> list[AssociationSpec]:
    """Validate association specs: ``AssociationSpec`` or ``(category, type_id)``."""
    out: list[AssociationSpec] = []
    for i, value in enumerate(_iterable(values, "specs")):
        if isinstance(value, AssociationSpec):
            out.append(value)
            continue
        if isinstance(value, tuple) and len(value) == 2:
            category, type_id = value
            if (
                isinstance(category, str)
                and category
                and isinstance(type_id, int)
                and not isinstance(type_id, bool)
            ):
                out.append(AssociationSpec(AssociationCategory(category), type_id))
                continue
        raise InvalidInputError(
            f"specs[{i}]: expected AssociationSpec(category, type_id), got {_short(value)}"
        )
    return list(dict.fromkeys(out))


def positive_int(value: Any, name: str) -> int:
    """Validate a setting that must be an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{name} must be an int >= 1, got {_short(value)}")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


#: A pair with the association types to create or remove between them.
TypedPair = tuple[str, str, tuple[AssociationSpec, ...]]


def spec(value: Any, where: str) -> AssociationSpec:
    """One association type: an ``AssociationSpec``, anything with ``.spec``, or ``(category, type_id)``."""
    if isinstance(value, AssociationSpec):
        return value
    found = getattr(value, "spec", None)
    if isinstance(found, AssociationSpec):
        return found
    if isinstance(value, tuple) and len(value) == 2:
        category, type_id = value
        if (
            isinstance(category, str)
            and category
            and isinstance(type_id, int)
            and not isinstance(type_id, bool)
        ):
            return AssociationSpec(AssociationCategory(category), type_id)
    raise InvalidInputError(
        f"{where}: expected AssociationSpec(category, type_id), got {_short(value)}"
    )


def _is_single_spec(value: Any) -> bool:
    return (
        isinstance(value, AssociationSpec)
        or isinstance(getattr(value, "spec", None), AssociationSpec)
        or (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str))
    )


def typed_pairs(values: Any) -> list[TypedPair]:
    """Validate ``(from_id, to_id, spec_or_specs)`` items; a repeated pair's specs are merged."""
    merged: dict[Pair, dict[AssociationSpec, None]] = {}
    for i, value in enumerate(_iterable(values, "inputs")):
        where = f"inputs[{i}]"
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise InvalidInputError(
                f"{where}: expected (from_id, to_id, spec or [specs]), got {_short(value)}"
            )
        items = tuple(value)
        if len(items) != 3:
            raise InvalidInputError(
                f"{where}: expected (from_id, to_id, spec or [specs]), got {len(items)} items"
            )
        pair = (object_id(items[0], f"{where}[0]"), object_id(items[1], f"{where}[1]"))
        raw = items[2]
        many = [raw] if _is_single_spec(raw) else list(_iterable(raw, f"{where}[2]"))
        if not many:
            raise InvalidInputError(f"{where}[2]: at least one association type is needed")
        specs_of = merged.setdefault(pair, {})
        for j, item in enumerate(many):
            specs_of[spec(item, f"{where}[2][{j}]")] = None
    return [(f, t, tuple(s)) for (f, t), s in merged.items()]


def limits(values: Any) -> list[tuple[AssociationSpec, int]]:
    """Validate ``{spec: max_to_object_ids}`` or ``(spec, max)`` items; the last one per spec wins."""
    items = values.items() if isinstance(values, Mapping) else _iterable(values, "limits")
    out: dict[AssociationSpec, int] = {}
    for i, item in enumerate(items):
        if not isinstance(item, tuple) or len(item) != 2:
            raise InvalidInputError(
                f"limits[{i}]: expected (spec, max_to_object_ids), got {_short(item)}"
            )
        out[spec(item[0], f"limits[{i}][0]")] = positive_int(item[1], f"limits[{i}][1]")
    return list(out.items())
