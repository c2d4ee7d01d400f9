"""The emulator's stored state: the association graph, label definitions and limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hubassoc.testing._cursors import _Issued
from hubassoc.testing._labels import _Labels
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


def _drop(graph: _Graph, from_id: str, to_id: str) -> None:
    edges = graph.get(from_id)
    if edges is not None:
        edges.remove(to_id)
        if not edges.to:
            del graph[from_id]


class _Store:
    """Associations per directed object pair, and limit configurations per pair.

    Types are already normalised (see :mod:`hubassoc.testing._objects`).
    """

    __slots__ = ("configs", "encoded", "issued", "labels", "pairs", "types_json")

    def __init__(self) -> None:
        self.pairs: dict[tuple[str, str], _Graph] = {}
        #: (from, to) -> (category, type id) -> maxToObjectIds.
        self.configs: dict[tuple[str, str], dict[tuple[str, int], int]] = {}
        self.labels = _Labels()
        self.types_json: dict[tuple[_AssocType, ...], list[dict[str, Any]]] = {}
        #: (from, to) -> to-id -> (its types, its batch-read to-object encoded).
        self.encoded: dict[tuple[str, str], dict[str, tuple[tuple[_AssocType, ...], bytes]]] = {}
        #: Batch-read cursors handed out lately.
        self.issued = _Issued()

    def clear(self) -> None:
        self.pairs.clear()
        self.configs.clear()
        self.labels.clear()
        self.types_json.clear()
        self.encoded.clear()
        self.issued.clear()

    def types_between(
        self, from_type: str, to_type: str, from_id: str, to_id: str
    ) -> tuple[_AssocType, ...]:
        edges = self.edges(from_type, to_type, from_id)
        return edges.to.get(to_id, ()) if edges is not None else ()

    def _inverse_id(self, from_type: str, to_type: str, type_id: int) -> int:
        known = self.labels.of(from_type, to_type).get(type_id)
        if known is not None and known.inverse_id is not None:
            return known.inverse_id
        return _reverse_type_id(from_type, to_type, type_id)

    def add_types(
        self, from_type: str, to_type: str, from_id: str, to_id: str, types: list[_AssocType]
    ) -> None:
        """Add association types to one pair, each with its inverse on the reverse edge."""
        for category, type_id, label in types:
            inverse_id = self._inverse_id(from_type, to_type, type_id)
            inverse = self.labels.of(to_type, from_type).get(inverse_id)
            inverse_label = inverse.label if inverse is not None else label
            for f_type, t_type, f_id, t_id, assoc in (
                (from_type, to_type, from_id, to_id, (category, type_id, label)),
                (to_type, from_type, to_id, from_id, (category, inverse_id, inverse_label)),
            ):
                graph = self.pair(f_type, t_type)
                edges = graph.get(f_id)
                if edges is None:
                    edges = graph[f_id] = _Edges()
                edges.add(t_id, assoc)

    def remove_types(
        self, from_type: str, to_type: str, from_id: str, to_id: str, type_ids: set[int]
    ) -> None:
        """Remove association types from one pair (and their inverses); the rest stays."""
        inverse_ids = {self._inverse_id(from_type, to_type, t) for t in type_ids}
        for f_type, t_type, f_id, t_id, gone in (
            (from_type, to_type, from_id, to_id, type_ids),
            (to_type, from_type, to_id, from_id, inverse_ids),
        ):
            edges = self.edges(f_type, t_type, f_id)
            if edges is None or t_id not in edges.to:
                continue
            kept = tuple(t for t in edges.to[t_id] if t[1] not in gone)
            if kept:
                edges.to[t_id] = kept
            else:
                edges.remove(t_id)
                if not edges.to:
                    del self.pairs[(f_type, t_type)][f_id]

    def relabel(self, from_type: str, to_type: str, type_id: int, label: str | None) -> None:
        """Show a renamed label on every stored association of that type."""
        for edges in self.pairs.get((from_type, to_type), {}).values():
            for to_id, types in edges.to.items():
                if any(t[1] == type_id for t in types):
                    edges.to[to_id] = tuple(
                        (c, t, label) if t == type_id else (c, t, lbl) for c, t, lbl in types
                    )

    def over_limit(
        self, from_type: str, to_type: str, from_id: str, to_id: str, category: str, type_id: int
    ) -> int | None:
        """The configured limit that adding this type to the pair would break, if any.

        A configuration limits how many to-records one from-record may have with that
        type; it is checked in both directions (the inverse type on the reverse pair).
        """
        for f_type, t_type, f_id, t_id, t_type_id in (
            (from_type, to_type, from_id, to_id, type_id),
            (to_type, from_type, to_id, from_id, self._inverse_id(from_type, to_type, type_id)),
        ):
            limit = self.configs.get((f_type, t_type), {}).get((category, t_type_id))
            if limit is None:
                continue
            edges = self.edges(f_type, t_type, f_id)
            if edges is None:
                continue
            if any(t[1] == t_type_id for t in edges.to.get(t_id, ())):
                continue  # already there: adding it again changes nothing
            held = sum(1 for types in edges.to.values() if any(t[1] == t_type_id for t in types))
            if held + 1 > limit:
                return limit
        return None

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

    def disassociate_many(
        self, from_type: str, to_type: str, inputs: Sequence[tuple[str, Sequence[str]]]
    ) -> None:
        """Remove every association of each ``(from_id, to_ids)`` pair, both directions."""
        forward = self.pairs.get((from_type, to_type))
        reverse = self.pairs.get((to_type, from_type))
        for from_id, to_ids in inputs:
            for to_id in to_ids:
                if forward is not None:
                    _drop(forward, from_id, to_id)
                if reverse is not None:
                    _drop(reverse, to_id, from_id)

    def disassociate(self, from_type: str, to_type: str, from_id: str, to_id: str) -> None:
        self.disassociate_many(from_type, to_type, [(from_id, [to_id])])

    def encoded_targets(
        self, from_type: str, to_type: str
    ) -> dict[str, tuple[tuple[_AssocType, ...], bytes]]:
        """Encoded to-objects of one direction by to-id, each valid while its types are.

        The types are kept with each entry, and an entry whose types differ from the
        edge's is stale, so writes need not know of it; one entry per to-id, however
        many from-ids share it, keeps it as small as the set of to-objects read.
        """
        encoded = self.encoded.get((from_type, to_type))
        if encoded is None:
            encoded = self.encoded[(from_type, to_type)] = {}
        return encoded

    def types_as_json(self, types: tuple[_AssocType, ...]) -> list[dict[str, Any]]:
        cached = self.types_json.get(types)
        if cached is None:
            cached = [{"category": c, "typeId": t, "label": lbl} for c, t, lbl in types]
            self.types_json[types] = cached
        return cached
