"""Endpoint paths for each API version, built in one place.

HubSpot serves the associations API under two path families: the ``v4`` paths
(``/crm/v4/associations/...``) and date-versioned ones such as
``/crm/associations/2026-03/...``. See ``docs/api-versions.md`` for the sources.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import quote

from ._exceptions import InvalidInputError

__all__ = ["DEFAULT_API_VERSION", "Paths", "check_api_version"]

DEFAULT_API_VERSION: Final = "v4"
_DATED: Final = re.compile(r"20\d\d-(0[1-9]|1[0-2])")


def check_api_version(value: object) -> str:
    """Validate ``api_version``: ``"v4"`` or a date version such as ``"2026-03"``."""
    if isinstance(value, str) and (value == DEFAULT_API_VERSION or _DATED.fullmatch(value)):
        return value
    raise InvalidInputError(
        f"api_version must be 'v4' or a date version like '2026-03', got {value!r}"
    )


def _q(part: str) -> str:
    return quote(part, safe="")


class Paths:
    """The URL path of every endpoint for one API version; object types are quoted here."""

    __slots__ = ("_associations", "_configurations", "_objects", "version")

    def __init__(self, api_version: str = DEFAULT_API_VERSION) -> None:
        self.version = check_api_version(api_version)
        if self.version == DEFAULT_API_VERSION:
            self._associations = "/crm/v4/associations"
            # The form HubSpot's endpoint reference pages give for the configuration endpoints.
            self._configurations = "/crm/associations/v4/definitions/configurations"
            self._objects = "/crm/v4/objects"
        else:
            self._associations = f"/crm/associations/{self.version}"
            self._configurations = f"/crm/associations/{self.version}/definitions/configurations"
            self._objects = f"/crm/objects/{self.version}"

    def __repr__(self) -> str:
        return f"Paths({self.version!r})"

    def batch(self, from_type: str, to_type: str, action: str) -> str:
        """``.../{from}/{to}/batch/{action}`` (read, create, associate/default, archive, labels/archive)."""
        return f"{self._associations}/{_q(from_type)}/{_q(to_type)}/batch/{action}"

    def labels(self, from_type: str, to_type: str, type_id: int | None = None) -> str:
        """The label definitions of a pair, or one of them by type id."""
        path = f"{self._associations}/{_q(from_type)}/{_q(to_type)}/labels"
        return path if type_id is None else f"{path}/{type_id}"

    def configurations(
        self, from_type: str | None = None, to_type: str | None = None, action: str | None = None
    ) -> str:
        """Limit configurations: ``/all``, a pair's, or a pair's ``batch/{action}``."""
        if from_type is None or to_type is None:
            return f"{self._configurations}/all"
        path = f"{self._configurations}/{_q(from_type)}/{_q(to_type)}"
        return path if action is None else f"{path}/batch/{action}"

    def record(self, object_type: str, object_id: str, to_type: str) -> str:
        """The associations of one record with one object type."""
        return f"{self._objects}/{_q(object_type)}/{_q(object_id)}/associations/{_q(to_type)}"
