"""Batch envelopes, one page at a time: results, errors, cursors, withheld answers.

Built on the per-result hooks of :mod:`hubassoc._wire`. A read page takes one pass over
its lists when it has the usual shape (:func:`_columns`) and the per-result path
otherwise; HubSpot's "no associations" errors are held compactly. Pure: no I/O.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from itertools import accumulate, chain, repeat
from typing import Any, TypeVar, cast

from ._codec import JSON_DECODE_ERRORS, gc_paused, loads
from ._models import (
    _ID_MARK,
    NO_ASSOCIATIONS_FOUND,
    AssociationRead,
    AssociationSpec,
    AssociationType,
    BatchError,
    BatchResult,
    BatchStatus,
    DefaultAssociation,
    _Absent,
    _AbsentShape,
)
from ._validation import digit_strings
from ._wire import (
    _DIRECT_HOOKS,
    ITEM_ERRORS,
    BadAnswer,
    ResponseShapeError,
    _fits_array,
    _short,
    _structure_datetime,
    _structure_wire_spec,
    _types_of,
    converter,
    record_id,
)

try:
    from . import _typed_pages as _typed
except ImportError:  # pragma: no cover - without msgspec every page takes the dict path
    _typed = None  # type: ignore[assignment]

T = TypeVar("T")


_STRS = {str}
_LISTS = {list}
_NEW = object.__new__


def _slot_setters(cls: type, *names: str) -> tuple[Any, ...]:
    # The slots' own setters: the class's __setattr__ refuses, being frozen.
    return tuple(cast(Any, cls.__dict__[name]).__set__ for name in names)


_READ_SETTERS = _slot_setters(AssociationRead, "from_id", "_ids", "_types")
_DEFAULT_SETTERS = _slot_setters(DefaultAssociation, "from_id", "to_id", "association_spec")


def _built(cls: type[T], n: int, setters: Sequence[Any], *columns: Iterable[Any]) -> list[T]:
    """``n`` instances of the frozen slotted ``cls``, each slot set from its column.

    One ``map`` a column, each loop in C: a loop over the instances in Python cost a
    third more, on the path every usual page takes.
    """
    made = list(map(_NEW, repeat(cls, n)))
    for setter, column in zip(setters, columns, strict=True):
        deque(map(setter, made, column), maxlen=0)
    return made


class _Columns:
    """A usual read page, checked: its from-ids, each one's count of to-objects, every
    to-id packed as a machine integer in one bytes object, and the one tuple of
    association types they all carry. ``afters`` are the ``(result index, after)`` of its
    cursors, when known."""

    __slots__ = ("afters", "froms", "lengths", "packed", "types")

    def __init__(
        self,
        froms: list[str],
        lengths: list[int],
        packed: bytes,
        types: tuple[AssociationType, ...],
        afters: list[tuple[int, str]] | None,
    ) -> None:
        self.froms = froms
        self.lengths = lengths
        self.packed = packed
        self.types = types
        self.afters = afters


def _columns(
    froms: list[Any], tos: list[Any], raw_ids: list[Any], raw_types: list[Any], first: Any
) -> _Columns | None:
    """The checks of _structure_association_read, made once over a page's lists (in C).

    Usual: from-ids that are digit strings, every result with to-objects, every to-id a
    JSON number that fits, and one list of association types (``first``, decoded) for
    the whole page. None for any other page: it takes the per-result path, which gives
    the same result or names what cannot be believed.
    """
    if not digit_strings(froms):
        return None
    lengths = list(map(len, tos))
    if 0 in lengths or type(first) is not list or not _fits_array(raw_ids, raw_types):
        return None
    try:
        types = _types_of(first)
    except ITEM_ERRORS:
        return None
    return _Columns(froms, lengths, array("q", raw_ids).tobytes(), types, None)


def _dict_columns(results: list[Any]) -> tuple[_Columns, list[Any]] | None:
    """A page decoded as dicts, as columns, with each result's ``paging``; None if unusual."""
    try:
        froms = [r["from"]["id"] for r in results]
        tos = [r["to"] for r in results]
        pagings = [r.get("paging") for r in results]
    except _PROTO_ERRORS:
        return None
    if set(map(type, tos)) != _LISTS:
        return None
    flat = list(chain.from_iterable(tos))
    try:
        raw_ids = [o["toObjectId"] for o in flat]
        raw_types = [o["associationTypes"] for o in flat]
    except _PROTO_ERRORS:
        return None
    if not raw_types:
        return None
    columns = _columns(froms, tos, raw_ids, raw_types, raw_types[0])
    return None if columns is None else (columns, pagings)


