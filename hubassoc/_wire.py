"""Wire format: JSON codec and the one cattrs converter between HubSpot JSON and our models.

Parsing is tolerant on purpose: HubSpot adds fields and codes without notice, sends ids
as JSON numbers where its docs say strings, and documents ``subCategory`` and
``errors[].context`` with two different shapes. Request bodies are built by hand in
:mod:`hubassoc._batch`; they are a few flat dicts and need no converter.
"""

from __future__ import annotations

import gc
import json
import re
from array import array
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain
from typing import Any, TypeVar, cast

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from ._models import (
    _ID_MARK,
    NO_ASSOCIATIONS_FOUND,
    AssociatedObject,
    AssociationCategory,
    AssociationRead,
    AssociationSpec,
    AssociationType,
    BatchError,
    BatchResult,
    BatchStatus,
    DefaultAssociation,
    ErrorDetail,
    LabelledAssociation,
    LimitConfiguration,
    _Absent,
    _AbsentShape,
    _compact_types,
    _shared_types,
)

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

try:  # orjson is optional (`pip install hubassoc[speed]`): same results, less CPU.
    import orjson

    _decode: Callable[[bytes], Any] = orjson.loads

    def dumps(obj: Any) -> bytes:
        """Encode to JSON bytes."""
        return orjson.dumps(obj)

    JSON_DECODE_ERRORS: tuple[type[Exception], ...] = (orjson.JSONDecodeError, UnicodeDecodeError)
except ImportError:  # pragma: no cover - exercised only without the extra
    _decode = json.loads

    def dumps(obj: Any) -> bytes:
        """Encode to JSON bytes."""
        return json.dumps(obj, separators=(",", ":")).encode()

    JSON_DECODE_ERRORS = (json.JSONDecodeError, UnicodeDecodeError)


def loads(data: bytes) -> Any:
    """Decode JSON bytes; a large body is decoded with the collector paused."""
    if len(data) < GC_PAUSE_MIN_BYTES:
        return _decode(data)
    with gc_paused():
        return _decode(data)


class ResponseShapeError(ValueError):
    """A 2xx body that is not the envelope HubSpot documents."""


converter = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False)


def _structure_datetime(value: Any, _: type) -> datetime:
    parsed = datetime.fromisoformat(value)
    # The contract promises tz-aware datetimes; HubSpot's are UTC.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


_JAVA_MAP_ITEM = re.compile(r"(\w+)=\[([^\]]*)\]")


def structure_context(value: Any) -> dict[str, list[str]]:
    """Normalise an error ``context`` to ``dict[str, list[str]]``.

    HubSpot sends a JSON object of lists, but its reference pages also show the Java
    map rendering ``"{missingScopes=[scope1, scope2]}"``; accept both, and scalars.
    """
    if isinstance(value, Mapping):
        out: dict[str, list[str]] = {}
        for key, item in value.items():
            if isinstance(item, list | tuple):
                out[str(key)] = [str(x) for x in item]
            elif item is not None:
                out[str(key)] = [str(item)]
        return out
    if isinstance(value, str):
        return {
            key: [part.strip() for part in items.split(",") if part.strip()]
            for key, items in _JAVA_MAP_ITEM.findall(value)
        }
    return {}


def _structure_sub_category(value: Any, _: type) -> str | dict[str, Any] | None:
    if value is None or isinstance(value, str | dict):
        return value
    return str(value)


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


# One AssociationType instance per distinct (category, typeId, label): a read of
# 300k associations usually carries a handful of distinct types, and frozen instances
# are safe to share. This saves an allocation and a structure call per association.
_type_cache: dict[tuple[Any, Any, Any], AssociationType] = {}
_TYPE_CACHE_LIMIT = 4096


