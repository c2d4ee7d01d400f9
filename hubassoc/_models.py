"""Public data models: what the client hands back.

Every model is a frozen, slotted attrs class. Wire names (camelCase, nested ``from.id``)
are mapped in :mod:`hubassoc._wire`; nothing here knows about JSON.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Generic, TypeVar

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


@attrs.frozen
class AssociatedObject:
    """An object on the ``to`` side of an association, with every type linking it."""

    to_object_id: str
    association_types: list[AssociationType]


@attrs.frozen
class AssociationRead:
    """The associations of one ``from`` object.

    In a merged :class:`BatchResult` there is one per from-id, holding every page in
    page order; when streaming there is one per from-id per page.
    """

    from_id: str
    to: list[AssociatedObject]

    @property
    def to_ids(self) -> list[str]:
        """The ``to`` object ids, in HubSpot's order."""
        return [obj.to_object_id for obj in self.to]


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


@attrs.frozen(repr=False)
class BatchResult(Generic[T]):
    """A batch envelope, or several merged into one.

    Example::

        result = await client.read("contacts", "companies", ids)
        for item in result.results:
            print(item.from_id, item.to_ids)
        print(result.ids_without_associations)
        result.raise_for_errors()  # only real failures raise
    """

    status: BatchStatus = BatchStatus.COMPLETE
    results: list[T] = attrs.Factory(list)
    errors: list[BatchError] = attrs.Factory(list)
    requested_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    links: dict[str, str] = attrs.Factory(dict)

    @property
    def num_errors(self) -> int:
        """Number of error entries (equal to ``len(self.errors)``)."""
        return len(self.errors)

    @property
    def ids_without_associations(self) -> list[str]:
        """Ids HubSpot reported as having no associations (a 207 that is not a failure)."""
        out: list[str] = []
        for error in self.errors:
            if error.is_no_associations:
                out.extend(error.context.get("fromObjectId", ()))
        return out

    @property
    def failures(self) -> list[BatchError]:
        """The errors that are real failures (everything but "no associations")."""
        return [e for e in self.errors if not e.is_no_associations]

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
            f"errors={len(self.errors)})"
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