class _DecodedRead:
    """A batch-read answer msgspec decoded into columns, the rest of its envelope, and
    its ``errors`` still as JSON text (see ``_typed_pages.ReadPage``)."""

    __slots__ = ("columns", "envelope", "errors")

    def __init__(self, columns: _Columns, envelope: dict[str, Any], errors: Any) -> None:
        self.columns = columns
        self.envelope = envelope
        self.errors = errors


def decode_read_page(body: bytes) -> Any:
    """Decode a batch-read answer for :func:`parse_read_page`.

    With msgspec (the ``[speed]`` extra) a page of the usual shape is decoded straight
    into columns; any other page, or any page without msgspec, as plain JSON values.
    Raises one of ``JSON_DECODE_ERRORS`` if ``body`` is not JSON.
    """
    if _typed is not None:
        page = _typed.decode_read_page(body)
        if page is not None:
            decoded = _typed_columns(page)
            if decoded is not None:
                return decoded
    return loads(body)


def _typed_columns(page: Any) -> _DecodedRead | None:
    results = page.results or ()
    columns: _Columns | None
    if results:
        tos = [r.to for r in results]
        flat = list(chain.from_iterable(tos))
        if not flat:
            return None
        raw_types = [o.association_types for o in flat]
        first = raw_types[0]
        # Equal raw JSON is equal types; the first is parsed, the rest compared as bytes.
        try:
            first_types = loads(first)
        except JSON_DECODE_ERRORS:
            return None
        columns = _columns(
            [r.from_.id for r in results],
            tos,
            [o.to_object_id for o in flat],
            raw_types,
            first_types,
        )
        if columns is None:
            return None
        columns.afters = [
            (i, r.paging.next.after)
            for i, r in enumerate(results)
            if r.paging is not None and r.paging.next is not None
        ]
    else:
        columns = _Columns([], [], b"", (), [])
    envelope = {
        "status": page.status,
        "requestedAt": page.requested_at,
        "startedAt": page.started_at,
        "completedAt": page.completed_at,
        "links": page.links,
    }
    return _DecodedRead(columns, envelope, page.errors)


def _reads(columns: _Columns, asked: Mapping[str, str]) -> list[AssociationRead]:
    """One read per result of a usual page, an asked from-id held as the caller's string."""
    froms = columns.froms
    n = len(froms)
    packed = columns.packed
    if columns.lengths.count(1) == n:  # one to-object each: every slice 8 bytes
        stops: Iterable[int] = range(8, (n << 3) + 8, 8)
        starts: Iterable[int] = range(0, n << 3, 8)
    else:
        stops = list(accumulate([length << 3 for length in columns.lengths]))
        starts = chain((0,), stops)
    return _built(
        AssociationRead,
        n,
        _READ_SETTERS,
        map(asked.get, froms, froms),
        map(packed.__getitem__, map(slice, starts, stops)),
        repeat(columns.types, n),
    )


def _default_associations(results: list[Any]) -> list[DefaultAssociation] | None:
    """The results of a usual associate answer, checked and built a column at a time.

    Usual: from- and to-ids that are digit strings, and one spec shared by every result
    (equal as JSON values: ``279`` and ``279.0`` are one, as the per-result path turns
    both into type id 279). None for any other page: it takes the per-result path,
    which gives the same results or names what cannot be believed.
    """
    try:
        froms = [r["from"]["id"] for r in results]
        tos = [r["to"]["id"] for r in results]
        specs = [r["associationSpec"] for r in results]
    except _PROTO_ERRORS:
        return None
    if not (digit_strings(froms) and digit_strings(tos)):
        return None
    if specs.count(specs[0]) != len(specs) or type(specs[0]) is not dict:
        return None
    try:
        spec = _structure_wire_spec(specs[0], AssociationSpec)
    except ITEM_ERRORS:
        return None
    return _built(DefaultAssociation, len(results), _DEFAULT_SETTERS, froms, tos, repeat(spec))


def parse_errors(raw: Any) -> list[BatchError]:
    """Structure an ``errors`` array, skipping entries that are not objects."""
    if not isinstance(raw, list):
        return []
    return [converter.structure(e, BatchError) for e in raw if isinstance(e, Mapping)]


#: Sub-category of the error naming a result hubassoc withheld because it could not be believed.
INVALID_RESULT = "hubassoc.INVALID_RESULT"


def withheld(exc: Exception, from_id: str | None = None) -> BatchError:
    """The ``INVALID_RESPONSE`` error for one result that was withheld, naming its from-id if known."""
    reason = str(exc) if isinstance(exc, BadAnswer) else f"unexpected result: {exc!r}"
    named = from_id or (exc.from_id if isinstance(exc, BadAnswer) else None)
    return BatchError(
        category="INVALID_RESPONSE",
        sub_category=INVALID_RESULT,
        message=f"HubSpot's answer held a result that cannot be believed ({reason}); withheld",
        context={"ids": [named]} if named else {},
    )