def _structure_association_type(value: Mapping[str, Any], _: type) -> AssociationType:
    key = (value.get("category"), value.get("typeId"), value.get("label"))
    cached = _type_cache.get(key)
    if cached is not None:
        return cached
    made = AssociationType(
        AssociationCategory(value["category"]),
        int(value["typeId"]),
        _optional_str(value.get("label")),
    )
    if len(_type_cache) < _TYPE_CACHE_LIMIT:
        _type_cache[key] = made
    return made


class BadAnswer(ValueError):
    """One result of a 2xx answer that cannot be believed (an id that is not a record id).

    ``from_id`` is the result's from-id when that one was sound, so the error can name it.
    """

    def __init__(self, message: str, from_id: str | None = None) -> None:
        super().__init__(message)
        self.from_id = from_id


def _short(value: Any) -> str:
    try:
        text = dumps(value).decode("utf-8", "replace")
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def record_id(value: Any, field: str, from_id: str | None = None) -> str:
    """An id from an answer as a string, if it is one: a positive JSON integer or a digit string.

    HubSpot's record ids are positive integers (sent as numbers or strings). Anything
    else (``1.5``, ``true``, ``null``, ``"1.0"``, an object) is never turned into a string:
    it raises :class:`BadAnswer` saying which field held what.
    """
    kind = type(value)
    if kind is int:
        if value > 0:
            return str(value)
    elif kind is str and value.isdigit() and value.isascii():
        return str(value)
    raise BadAnswer(f"{field} was {_short(value)}, not a record id", from_id)


def _structure_associated_object(value: Mapping[str, Any], _: type) -> AssociatedObject:
    return AssociatedObject(
        record_id(value["toObjectId"], "toObjectId"),
        _shared_types(
            _structure_association_type(t, AssociationType)
            for t in value.get("associationTypes", ())
        ),
    )


#: The association types of one to-object as HubSpot sent them, as a hashable key.
_TypesKey = tuple[tuple[Any, Any, Any], ...]
_types_cache: dict[_TypesKey, tuple[AssociationType, ...]] = {}
_INTS = {int}
#: Largest id held as a machine integer; beyond it the digit string is kept.
_MAX_ARRAY_ID = 2**63 - 1


def _types_of(raw: Any) -> tuple[AssociationType, ...]:
    """One to-object's ``associationTypes`` as a shared tuple (cached by content)."""
    key: _TypesKey = tuple((t.get("category"), t.get("typeId"), t.get("label")) for t in raw)
    cached = _types_cache.get(key)
    if cached is not None:
        return cached
    made = _shared_types(_structure_association_type(t, AssociationType) for t in raw)
    if len(_types_cache) < _TYPE_CACHE_LIMIT:
        _types_cache[key] = made
    return made


def _structure_association_read(value: Mapping[str, Any], _: type) -> AssociationRead:
    # The hot path of a read. Its work per association is a few C-level passes over the
    # page's lists (ids gathered, their types checked, equal type lists counted) instead
    # of Python code per association; a page that is unusual in any way (ids that are not
    # JSON numbers, to-objects of different types, a missing key) takes the careful path,
    # which gives the same result or names the value that cannot be believed.
    from_id = record_id(value["from"]["id"], "from.id")
    to = value.get("to", ())
    if type(to) is not list or not to:
        return _careful_read(from_id, to)
    try:
        raw_ids = [o["toObjectId"] for o in to]
        raw_types = [o["associationTypes"] for o in to]
    except ITEM_ERRORS:
        return _careful_read(from_id, to)
    first = raw_types[0]
    if not _fits_array(raw_ids, raw_types):
        return _careful_read(from_id, to)
    return AssociationRead._of(from_id, array("q", raw_ids), _types_of(first))


def _fits_array(raw_ids: list[Any], raw_types: list[Any]) -> bool:
    """Whether to-ids fit a machine-integer array and share one list of association types."""
    first = raw_types[0]
    return (
        set(map(type, raw_ids)) == _INTS
        and min(raw_ids) > 0
        and max(raw_ids) <= _MAX_ARRAY_ID
        and type(first) is list
        and raw_types.count(first) == len(raw_types)
    )


