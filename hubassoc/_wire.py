"""Wire format: JSON codec and the one cattrs converter between HubSpot JSON and our models.

Parsing is tolerant on purpose: HubSpot adds fields and codes without notice, sends ids
as JSON numbers where its docs say strings, and documents ``subCategory`` and
``errors[].context`` with two different shapes. Request bodies are built by hand in
:mod:`hubassoc._batch`; they are a few flat dicts and need no converter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from ._models import (
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
)

T = TypeVar("T")

try:  # orjson is optional (`pip install hubassoc[speed]`): same results, less CPU.
    import orjson

    def loads(data: bytes) -> Any:
        """Decode JSON bytes."""
        return orjson.loads(data)

    def dumps(obj: Any) -> bytes:
        """Encode to JSON bytes."""
        return orjson.dumps(obj)

    JSON_DECODE_ERRORS: tuple[type[Exception], ...] = (orjson.JSONDecodeError, UnicodeDecodeError)
except ImportError:  # pragma: no cover - exercised only without the extra

    def loads(data: bytes) -> Any:
        """Decode JSON bytes."""
        return json.loads(data)

    def dumps(obj: Any) -> bytes:
        """Encode to JSON bytes."""
        return json.dumps(obj, separators=(",", ":")).encode()

    JSON_DECODE_ERRORS = (json.JSONDecodeError, UnicodeDecodeError)


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


def _structure_associated_object(value: Mapping[str, Any], _: type) -> AssociatedObject:
    return AssociatedObject(
        str(value["toObjectId"]),
        [
            _structure_association_type(t, AssociationType)
            for t in value.get("associationTypes", ())
        ],
    )


def _structure_association_read(value: Mapping[str, Any], _: type) -> AssociationRead:
    return AssociationRead(
        str(value["from"]["id"]),
        [_structure_associated_object(o, AssociatedObject) for o in value.get("to", ())],
    )


def _structure_wire_spec(value: Mapping[str, Any], _: type) -> AssociationSpec:
    # associate/default answers {associationCategory, associationTypeId}; purge takes
    # {category, typeId}. Accept either spelling.
    category = value.get("associationCategory", value.get("category"))
    type_id = value.get("associationTypeId", value.get("typeId"))
    return AssociationSpec(AssociationCategory(category), int(type_id))


def _structure_default_association(value: Mapping[str, Any], _: type) -> DefaultAssociation:
    return DefaultAssociation(
        str(value["from"]["id"]),
        str(value["to"]["id"]),
        _structure_wire_spec(value["associationSpec"], AssociationSpec),
    )


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
converter.register_structure_hook_func(
    lambda t: t == dict[str, Any], lambda v, _: dict(v) if isinstance(v, Mapping) else {}
)
converter.register_structure_hook(ErrorDetail, _renamed(ErrorDetail))
converter.register_structure_hook(BatchError, _renamed(BatchError))


def parse_errors(raw: Any) -> list[BatchError]:
    """Structure an ``errors`` array, skipping entries that are not objects."""
    if not isinstance(raw, list):
        return []
    return [converter.structure(e, BatchError) for e in raw if isinstance(e, Mapping)]


def parse_envelope(raw: Any, item_type: type[T]) -> BatchResult[T]:
    """Structure one batch envelope; raise :class:`ResponseShapeError` if it is not one."""
    if not isinstance(raw, Mapping):
        raise ResponseShapeError(f"expected a JSON object, got {type(raw).__name__}")
    try:
        results_raw = raw.get("results") or []
        results: list[T] = [converter.structure(r, item_type) for r in results_raw]
        links = raw.get("links")
        return BatchResult(
            status=BatchStatus(raw.get("status") or BatchStatus.COMPLETE),
            results=results,
            errors=parse_errors(raw.get("errors")),
            requested_at=_maybe_datetime(raw.get("requestedAt")),
            started_at=_maybe_datetime(raw.get("startedAt")),
            completed_at=_maybe_datetime(raw.get("completedAt")),
            links={str(k): str(v) for k, v in links.items()} if isinstance(links, Mapping) else {},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResponseShapeError(f"unexpected batch envelope: {exc!r}") from None


def _maybe_datetime(value: Any) -> datetime | None:
    return None if value is None else _structure_datetime(value, datetime)


def next_cursors(raw: Mapping[str, Any]) -> dict[str, str]:
    """Map from-id to its ``paging.next.after`` for every result that has another page."""
    out: dict[str, str] = {}
    for result in raw.get("results") or ():
        paging = result.get("paging")
        if not paging:
            continue
        after = (paging.get("next") or {}).get("after")
        if after is not None:
            out[str(result["from"]["id"])] = str(after)
    return out