def _sound_from_id(result: Any) -> str | None:
    try:
        return record_id(result["from"]["id"], "from.id")
    except ITEM_ERRORS:
        return None


def parse_envelope(raw: Any, item_type: type[T]) -> BatchResult[T]:
    """Structure one batch envelope; raise :class:`ResponseShapeError` if it is not one.

    A result that cannot be structured or holds an id that is not a record id is
    withheld, and an ``INVALID_RESPONSE`` error (naming its from-id for batch read)
    takes its place; the rest of the page stands.
    """
    page, _ = _parse(raw, item_type, cursors=False)
    return page


def parse_read_page(
    raw: Any, asked: Mapping[str, str] | None = None
) -> tuple[BatchResult[AssociationRead], list[tuple[str, str]]]:
    """A batch-read envelope and the ``(from_id, after)`` of every kept result with a next page.

    A result that is withheld has no cursor: its id is named by the error instead.
    HubSpot's "no associations" errors are held compactly (see ``BatchResult``); an id
    they name that is in ``asked`` is held as the asked string itself.
    """
    return _parse(raw, AssociationRead, cursors=True, asked=asked)


def _parse(
    raw: Any, item_type: type[T], *, cursors: bool, asked: Mapping[str, str] | None = None
) -> tuple[BatchResult[T], list[tuple[str, str]]]:
    columns: _Columns | None = None
    pagings: list[Any] = []
    errors_json: Any = None
    if type(raw) is _DecodedRead:
        columns, errors_json, raw = raw.columns, raw.errors, raw.envelope
    if not isinstance(raw, Mapping):
        raise ResponseShapeError(f"expected a JSON object, got {type(raw).__name__}")
    results_raw = raw.get("results") or []
    if not isinstance(results_raw, list):
        raise ResponseShapeError(f"expected 'results' to be an array, got {_short(results_raw)}")
    # Straight to the hook for the hot item types: the same function the converter
    # would dispatch to, minus a dispatch per item. The pause: see gc_paused.
    hook = _DIRECT_HOOKS.get(item_type) or converter.get_structure_hook(item_type)
    is_read = item_type is AssociationRead
    results: list[T] = []
    append = results.append
    bad: list[BatchError] = []
    after: list[tuple[str, str]] = []
    absent: _Absent | None = None
    with gc_paused():
        if columns is None and is_read and results_raw:
            found = _dict_columns(results_raw)
            if found is not None:
                columns, pagings = found
        if item_type is DefaultAssociation and results_raw:
            made = _default_associations(results_raw)
            if made is not None:
                results = cast(list[T], made)
                results_raw = ()
        if columns is not None:
            reads = _reads(columns, asked or {})
            results = cast(list[T], reads)
            if cursors:
                if columns.afters is not None:
                    after = [(reads[i].from_id, following) for i, following in columns.afters]
                else:
                    for read, paging in zip(reads, pagings, strict=True):
                        if paging:
                            following = _next_after(paging)
                            if following is not None:
                                after.append((read.from_id, following))
            results_raw = ()
        for r in results_raw:
            try:
                item = hook(r, item_type)
            except ITEM_ERRORS as exc:
                bad.append(withheld(exc, _sound_from_id(r) if is_read else None))
                continue
            append(item)
            if cursors and r.get("paging"):
                following = _next_after(r["paging"])
                if following is not None:
                    after.append((cast(AssociationRead, item).from_id, following))
        try:
            if is_read:
                listed = raw.get("errors") if errors_json is None else loads(errors_json)
                errors, absent = _read_errors(listed, asked or {})
            else:
                errors = parse_errors(raw.get("errors"))
        except ITEM_ERRORS as exc:
            raise ResponseShapeError(f"unexpected batch envelope: {exc!r}") from None
    try:
        links = raw.get("links")
        page = BatchResult(
            status=BatchStatus(raw.get("status") or BatchStatus.COMPLETE),
            results=results,
            errors=[*errors, *bad] if bad else errors,
            requested_at=_maybe_datetime(raw.get("requestedAt")),
            started_at=_maybe_datetime(raw.get("startedAt")),
            completed_at=_maybe_datetime(raw.get("completedAt")),
            links={str(k): str(v) for k, v in links.items()} if isinstance(links, Mapping) else {},
            _absent=absent,
        )
    except ITEM_ERRORS as exc:
        raise ResponseShapeError(f"unexpected batch envelope: {exc!r}") from None
    return page, after


_ABSENT_KEYS = frozenset(
    {"status", "category", "subCategory", "message", "context", "errors", "links"}
)
#: What looking up a page's error like the last compact one may raise: it is not one.
_PROTO_ERRORS = (KeyError, TypeError, IndexError, AttributeError)
_EMPTY_LIST: list[Any] = []
_EMPTY_DICT: dict[str, Any] = {}
_ContextRest = tuple[tuple[str, tuple[str, ...]], ...]


