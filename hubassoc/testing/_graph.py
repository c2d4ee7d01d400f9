"""The emulator's stored state: the association graph and the limit configurations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hubassoc.testing._objects import _default_type_id, _reverse_type_id

# (category, typeId, label) of one association type on one edge.
_AssocType = tuple[str, int, str | None]


class _Edges:
    """The to-objects of one from-object, in insertion order, with a cached order list."""

    __slots__ = ("cached_order", "to")

    def __init__(self) -> None:
        self.to: dict[str, tuple[_AssocType, ...]] = {}
        self.cached_order: list[str] | None = None

    def order(self) -> list[str]:
        # Rebuilt only after a mutation, so paging through a stable id costs O(page).
        if self.cached_order is None:
            self.cached_order = list(self.to)
        return self.cached_order

    def add(self, to_id: str, assoc: _AssocType) -> None:
        current = self.to.get(to_id)
        if current is None:
            self.to[to_id] = (assoc,)
            # Dicts append new keys at the end, so the cached order stays valid.
            if self.cached_order is not None:
                self.cached_order.append(to_id)
        elif not any(t[0] == assoc[0] and t[1] == assoc[1] for t in current):
            self.to[to_id] = (*current, assoc)

    def remove(self, to_id: str) -> None:
        if self.to.pop(to_id, None) is not None:
            self.cached_order = None


_Graph = dict[str, _Edges]


class _Store:
    """Associations per directed object pair, and limit configurations per pair.

    Types are already normalised (see :mod:`hubassoc.testing._objects`).
    """

    __slots__ = ("configs", "pairs", "types_json")

    def __init__(self) -> None:
        self.pairs: dict[tuple[str, str], _Graph] = {}
        self.configs: dict[tuple[str, str], dict[tuple[str, int], int]] = {}
        self.types_json: dict[tuple[_AssocType, ...], list[dict[str, Any]]] = {}

    def clear(self) -> None:
        self.pairs.clear()
        self.configs.clear()
        self.types_json.clear()

    def pair(self, from_type: str, to_type: str) -> _Graph:
        """The graph of one direction, created empty when missing."""
        pair = self.pairs.get((from_type, to_type))
        if pair is None:
            pair = self.pairs[(from_type, to_type)] = {}
        return pair

    def edges(self, from_type: str, to_type: str, from_id: str) -> _Edges | None:
        pair = self.pairs.get((from_type, to_type))
        return pair.get(from_id) if pair is not None else None

    def associate_many(
        self,
        from_type: str,
        to_type: str,
        pairs: Sequence[tuple[str, str]],
        type_id: int | None,
        category: str,
        label: str | None,
    ) -> None:
        if type_id is None:
            type_id = _default_type_id(from_type, to_type)
        # One shared tuple per direction keeps memory flat and the JSON cache hot.
        forward_type = (category, type_id, label)
        reverse_type = (category, _reverse_type_id(from_type, to_type, type_id), label)
        forward = self.pair(from_type, to_type)
        reverse = self.pair(to_type, from_type)
        for graph, key_type, (a, b) in (
            (forward, forward_type, (0, 1)),
            (reverse, reverse_type, (1, 0)),
        ):
            only = (key_type,)
            for pair in pairs:
                edges = graph.get(pair[a])
                if edges is None:
                    edges = graph[pair[a]] = _Edges()
                # Inlined fast path of _Edges.add: seeding large graphs is dominated by it.
                to = edges.to
                size = len(to)
                current = to.setdefault(pair[b], only)
                if len(to) != size:
                    if edges.cached_order is not None:
                        edges.cached_order.append(pair[b])
                elif current is not only:
                    edges.add(pair[b], key_type)

    def disassociate(self, from_type: str, to_type: str, from_id: str, to_id: str) -> None:
        for f_type, t_type, f_id, t_id in (
            (from_type, to_type, from_id, to_id),
            (to_type, from_type, to_id, from_id),
        ):
            pair = self.pairs.get((f_type, t_type))
            if pair is None:
                continue
            edges = pair.get(f_id)
            if edges is None:
                continue
            edges.remove(t_id)
            if not edges.to:
                del pair[f_id]

    def types_as_json(self, types: tuple[_AssocType, ...]) -> list[dict[str, Any]]:
        cached = self.types_json.get(types)
        if cached is None:
            cached = [{"category": c, "typeId": t, "label": lbl} for c, t, lbl in types]
            self.types_json[types] = cached
        return cached