_STRS = {str}
_LISTS = {list}


def _usual_reads(
    results: list[Any], asked: Mapping[str, str]
) -> tuple[list[AssociationRead], list[Any]] | None:
    """Every result of a usual page at once, each with its ``paging``; None if unusual.

    Usual: from-ids that are digit strings, every result with to-objects, every to-id a
    JSON number that fits, and one list of association types for the whole page. The
    checks of _structure_association_read are made once over the page's lists (in C)
    instead of once per result; any page they do not fit takes the per-result path,
    which gives the same result or names what cannot be believed. An asked from-id is
    held as the caller's own string.
    """
    try:
        froms = [r["from"]["id"] for r in results]
        tos = [r["to"] for r in results]
        pagings = [r.get("paging") for r in results]
    except _PROTO_ERRORS:
        return None
    if set(map(type, froms)) != _STRS or "" in froms or set(map(type, tos)) != _LISTS:
        return None
    joined_froms = "".join(froms)
    if not (joined_froms.isdigit() and joined_froms.isascii()):
        return None
    lengths = list(map(len, tos))
    if 0 in lengths:
        return None
    flat = list(chain.from_iterable(tos))
    try:
        raw_ids = [o["toObjectId"] for o in flat]
        raw_types = [o["associationTypes"] for o in flat]
    except _PROTO_ERRORS:
        return None
    first = raw_types[0]
    if not _fits_array(raw_ids, raw_types):
        return None
    try:
        types = _types_of(first)
    except ITEM_ERRORS:
        return None
    numbers = array("q", raw_ids)
    get = asked.get
    new = object.__new__
    setter = object.__setattr__
    reads: list[AssociationRead] = []
    append = reads.append
    start = 0
    for from_id, n in zip(froms, lengths, strict=True):
        read = new(AssociationRead)
        setter(read, "from_id", get(from_id, from_id))
        setter(read, "_ids", numbers[start : start + n])
        setter(read, "_types", types)
        append(read)
        start += n
    return reads, pagings


def _careful_read(from_id: str, to: Any) -> AssociationRead:
    """A read result checked to-object by to-object (see _structure_association_read)."""
    ids: list[str] = []
    types: list[tuple[AssociationType, ...]] = []
    for obj in to:
        ids.append(record_id(obj["toObjectId"], "toObjectId", from_id))
        types.append(_types_of(obj.get("associationTypes", ())))
    numbers = [int(i) for i in ids]
    compact: array[int] | list[str] = ids
    # Digit strings keep their spelling unless it is the canonical one of a small number.
    if all(str(n) == i and n <= _MAX_ARRAY_ID for n, i in zip(numbers, ids, strict=True)):
        compact = array("q", numbers)
    return AssociationRead._of(from_id, compact, _compact_types(types))


# One AssociationSpec per distinct (category, type id), for the same reason as
# _type_cache: every result of an associate call carries the pair's one default spec,
# and building it runs the class's converter and validator each time (about half the
# cost of parsing a DefaultAssociation). Only plain str/int keys are cached, so any
# other input takes the uncached path and fails exactly as before.
_spec_cache: dict[tuple[str, int], AssociationSpec] = {}


def _structure_wire_spec(value: Mapping[str, Any], _: type) -> AssociationSpec:
    # associate/default answers {associationCategory, associationTypeId}; purge takes
    # {category, typeId}. Accept either spelling.
    category = value.get("associationCategory", value.get("category"))
    type_id = value.get("associationTypeId", value.get("typeId"))
    if type(category) is str and type(type_id) is int:
        key = (category, type_id)
        cached = _spec_cache.get(key)
        if cached is None:
            cached = AssociationSpec(AssociationCategory(category), type_id)
            if len(_spec_cache) < _TYPE_CACHE_LIMIT:
                _spec_cache[key] = cached
        return cached
    return AssociationSpec(AssociationCategory(category), int(type_id))


