"""Public data models: what the client hands back.

Every model is a frozen, slotted attrs class. Wire names (camelCase, nested ``from.id``)
are mapped in :mod:`hubassoc._wire`; nothing here knows about JSON.
"""

from __future__ import annotations

import enum
import sys
from array import array
from collections.abc import Iterable
from datetime import datetime
from functools import partial
from itertools import chain, repeat
from typing import Any, Final, Generic, NamedTuple, TypeAlias, TypeVar, cast

import attrs

from ._exceptions import BatchErrors

__all__ = [
    "AssociatedObject",
    "AssociationCategory",
    "AssociationRead",
    "AssociationSpec",
    "AssociationType",
    "BatchError",
    "BatchResult",
    "BatchStatus",
    "DefaultAssociation",
    "ErrorDetail",
    "LabelledAssociation",
    "LimitConfiguration",
    "Progress",
]

T = TypeVar("T")

#: HubSpot's sub-category for an id that simply has no associations of the requested type.
NO_ASSOCIATIONS_FOUND = "crm.associations.NO_ASSOCIATIONS_FOUND"


class _OpenEnum(enum.StrEnum):
    """A string enum that keeps values it has never seen instead of failing.

    HubSpot adds codes without notice; an unknown value becomes a pseudo-member that
    compares equal to its string, so parsing a response never breaks on a new code.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member


class BatchStatus(_OpenEnum):
    """Processing status of a batch envelope."""

    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    CANCELED = "CANCELED"
    COMPLETE = "COMPLETE"


class AssociationCategory(_OpenEnum):
    """Who defined an association type."""

    HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
    USER_DEFINED = "USER_DEFINED"
    INTEGRATOR_DEFINED = "INTEGRATOR_DEFINED"


@attrs.frozen
class AssociationType:
    """One association type between two objects (an object pair can carry several).

    ``label`` is ``None`` for HubSpot's unlabeled default association. A label
    definition (``client.labels.list``) is one of these too.
    """

    category: AssociationCategory
    type_id: int
    label: str | None = None

    @property
    def spec(self) -> AssociationSpec:
        """This type as an :class:`AssociationSpec`, for ``client.associations.create``."""
        return AssociationSpec(self.category, self.type_id)


class AssociatedObject(NamedTuple):
    """An object on the ``to`` side of an association, with every type linking it.

    A named tuple: built only when asked for (see :class:`AssociationRead`), cheap to
    make, and compared by value.
    """

    to_object_id: str
    association_types: tuple[AssociationType, ...]


#: Builds an AssociatedObject from a ``(to_object_id, association_types)`` tuple, in C:
#: ``AssociatedObject(...)`` would run the named tuple's Python ``__new__`` per object.
_new_object = partial(tuple.__new__, AssociatedObject)

#: A read's to-ids: machine integers packed in bytes (8 each, native order) when every id
#: was a JSON number that fits (the usual answer), else the digit strings HubSpot sent,
#: exactly as sent. Bytes rather than an ``array``: bytes are no object for the garbage
#: collector to walk, and 31 bytes smaller, which counts for a read of one association.
ToIds: TypeAlias = "bytes | list[str]"
_ORDER: Final = sys.byteorder
_from_bytes = int.from_bytes
#: A read's association types: one shared tuple when every to-object has the same types
#: (the usual answer), else one tuple per to-object. Equal tuples are the same object.
ToTypes: TypeAlias = "tuple[AssociationType, ...] | list[tuple[AssociationType, ...]]"


class AssociationRead:
    """The associations of one ``from`` object.

    In a merged :class:`BatchResult` there is one per from-id, holding every page in
    page order; when streaming there is one per from-id per page.

    The to-objects are held compactly (the ids as machine integers, the association
    types shared) and ``to`` builds them each time it is read: a large result costs a
    few bytes per association and gives the garbage collector nothing to walk. Read
    ``to`` once and keep the list if you need it several times; ``to_ids`` and ``len()``
    do not build objects.

    Example::

        for item in result.results:
            for obj in item.to:
                print(item.from_id, obj.to_object_id, [t.label for t in obj.association_types])
    """

    __slots__ = ("_ids", "_types", "from_id")
    from_id: str
    _ids: ToIds
    _types: ToTypes

    def __init__(self, from_id: str, to: Iterable[AssociatedObject] = ()) -> None:
        objects = list(to)
        ids: list[str] = [o.to_object_id for o in objects]
        types = [_shared_types(o.association_types) for o in objects]
        _set(self, from_id, ids, _compact_types(types))

    @classmethod
    def _of(cls, from_id: str, ids: ToIds | array[int], types: ToTypes) -> AssociationRead:
        """Wrap storage built by the parser or the merge, unchecked (an ``array`` of ids,
        as pickles carry them, is packed)."""
        if isinstance(ids, array):
            ids = ids.tobytes()
        self = object.__new__(cls)
        _set(self, from_id, ids, types)
        return self

    @property
    def to(self) -> list[AssociatedObject]:
        """The associated objects, in HubSpot's order (built on each access)."""
        ids = self._ids
        types = self._types
        strings: Iterable[str]
        if type(ids) is bytes:
            if len(ids) == 8:  # common enough to skip setting up the iterators below
                kind = types if type(types) is tuple else types[0]
                # Read as unsigned, the same number for the positive ids that are packed,
                # without the keyword argument's slower call.
                return [_new_object((str(_from_bytes(ids, _ORDER)), kind))]
            strings, n = map(str, memoryview(ids).cast("q")), len(ids) >> 3
        else:
            strings, n = cast("list[str]", ids), len(ids)
        kinds = repeat(types, n) if type(types) is tuple else types
        return list(map(_new_object, zip(strings, kinds, strict=True)))

    @property
    def to_ids(self) -> list[str]:
        """The ``to`` object ids, in HubSpot's order."""
        ids = self._ids
        if type(ids) is bytes:
            return list(map(str, memoryview(ids).cast("q")))
        return list(cast("list[str]", ids))

    def __len__(self) -> int:
        """The number of associated objects."""
        ids = self._ids
        return len(ids) >> 3 if type(ids) is bytes else len(ids)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AssociationRead):
            return NotImplemented
        return self.from_id == other.from_id and self.to == other.to

    __hash__ = None  # type: ignore[assignment]

    def __setattr__(self, name: str, value: object) -> None:
        raise attrs.exceptions.FrozenInstanceError()

    def __delattr__(self, name: str) -> None:
        raise attrs.exceptions.FrozenInstanceError()

    def __reduce__(self) -> tuple[Any, ...]:
        # Packed ids go as an array, which pickles the same on machines of either byte order.
        ids = self._ids
        portable = array("q", ids) if type(ids) is bytes else ids
        return (AssociationRead._of, (self.from_id, portable, self._types))

    def __repr__(self) -> str:
        return f"AssociationRead(from_id={self.from_id!r}, to={self.to!r})"


