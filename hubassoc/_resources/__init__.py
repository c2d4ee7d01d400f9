"""The client's endpoint families, one module each, reached as client attributes.

``client.associations`` (:mod:`._associations`), ``client.labels``
(:mod:`._labels`) and ``client.limits`` (:mod:`._limits`). Each public method validates its inputs, picks a plan from
:mod:`hubassoc._batch` and returns a :class:`~hubassoc.BatchOperation`; the shared
part lives in :mod:`._base`.
"""

from ._associations import Associations
from ._base import Resource
from ._labels import Labels
from ._limits import Limits

__all__ = ["Associations", "Labels", "Limits", "Resource"]
