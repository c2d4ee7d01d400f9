"""``client.limits``: association limit configurations per object pair."""

from __future__ import annotations

from typing import Any

from .. import _validation as validate
from .._batch import purge_plan
from .._operation import BatchOperation, ProgressCallback
from ._base import Resource


class Limits(Resource):
    """Association limit configurations (how many records of a type one record may have).

    Reached as ``client.limits``; ``client.purge_configurations`` is :meth:`purge`.
    """

    def purge(
        self,
        from_type: str,
        to_type: str,
        specs: Any,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> BatchOperation[dict[str, Any]]:
        """Remove association limit configurations (category and type id) in batches.

        Example::

            spec = AssociationSpec(AssociationCategory.USER_DEFINED, 3)
            await client.limits.purge("contacts", "companies", [spec])
        """
        from_type, to_type = self._types(from_type, to_type)
        clean = validate.specs(specs)
        size = self._client.write_chunk_size
        path = self._paths.configurations(from_type, to_type, "purge")
        return self._operation(
            "purge_configurations",
            lambda: purge_plan(from_type, to_type, clean, size, path=path),
            timeout=timeout,
            on_progress=on_progress,
        )
