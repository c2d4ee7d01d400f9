"""The emulator's HTTP endpoints, one module per endpoint family.

A family module defines its handlers and input checks and exports
``_ENDPOINTS``; listing it in ``_FAMILIES`` below is all it takes to serve it.
"""

from __future__ import annotations

from typing import Any, Final

from hubassoc.testing._routes import (
    _associations,
    _configurations,
    _definitions,
    _labelled,
    _oauth,
    _records,
)
from hubassoc.testing._routes._base import _Call, _Endpoint

__all__ = ["_Call", "_Endpoint", "_route"]

_FAMILIES: Final = (
    _associations,
    _labelled,
    _definitions,
    _configurations,
    _records,
    _oauth,
)
_ENDPOINTS: Final[tuple[_Endpoint[Any], ...]] = tuple(
    endpoint for family in _FAMILIES for endpoint in family._ENDPOINTS
)


def _route(method: str, path: str) -> tuple[_Endpoint[Any], tuple[str, ...]] | list[str]:
    """The endpoint for ``method path`` and its path parameters, or the methods ``path`` allows.

    An empty list means no endpoint has that path (404); a non-empty one that
    the path exists for other methods (405).
    """
    allowed: list[str] = []
    for endpoint in _ENDPOINTS:
        match = endpoint.pattern.fullmatch(path)
        if match is None:
            continue
        if endpoint.method == method:
            return endpoint, match.groups()
        if endpoint.method not in allowed:
            allowed.append(endpoint.method)
    return allowed