def _set(read: AssociationRead, from_id: str, ids: ToIds, types: ToTypes) -> None:
    setter = object.__setattr__
    setter(read, "from_id", from_id)
    setter(read, "_ids", ids)
    setter(read, "_types", types)


#: Equal association-type tuples share one object: a read of 300k associations usually
#: carries a handful of distinct ones. Bounded, so a long-lived process cannot grow it
#: without end; past the bound, tuples are simply not shared.
_TYPE_TUPLES: dict[tuple[AssociationType, ...], tuple[AssociationType, ...]] = {}
_TYPE_TUPLES_LIMIT = 4096


def _shared_types(types: Iterable[AssociationType]) -> tuple[AssociationType, ...]:
    key = tuple(types)
    shared = _TYPE_TUPLES.get(key)
    if shared is not None:
        return shared
    if len(_TYPE_TUPLES) < _TYPE_TUPLES_LIMIT:
        _TYPE_TUPLES[key] = key
    return key


def _compact_types(types: list[tuple[AssociationType, ...]]) -> ToTypes:
    """One shared tuple if every to-object has the same types, else the list."""
    if not types:
        return ()
    first = types[0]
    if types.count(first) == len(types):
        return first
    return types


@attrs.frozen
class AssociationSpec:
    """An association type by category and id, e.g. ``AssociationSpec(USER_DEFINED, 3)``."""

    category: AssociationCategory = attrs.field(converter=AssociationCategory)
    type_id: int = attrs.field(validator=attrs.validators.instance_of(int))


