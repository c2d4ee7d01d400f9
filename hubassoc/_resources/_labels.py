"""``client.labels``: association label definitions of an object pair."""

from __future__ import annotations

import builtins
from collections.abc import Coroutine
from typing import Any

from .._exceptions import InvalidInputError
from .._models import AssociationSpec, AssociationType
from .._wire import parse_collection
from ._base import Resource, check_timeout


def _label_text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _type_id(value: Any) -> int:
    if isinstance(value, AssociationSpec | AssociationType):
        return value.type_id
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"type_id must be an int or an AssociationSpec, got {value!r}")
    return value


def _types(raw: Any) -> list[AssociationType]:
    return parse_collection(raw, AssociationType)


def _nothing(raw: Any) -> None:
    return None


class Labels(Resource):
    """Label definitions: which association types (and their ids) exist between two object types.

    Every method validates its arguments when called and returns a coroutine that
    makes one request.

    Example::

        labels = await client.labels.list("contacts", "companies")
        buyer, inverse = await client.labels.create(
            "contacts", "companies", "Decision maker", inverse_label="Has decision maker"
        )
    """

    def list(
        self, from_type: str, to_type: str, *, timeout: float | None = None
    ) -> Coroutine[Any, Any, builtins.list[AssociationType]]:
        """Every association type from ``from_type`` to ``to_type`` (``GET .../labels``).

        HubSpot's own types (the unlabeled default, "Primary") come with the custom ones.
        """
        from_type, to_type = self._types(from_type, to_type)
        path = self._paths.labels(from_type, to_type)
        return self._call("GET", path, None, _types, timeout=check_timeout(timeout))

    def create(
        self,
        from_type: str,
        to_type: str,
        label: str,
        *,
        name: str | None = None,
        inverse_label: str | None = None,
        timeout: float | None = None,
    ) -> Coroutine[Any, Any, builtins.list[AssociationType]]:
        """Create a custom label (``POST .../labels``); returns its type in each direction.

        ``name`` is the label's internal name (default: ``label`` in snake case);
        ``inverse_label`` names the label as seen from ``to_type`` (a paired label).
        The first type returned is ``from_type`` → ``to_type``, the second (when HubSpot
        sends one) the inverse.
        """
        from_type, to_type = self._types(from_type, to_type)
        label = _label_text(label, "label")
        body: dict[str, Any] = {
            "label": label,
            "name": _label_text(name, "name")
            if name is not None
            else "_".join(label.lower().split()),
        }
        if inverse_label is not None:
            body["inverseLabel"] = _label_text(inverse_label, "inverse_label")
        path = self._paths.labels(from_type, to_type)
        return self._call("POST", path, body, _types, timeout=check_timeout(timeout))

    def update(
        self,
        from_type: str,
        to_type: str,
        type_id: int | AssociationSpec | AssociationType,
        label: str,
        *,
        inverse_label: str | None = None,
        timeout: float | None = None,
    ) -> Coroutine[Any, Any, None]:
        """Rename a custom label (``PUT .../labels``), and its inverse when given."""
        from_type, to_type = self._types(from_type, to_type)
        body: dict[str, Any] = {
            "associationTypeId": _type_id(type_id),
            "label": _label_text(label, "label"),
        }
        if inverse_label is not None:
            body["inverseLabel"] = _label_text(inverse_label, "inverse_label")
        path = self._paths.labels(from_type, to_type)
        return self._call("PUT", path, body, _nothing, timeout=check_timeout(timeout))

    def delete(
        self,
        from_type: str,
        to_type: str,
        type_id: int | AssociationSpec | AssociationType,
        *,
        timeout: float | None = None,
    ) -> Coroutine[Any, Any, None]:
        """Delete a custom label (``DELETE .../labels/{typeId}``)."""
        from_type, to_type = self._types(from_type, to_type)
        path = self._paths.labels(from_type, to_type, _type_id(type_id))
        return self._call("DELETE", path, None, _nothing, timeout=check_timeout(timeout))

    async def spec_for(
        self, from_type: str, to_type: str, label: str, *, timeout: float | None = None
    ) -> AssociationSpec:
        """The :class:`AssociationSpec` of the label called ``label`` (one ``list`` call).

        Raises :class:`InvalidInputError` naming the pair's labels when none has that name.

        Example::

            primary = await client.labels.spec_for("contacts", "companies", "Primary")
        """
        label = _label_text(label, "label")
        types = await self.list(from_type, to_type, timeout=timeout)
        for found in types:
            if found.label == label:
                return found.spec
        known = sorted({t.label for t in types if t.label is not None})
        raise InvalidInputError(
            f"no association label {label!r} from {from_type} to {to_type}; "
            f"the labels are: {', '.join(map(repr, known)) or 'none'}"
        )


__all__ = ["Labels"]
