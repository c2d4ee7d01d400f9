"""Wire format: JSON codec and the one cattrs converter between HubSpot JSON and our models.

Parsing is tolerant on purpose: HubSpot adds fields and codes without notice, sends ids
as JSON numbers where its docs say strings, and documents ``subCategory`` and
``errors[].context`` with two different shapes. Request bodies are built by hand in
:mod:`hubassoc._batch`; they are a few flat dicts and need no converter. Whole batch
envelopes (a page's results, errors and cursors) are parsed in :mod:`hubassoc._pages`,
on top of the per-result hooks here.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from ._codec import dumps
from ._models import (
    AssociatedObject,
    AssociationCategory,
    AssociationRead,
    AssociationSpec,
    AssociationType,
    BatchError,
    DefaultAssociation,
    ErrorDetail,
    LabelledAssociation,
    LimitConfiguration,
    _compact_types,
    _shared_types,
)

T = TypeVar("T")


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
    if type(first) is not list or not _fits_array(raw_ids, raw_types):
        return _careful_read(from_id, to)
    return AssociationRead._of(from_id, array("q", raw_ids).tobytes(), _types_of(first))


def _fits_array(raw_ids: list[Any], raw_types: list[Any]) -> bool:
    """Whether to-ids fit a machine-integer array and all to-objects' association types
    are equal (as decoded lists, or as raw JSON)."""
    return (
        set(map(type, raw_ids)) == _INTS
        and min(raw_ids) > 0
        and max(raw_ids) <= _MAX_ARRAY_ID
        and raw_types.count(raw_types[0]) == len(raw_types)
    )


def _careful_read(from_id: str, to: Any) -> AssociationRead:
    """A read result checked to-object by to-object (see _structure_association_read)."""
    ids: list[str] = []
    types: list[tuple[AssociationType, ...]] = []
    for obj in to:
        ids.append(record_id(obj["toObjectId"], "toObjectId", from_id))
        types.append(_types_of(obj.get("associationTypes", ())))
    numbers = [int(i) for i in ids]
    compact: bytes | list[str] = ids
    # Digit strings keep their spelling unless it is the canonical one of a small number.
    if all(str(n) == i and n <= _MAX_ARRAY_ID for n, i in zip(numbers, ids, strict=True)):
        compact = array("q", numbers).tobytes()
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


#: What structuring one result may raise when HubSpot's answer is not what it documents.
ITEM_ERRORS = (KeyError, TypeError, ValueError, AttributeError)