@attrs.frozen
class DefaultAssociation:
    """A default association that HubSpot created between two objects."""

    from_id: str
    to_id: str
    association_spec: AssociationSpec


@attrs.frozen
class LabelledAssociation:
    """A pair that ``batch/create`` associated, with every label the pair now carries.

    ``labels`` are label names (the unlabeled association has none); the object type
    ids are HubSpot's (``0-1`` for contacts), when it sent them.
    """

    from_id: str
    to_id: str
    labels: list[str] = attrs.Factory(list)
    from_object_type_id: str | None = None
    to_object_type_id: str | None = None


@attrs.frozen
class LimitConfiguration:
    """An association limit: at most ``max_to_object_ids`` to-records per from-record.

    ``max_to_object_ids`` is ``None`` for a type without a limit set by the portal.
    """

    category: AssociationCategory
    type_id: int
    max_to_object_ids: int | None = None
    label: str | None = None

    @property
    def spec(self) -> AssociationSpec:
        """The association type this limit applies to."""
        return AssociationSpec(self.category, self.type_id)


@attrs.frozen
class ErrorDetail:
    """One detail of an error (``errors[]`` inside an error body)."""

    message: str = ""
    code: str | None = None
    in_: str | None = None
    sub_category: str | None = None
    context: dict[str, list[str]] = attrs.Factory(dict)


@attrs.frozen
class BatchError:
    """One entry of a batch envelope's ``errors``.

    HubSpot reports per-input failures here (with a 207). hubassoc adds one entry per
    chunk that failed as a whole (rejected with a 4xx, or still failing after retries);
    such an entry has ``context["ids"]`` listing every input id of the chunk (the
    from-ids, for writes), and ``context["httpStatus"]`` when there was an HTTP answer.
    """

    status: str = "error"
    category: str | None = None
    sub_category: str | dict[str, Any] | None = None
    message: str = ""
    id: str | None = None
    context: dict[str, list[str]] = attrs.Factory(dict)
    errors: list[ErrorDetail] = attrs.Factory(list)
    links: dict[str, str] = attrs.Factory(dict)

    @property
    def is_no_associations(self) -> bool:
        """True when HubSpot says the ids simply have no associations (not a failure)."""
        return self.sub_category == NO_ASSOCIATIONS_FOUND

    @property
    def ids(self) -> list[str]:
        """Every input id this error names, from whichever context key carries it."""
        found: list[str] = []
        for key in ("ids", "fromObjectId", "fromObjectIds", "id"):
            found.extend(self.context.get(key, ()))
        if not found and self.id is not None:
            found.append(self.id)
        return found


#: Stands for the id inside the message of a compactly held no-associations error.
_ID_MARK = "\x00"


class _AbsentShape(NamedTuple):
    """Everything of a no-associations error but its id (message with the id marked)."""

    status: str
    category: str | None
    sub_category: str
    message: str
    context: tuple[tuple[str, tuple[str, ...]], ...]