def _structure_default_association(value: Mapping[str, Any], _: type) -> DefaultAssociation:
    return DefaultAssociation(
        record_id(value["from"]["id"], "from.id"),
        record_id(value["to"]["id"], "to.id"),
        _structure_wire_spec(value["associationSpec"], AssociationSpec),
    )


def _structure_labelled_association(value: Mapping[str, Any], _: type) -> LabelledAssociation:
    labels = value.get("labels") or []
    if not isinstance(labels, list):
        raise TypeError(f"labels must be a list, got {type(labels).__name__}")
    return LabelledAssociation(
        record_id(value["fromObjectId"], "fromObjectId"),
        record_id(value["toObjectId"], "toObjectId"),
        [str(label) for label in labels if label is not None],
        _optional_str(value.get("fromObjectTypeId")),
        _optional_str(value.get("toObjectTypeId")),
    )


def _structure_limit_configuration(value: Mapping[str, Any], _: type) -> LimitConfiguration:
    limit = value.get("userEnforcedMaxToObjectIds", value.get("maxToObjectIds"))
    return LimitConfiguration(
        AssociationCategory(value["category"]),
        int(value["typeId"]),
        None if limit is None else int(limit),
        _optional_str(value.get("label")),
    )


def parse_collection(raw: Any, item_type: type[T]) -> list[T]:
    """Structure a ``{"results": [...]}`` answer (labels, limit configurations)."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("results"), list):
        raise ResponseShapeError("expected a JSON object with a 'results' array")
    try:
        return [converter.structure(r, item_type) for r in raw["results"]]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResponseShapeError(f"unexpected results: {exc!r}") from None


def _camel(name: str) -> str:
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(part.title() for part in rest)


def _renamed(cls: type[Any]) -> Callable[[Any, type], Any]:
    overrides: dict[str, Any] = {a.name: override(rename=_camel(a.name)) for a in attrs.fields(cls)}
    return make_dict_structure_fn(cls, converter, **overrides)


converter.register_structure_hook(datetime, _structure_datetime)
converter.register_structure_hook(str | dict[str, Any] | None, _structure_sub_category)
converter.register_structure_hook_func(
    lambda t: t == dict[str, list[str]], lambda v, _: structure_context(v)
)
converter.register_structure_hook(str | None, lambda v, _: _optional_str(v))
converter.register_structure_hook(AssociationType, _structure_association_type)
converter.register_structure_hook(AssociatedObject, _structure_associated_object)
converter.register_structure_hook(AssociationRead, _structure_association_read)
converter.register_structure_hook(AssociationSpec, _structure_wire_spec)
converter.register_structure_hook(DefaultAssociation, _structure_default_association)
converter.register_structure_hook(LabelledAssociation, _structure_labelled_association)
converter.register_structure_hook(LimitConfiguration, _structure_limit_configuration)
converter.register_structure_hook_func(
    lambda t: t == dict[str, Any], lambda v, _: dict(v) if isinstance(v, Mapping) else {}
)
converter.register_structure_hook(ErrorDetail, _renamed(ErrorDetail))
converter.register_structure_hook(BatchError, _renamed(BatchError))

_DIRECT_HOOKS: dict[type[Any], Callable[[Any, type], Any]] = {
    AssociationRead: _structure_association_read,
    DefaultAssociation: _structure_default_association,
}


def parse_errors(raw: Any) -> list[BatchError]:
    """Structure an ``errors`` array, skipping entries that are not objects."""
    if not isinstance(raw, list):
        return []
    return [converter.structure(e, BatchError) for e in raw if isinstance(e, Mapping)]


#: Sub-category of the error naming a result hubassoc withheld because it could not be believed.
INVALID_RESULT = "hubassoc.INVALID_RESULT"
ITEM_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


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
        usual = _usual_reads(results_raw, asked or {}) if is_read and results_raw else None
        if usual is not None:
            reads, pagings = usual
            results = cast(list[T], reads)
            if cursors:
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
                errors, absent = _read_errors(raw.get("errors"), asked or {})
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