def _read_errors(raw: Any, asked: Mapping[str, str]) -> tuple[list[BatchError], _Absent | None]:
    """A read page's errors: "no associations" ones held compactly, the others as objects.

    An error is held compactly only when it can be rebuilt exactly: the documented keys
    with string values, one id in ``context.fromObjectId``, string lists elsewhere in the
    context. Anything else is structured as usual.
    """
    if not isinstance(raw, list):
        return [], None
    errors: list[BatchError] = []
    groups: dict[_AbsentShape, list[str]] = {}
    shapes: dict[tuple[Any, ...], _AbsentShape] = {}
    rests: dict[tuple[Any, ...], _ContextRest] = {}
    keys_ok = _ABSENT_KEYS.issuperset
    asked_get = asked.get
    # The last error taken compactly, its id and message left to fill in: an error equal
    # to it with its own id filled in has the same shape, checked by one dict comparison
    # in C instead of the checks below (equal values are of the same JSON types, so the
    # rebuilt error is still exactly the one sent). A page's errors are alike but for
    # the id, so almost every one takes this path.
    proto: dict[str, Any] | None = None
    proto_context: dict[str, Any] = {}
    template = ""
    group: list[str] = []
    for e in raw:
        if proto is not None:
            try:
                from_id = e["context"]["fromObjectId"][0]
                proto_context["fromObjectId"] = [from_id]
                proto["message"] = template.replace(_ID_MARK, from_id)
            except _PROTO_ERRORS:
                pass
            else:
                if e == proto:
                    group.append(asked_get(from_id, from_id))
                    continue
        if type(e) is not dict:
            if isinstance(e, Mapping):
                errors.append(converter.structure(e, BatchError))
            continue
        context = e.get("context")
        ids = context.get("fromObjectId") if type(context) is dict else None
        if (
            e.get("subCategory") != NO_ASSOCIATIONS_FOUND
            or type(ids) is not list
            or len(ids) != 1
            or type(from_id := ids[0]) is not str
            or not keys_ok(e)
            # HubSpot's error schema has these two; empty, they rebuild as the defaults.
            or e.get("errors", _EMPTY_LIST) != _EMPTY_LIST
            or e.get("links", _EMPTY_DICT) != _EMPTY_DICT
        ):
            errors.append(converter.structure(e, BatchError))
            continue
        message = e.get("message", "")
        status = e.get("status", "error")
        category = e.get("category")
        rest = _context_rest(cast(dict[str, Any], context), rests)
        if (
            rest is None
            or type(message) is not str
            or _ID_MARK in message
            or type(status) is not str
            or (category is not None and type(category) is not str)
        ):
            errors.append(converter.structure(e, BatchError))
            continue
        template = message.replace(from_id, _ID_MARK)
        key = (status, category, template, rest)
        shape = shapes.get(key)
        if shape is None:
            shape = shapes[key] = _AbsentShape(
                status, category, NO_ASSOCIATIONS_FOUND, template, rest
            )
        group = groups.setdefault(shape, [])
        group.append(asked_get(from_id, from_id))
        if "message" in e:
            proto_context = dict(cast(dict[str, Any], context))
            proto = dict(e)
            proto["context"] = proto_context
        else:
            proto = None
    absent = _Absent()
    for shape, held in groups.items():
        absent.add_all(shape, held)
    return errors, absent if len(absent) else None


def _context_rest(
    context: dict[str, Any], seen: dict[tuple[Any, ...], _ContextRest]
) -> _ContextRest | None:
    """The context of a "no associations" error less its id, if it is all string lists."""
    if len(context) == 1:
        return ()
    flat = tuple(
        (k, tuple(v) if type(v) is list else v) for k, v in context.items() if k != "fromObjectId"
    )
    cached = seen.get(flat)
    if cached is not None:
        return cached
    for key, value in flat:
        if type(key) is not str or type(value) is not tuple:
            return None
        if any(type(x) is not str for x in value):
            return None
    seen[flat] = flat
    return flat


def _next_after(paging: Any) -> str | None:
    """``paging.next.after`` of one result, or None; a paging of the wrong shape fails the chunk."""
    if not isinstance(paging, Mapping):
        raise ResponseShapeError(f"unexpected paging: {_short(paging)}")
    following = paging.get("next")
    if following is None:
        return None
    if not isinstance(following, Mapping):
        raise ResponseShapeError(f"unexpected paging: {_short(paging)}")
    after = following.get("after")
    return None if after is None else str(after)


def _maybe_datetime(value: Any) -> datetime | None:
    return None if value is None else _structure_datetime(value, datetime)