class _Absent:
    """HubSpot's NO_ASSOCIATIONS_FOUND errors of a read, held as ids per shape.

    A read of a million ids without associations gets a million such errors, alike but
    for the id. Holding one shape and a list of ids (each id the caller's own string)
    costs about 8 bytes an id instead of a kilobyte of error objects; the errors are
    built, exactly as HubSpot sent them, only if ``BatchResult.errors`` is read.
    """

    __slots__ = ("_built", "_groups")

    def __init__(self) -> None:
        self._groups: dict[_AbsentShape, list[str]] = {}
        self._built: list[BatchError] | None = None

    def add(self, shape: _AbsentShape, from_id: str) -> None:
        group = self._groups.get(shape)
        if group is None:
            self._groups[shape] = [from_id]
        else:
            group.append(from_id)
        self._built = None

    def add_all(self, shape: _AbsentShape, from_ids: list[str]) -> None:
        """Add ``from_ids`` (taken over, not copied) to ``shape``'s group."""
        group = self._groups.get(shape)
        if group is None:
            self._groups[shape] = from_ids
        else:
            group.extend(from_ids)
        self._built = None

    def extend(self, other: _Absent) -> None:
        for shape, ids in other._groups.items():
            group = self._groups.get(shape)
            if group is None:
                self._groups[shape] = list(ids)
            else:
                group.extend(ids)
        self._built = None

    def copy(self) -> _Absent:
        twin = _Absent()
        twin.extend(self)
        return twin

    def __len__(self) -> int:
        return sum(map(len, self._groups.values()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Absent) and self._groups == other._groups

    __hash__ = None  # type: ignore[assignment]

    def ids(self) -> list[str]:
        return list(chain.from_iterable(self._groups.values()))

    def errors(self) -> list[BatchError]:
        if self._built is None:
            self._built = [
                BatchError(
                    status=shape.status,
                    category=shape.category,
                    sub_category=shape.sub_category,
                    message=shape.message.replace(_ID_MARK, i),
                    context={"fromObjectId": [i], **{k: list(v) for k, v in shape.context}},
                )
                for shape, ids in self._groups.items()
                for i in ids
            ]
        return self._built


@attrs.frozen(repr=False)
class BatchResult(Generic[T]):
    """A batch envelope, or several merged into one.

    Example::

        result = await client.read("contacts", "companies", ids)
        for item in result.results:
            print(item.from_id, item.to_ids)
        print(result.ids_without_associations)
        result.raise_for_errors()  # only real failures raise

    The ``NO_ASSOCIATIONS_FOUND`` errors of a read are held compactly and built only
    when ``errors`` is read; ``ids_without_associations``, ``failures``, ``failed_ids``,
    ``num_errors`` and ``raise_for_errors`` never build them. In ``errors`` they come
    after every other error.
    """

    status: BatchStatus = BatchStatus.COMPLETE
    results: list[T] = attrs.Factory(list)
    _errors: list[BatchError] = attrs.field(factory=list, alias="errors")
    requested_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    links: dict[str, str] = attrs.Factory(dict)
    _absent: _Absent | None = attrs.field(default=None, alias="_absent", kw_only=True)

    @property
    def errors(self) -> list[BatchError]:
        """Every error entry: HubSpot's, and those hubassoc adds for failed chunks."""
        absent = self._absent
        if not absent:
            return self._errors
        return [*self._errors, *absent.errors()]

    @property
    def num_errors(self) -> int:
        """Number of error entries (equal to ``len(self.errors)``)."""
        return len(self._errors) + (len(self._absent) if self._absent else 0)

    @property
    def ids_without_associations(self) -> list[str]:
        """Ids HubSpot reported as having no associations (a 207 that is not a failure)."""
        out: list[str] = []
        for error in self._errors:
            if error.is_no_associations:
                out.extend(error.context.get("fromObjectId", ()))
        if self._absent:
            # Built once, not built and then copied: a million ids are 8 MB a list.
            return [*out, *self._absent.ids()] if out else self._absent.ids()
        return out

    @property
    def failures(self) -> list[BatchError]:
        """The errors that are real failures (everything but "no associations")."""
        return [e for e in self._errors if not e.is_no_associations]

    @property
    def failed_ids(self) -> list[str]:
        """Input ids named by real failures, deduplicated, in order: re-run these."""
        return list(dict.fromkeys(i for e in self.failures for i in e.ids))

    def raise_for_errors(self) -> None:
        """Raise :class:`hubassoc.BatchErrors` if any error is a real failure."""
        failures = self.failures
        if failures:
            raise BatchErrors(failures)

    def __repr__(self) -> str:
        # Kept short on purpose: asyncio.run formats the repr of main()'s return value.
        return (
            f"BatchResult(status={self.status.value}, results={len(self.results)}, "
            f"errors={self.num_errors})"
        )


@attrs.frozen
class Progress:
    """Where one operation stands; passed to ``on_progress`` after every chunk call.

    ``inputs_done`` counts inputs that need no more calls: for batch read, ids whose last
    page arrived; for writes, pairs or specs whose chunk was answered. Inputs of chunks
    that failed as a whole count as done and also in ``inputs_failed``. ``calls`` counts
    HTTP requests sent, retries included.

    Example::

        def show(p: hubassoc.Progress) -> None:
            print(f"{p.operation}: {p.inputs_done}/{p.inputs_total}, {p.retries} retries")

        await client.read("contacts", "companies", ids, on_progress=show)
    """

    operation: str
    inputs_total: int
    inputs_done: int
    inputs_failed: int
    calls: int
    retries: int
