"""``client.associations``: reading, creating and removing associations between records."""

from __future__ import annotations

from typing import Any

from .. import _validation as validate
from .._exceptions import InvalidInputError
from .._models import AssociatedObject, AssociationRead, DefaultAssociation, LabelledAssociation
from .._operation import BatchOperation, ProgressCallback
from .._reading import ReadPlan, RecordPlan
from .._writes import archive_plan, associate_plan, create_plan, labels_archive_plan
from ._base import Resource

#: HubSpot's page size limit for one record's associations.
RECORD_PAGE_LIMIT = 500


class Associations(Resource):
    """Association records: batch read, create (with labels or default) and archive.

    Reached as ``client.associations``; ``client.read``, ``client.associate_default``
    and ``client.archive`` are the same methods.
    """

    def read(
        self,
        from_type: str,
        to_type: str,
        ids: Any,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> BatchOperation[AssociationRead]:
        """Read the associations of many objects (``POST .../batch/read``).

        ``ids`` is any iterable of str or int; duplicates are read once. Every page of
        every id is followed. Await the result to get one :class:`AssociationRead` per
        from-id with associations; iterate it to stream; see :class:`BatchOperation`.

        Example::

            result = await client.read("contacts", "companies", [101, 102])
            result.ids_without_associations   # ['102'], say
        """
        from_type, to_type = self._types(from_type, to_type)
        clean = validate.ids(ids)
        size, pages = self._client.read_chunk_size, self._client.max_pages_per_id
        path = self._paths.batch(from_type, to_type, "read")
        return self._operation(
            "read",
            lambda: ReadPlan(from_type, to_type, clean, size, path=path, max_pages=pages),
            timeout=timeout,
            on_progress=on_progress,
            order=clean,
        )

    def associate_default(
        self,
        from_type: str,
        to_type: str,
        pairs: Any,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> BatchOperation[DefaultAssociation]:
        """Create the default association for each ``(from_id, to_id)`` pair.

        Example::

            res = await client.associate_default("contacts", "companies", [(101, 201)])
        """
        from_type, to_type = self._types(from_type, to_type)
        clean = validate.pairs(pairs)
        size = self._client.write_chunk_size
        path = self._paths.batch(from_type, to_type, "associate/default")
        return self._operation(
            "associate_default",
            lambda: associate_plan(from_type, to_type, clean, size, path=path),
            timeout=timeout,
            on_progress=on_progress,
        )

    def archive(
        self,
        from_type: str,
        to_type: str,
        pairs: Any,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> BatchOperation[dict[str, Any]]:
        """Delete every association between each from-id and its listed to-ids.

        ``pairs`` is ``{from_id: [to_id, ...]}`` or an iterable of ``(from_id, to_id)``.
        HubSpot answers 204 with no body or a 2xx envelope; both give a BatchResult.

        Example::

            await client.archive("contacts", "companies", {"101": ["201", "202"]})
        """
        from_type, to_type = self._types(from_type, to_type)
        clean = validate.pairs_or_mapping(pairs)
        size = self._client.write_chunk_size
        path = self._paths.batch(from_type, to_type, "archive")
        return self._operation(
            "archive",
            lambda: archive_plan(from_type, to_type, clean, size, path=path),
            timeout=timeout,
            on_progress=on_progress,
        )

    def create(
        self,
        from_type: str,
        to_type: str,
        inputs: Any,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> BatchOperation[LabelledAssociation]:
        """Associate pairs with labels (``POST .../batch/create``).

        ``inputs`` are ``(from_id, to_id, spec)`` or ``(from_id, to_id, [spec, ...])``;
        a spec is an :class:`AssociationSpec`, an :class:`AssociationType` (such as a
        label from ``client.labels.list``) or ``(category, type_id)``. A repeated pair's
        types are sent together. Each result lists every label the pair now carries; a
        pair HubSpot neither confirmed nor reported becomes an ``INVALID_RESPONSE`` error.

        Example::

            primary = AssociationSpec(AssociationCategory.HUBSPOT_DEFINED, 1)
            buyer = await client.labels.spec_for("contacts", "companies", "Decision maker")
            result = await client.associations.create(
                "contacts", "companies", [(101, 201, [primary, buyer]), (102, 202, buyer)]
            )
        """
        from_type, to_type = self._types(from_type, to_type)
        clean = validate.typed_pairs(inputs)
        size = self._client.write_chunk_size
        path = self._paths.batch(from_type, to_type, "create")
        return self._operation(
            "create",
            lambda: create_plan(clean, size, path),
            timeout=timeout,
            on_progress=on_progress,
        )

    def archive_labels(
        self,
        from_type: str,
        to_type: str,
        inputs: Any,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> BatchOperation[dict[str, Any]]:
        """Remove labels from pairs and keep the association (``POST .../batch/labels/archive``).

        ``inputs`` are as for :meth:`create`. Removing the unlabeled (default) type
        removes the whole association, as HubSpot does.

        Example::

            await client.associations.archive_labels("contacts", "companies", [(101, 201, buyer)])
        """
        from_type, to_type = self._types(from_type, to_type)
        clean = validate.typed_pairs(inputs)
        size = self._client.write_chunk_size
        path = self._paths.batch(from_type, to_type, "labels/archive")
        return self._operation(
            "archive_labels",
            lambda: labels_archive_plan(clean, size, path),
            timeout=timeout,
            on_progress=on_progress,
        )

    def list(
        self,
        from_type: str,
        from_id: str | int,
        to_type: str,
        *,
        limit: int = RECORD_PAGE_LIMIT,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> BatchOperation[AssociatedObject]:
        """One record's associations with one object type (``GET /crm/v4/objects/.../associations/{to}``).

        Pages of ``limit`` (at most 500) are followed through ``after`` until HubSpot
        leaves ``paging`` out. Iterate it to stream the associated objects, or await it
        for all of them in one :class:`BatchResult`.

        Example::

            async for obj in client.associations.list("contacts", 101, "companies"):
                print(obj.to_object_id, [t.label for t in obj.association_types])
        """
        from_type, to_type = self._types(from_type, to_type)
        record_id = validate.object_id(from_id, "from_id")
        validate.positive_int(limit, "limit")
        if limit > RECORD_PAGE_LIMIT:
            raise InvalidInputError(f"limit may be at most {RECORD_PAGE_LIMIT} (HubSpot's limit)")
        path = self._paths.record(from_type, record_id, to_type)
        pages = self._client.max_pages_per_id
        return self._operation(
            "list",
            lambda: RecordPlan(record_id, path, limit, max_pages=pages),
            timeout=timeout,
            on_progress=on_progress,
            objects=True,
        )
