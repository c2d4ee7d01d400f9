"""``client.limits``: association limit configurations per object pair."""

from __future__ import annotations

import builtins
from collections.abc import Coroutine
from typing import Any

from .. import _validation as validate
from .._models import LimitConfiguration
from .._operation import BatchOperation, ProgressCallback
from .._wire import parse_collection
from .._writes import limit_plan, purge_plan
from ._base import Resource, check_timeout


def _configurations(raw: Any) -> list[LimitConfiguration]:
    return parse_collection(raw, LimitConfiguration)


class Limits(Resource):
    """Association limit configurations (how many records of a type one record may have).

    Reached as ``client.limits``; ``client.purge_configurations`` is :meth:`purge`.
    A write that would give a record more associations of a type than its limit
    allows comes back from HubSpot as a per-input error in that write's result.

    Example::

        primary = AssociationSpec(AssociationCategory.HUBSPOT_DEFINED, 1)
        await client.limits.create("contacts", "companies", {primary: 1})
        limits = await client.limits.read("contacts", "companies")
    """

    def read_all(
        self, *, timeout: float | None = None
    ) -> Coroutine[Any, Any, builtins.list[LimitConfiguration]]:
        """Every limit configuration of the account (``GET .../configurations/all``).

        HubSpot's answer gives each configuration's type but not its object pair; use
        :meth:`read` for one pair's.
        """
        path = self._paths.configurations()
        return self._call("GET", path, None, _configurations, timeout=check_timeout(timeout))

    def read(
        self, from_type: str, to_type: str, *, timeout: float | None = None
    ) -> Coroutine[Any, Any, builtins.list[LimitConfiguration]]:
        """The limit configurations of one pair (``GET .../configurations/{from}/{to}``)."""
        from_type, to_type = self._types(from_type, to_type)
        path = self._paths.configurations(from_type, to_type)
        return self._call("GET", path, None, _configurations, timeout=check_timeout(timeout))

    def create(
        self,
        from_type: str,
        to_type: str,
        limits: Any,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> BatchOperation[LimitConfiguration]:
        """Set new limits (``batch/create``): ``{spec: max_to_object_ids}`` or ``(spec, max)`` items.

        A spec HubSpot refuses (already limited, unknown type) is an error naming it
        (``context["ids"]`` is ``"CATEGORY:typeId"``).
        """
        return self._write("create", from_type, to_type, limits, timeout, on_progress)

    def update(
        self,
        from_type: str,
        to_type: str,
        limits: Any,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> BatchOperation[LimitConfiguration]:
        """Change existing limits (``batch/update``); inputs as for :meth:`create`."""
        return self._write("update", from_type, to_type, limits, timeout, on_progress)

    def _write(
        self,
        action: str,
        from_type: str,
        to_type: str,
        limits: Any,
        timeout: float | None,
        on_progress: ProgressCallback | None,
    ) -> BatchOperation[LimitConfiguration]:
        from_type, to_type = self._types(from_type, to_type)
        clean = validate.limits(limits)
        size = self._client.write_chunk_size
        path = self._paths.configurations(from_type, to_type, action)
        return self._operation(
            f"{action}_limits",
            lambda: limit_plan(clean, size, path),
            timeout=timeout,
            on_progress=on_progress,
        )

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
