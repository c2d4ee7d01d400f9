"""The emulator's seeding and scripting methods: the graph, labels, limits and faults to come.

A mixin of :class:`hubassoc.testing.FakeHubSpot`, apart from the HTTP handling so that
each file holds one job; it only touches the state the server declares below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hubassoc.testing._faults import _check_status, _FailRule
from hubassoc.testing._graph import _Store
from hubassoc.testing._misbehave import _UNSET, _Misbehaviour, _rule
from hubassoc.testing._objects import _HUBSPOT_DEFINED, _normalise_type

#: What seed() takes: from-id -> to-ids, ids as str or int.
_SeedGraph = (
    Mapping[str, Iterable[str | int]]
    | Mapping[int, Iterable[str | int]]
    | Mapping[str | int, Iterable[str | int]]
)


class _Seeding:
    """Methods that set up what the emulated portal holds and how it will misbehave."""

    _store: _Store
    _fail_rules: list[_FailRule]
    _fail_ids: dict[str, int]
    _repeat_ids: set[str]
    _misbehaviour: _Misbehaviour

    def associate(
        self,
        from_type: str,
        to_type: str,
        from_id: str | int,
        to_id: str | int,
        *,
        type_id: int | None = None,
        category: str = _HUBSPOT_DEFINED,
        label: str | None = None,
    ) -> None:
        """Add one association type between two objects, in both directions.

        ``type_id`` defaults to the pair's default (unlabelled) type. The reverse
        direction gets the pair's reverse default, the other half of a known
        HubSpot pair (primary 1/2, 5/6), or else the same id, category and label.
        Adding a type that already exists on the edge is a no-op.
        """
        self._store.associate_many(
            _normalise_type(from_type),
            _normalise_type(to_type),
            [(str(from_id), str(to_id))],
            type_id,
            category,
            label,
        )

    def seed(
        self,
        from_type: str,
        to_type: str,
        graph: _SeedGraph,
    ) -> None:
        """Add default associations ``from_id -> each to_id`` (and the reverses) for a whole graph."""
        pairs = [
            (f_id, str(to_id))
            for from_id, to_ids in graph.items()
            for f_id in (str(from_id),)
            for to_id in to_ids
        ]
        self._store.associate_many(
            _normalise_type(from_type),
            _normalise_type(to_type),
            pairs,
            None,
            _HUBSPOT_DEFINED,
            None,
        )

    def associations(self, from_type: str, to_type: str, from_id: str | int) -> list[str]:
        """Return the to-ids associated with ``from_id``, in insertion order."""
        edges = self._store.edges(
            _normalise_type(from_type), _normalise_type(to_type), str(from_id)
        )
        return list(edges.to) if edges is not None else []

    def graph(self, from_type: str, to_type: str) -> dict[str, list[str]]:
        """Return the directed graph ``from_id -> [to_id, ...]`` of ids with at least one association."""
        pair = self._store.pairs.get((_normalise_type(from_type), _normalise_type(to_type)), {})
        return {from_id: list(edges.to) for from_id, edges in pair.items() if edges.to}

    def association_types(
        self, from_type: str, to_type: str, from_id: str | int, to_id: str | int
    ) -> list[tuple[str, int, str | None]]:
        """The ``(category, type_id, label)`` types stored between two objects, in that direction."""
        return list(
            self._store.types_between(
                _normalise_type(from_type), _normalise_type(to_type), str(from_id), str(to_id)
            )
        )

    def labels(self, from_type: str, to_type: str) -> list[tuple[str, int, str | None]]:
        """The ``(category, type_id, label)`` label definitions of a directed pair.

        HubSpot's own types come first: the unlabelled default and, where HubSpot has
        one, "Primary" (contacts/deals to companies and back).
        """
        defs = self._store.labels.of(_normalise_type(from_type), _normalise_type(to_type))
        return [(d.category, d.type_id, d.label) for d in defs.values()]

    def add_label(
        self, from_type: str, to_type: str, label: str, *, inverse_label: str | None = None
    ) -> tuple[int, int | None]:
        """Define a ``USER_DEFINED`` label; return its type id and its inverse's.

        Ids come from this emulator's own counter (as a portal's do), starting at 1000;
        the inverse is None only for a same-type label without ``inverse_label``.
        """
        created, inverse = self._store.labels.create(
            _normalise_type(from_type),
            _normalise_type(to_type),
            label,
            "_".join(label.lower().split()),
            inverse_label,
        )
        return created.type_id, inverse.type_id if inverse is not None else None

    def add_configuration(
        self,
        from_type: str,
        to_type: str,
        category: str,
        type_id: int,
        max_to_object_ids: int = 1,
    ) -> None:
        """Add (or replace) an association limit configuration for a directed pair."""
        key = (_normalise_type(from_type), _normalise_type(to_type))
        self._store.configs.setdefault(key, {})[(category, type_id)] = max_to_object_ids

    def limit(self, from_type: str, to_type: str, category: str, type_id: int) -> int | None:
        """The configured ``maxToObjectIds`` of one association type, or None when unlimited."""
        key = (_normalise_type(from_type), _normalise_type(to_type))
        return self._store.configs.get(key, {}).get((category, type_id))

    def configurations(self, from_type: str, to_type: str) -> list[tuple[str, int]]:
        """Return the ``(category, type_id)`` configurations of a directed pair."""
        key = (_normalise_type(from_type), _normalise_type(to_type))
        return list(self._store.configs.get(key, {}))

    def seed_demo(self) -> None:
        """Seed the demo data set used by ``python -m hubassoc.testing --seed-demo``.

        contacts -> companies: contact 101 -> companies 201, 202; contact 102 -> 203;
        contact 103 -> 250 companies 1001..1250 (three pages at the default page size);
        contact 104 has none (a read gives NO_ASSOCIATIONS_FOUND). The reverse
        companies -> contacts edges exist too. One configuration: contacts -> companies
        USER_DEFINED / typeId 3 with a limit of 10.
        """
        self.seed(
            "contacts",
            "companies",
            {
                "101": ["201", "202"],
                "102": ["203"],
                "103": [str(1000 + i) for i in range(1, 251)],
            },
        )
        self.add_configuration("contacts", "companies", "USER_DEFINED", 3, 10)

    def fail_ids(self, ids: Iterable[str | int], status: int = 400) -> None:
        """Reject, whole and unapplied, any request whose inputs mention one of ``ids``.

        Mentions are the read ``id`` and the write ``from``/``to`` ids. The answer is
        ``status`` with a HubSpot error body (400 gives ``VALIDATION_ERROR``).
        """
        _check_status(status)
        for object_id in ids:
            self._fail_ids[str(object_id)] = status

    def fail_next(
        self,
        count: int,
        status: int,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status``, applying nothing.

        Rules are matched at arrival, before routing and authentication, in the
        order they were added; ``path_contains`` restricts a rule to paths holding
        that substring. The default body is a HubSpot error body for the status
        (for 429 a ``TEN_SECONDLY_ROLLING`` one with rate-limit headers, for 2xx an
        empty COMPLETE envelope, for 204 nothing). ``headers`` are added last.
        """
        _check_status(status)
        if count < 0:
            raise ValueError("count must be >= 0")
        if count:
            self._fail_rules.append(
                _FailRule(count, status, body, dict(headers or {}), path_contains)
            )

    def repeat_cursor_for(self, ids: Iterable[str | int]) -> None:
        """Make batch reads of these ids always return a result with the same ``paging.next.after``."""
        self._repeat_ids.update(str(object_id) for object_id in ids)

    def misbehave(
        self,
        kind: str,
        *,
        value: Any = _UNSET,
        field: str | None = None,
        endpoints: Iterable[str] | None = None,
        times: int | None = None,
    ) -> None:
        """Serve 2xx answers that look right and are not, to test code against them.

        ``kind`` is one of ``bad_id``, ``unasked_result``, ``duplicate_result``,
        ``unknown_status``, ``overlapping_pages``, ``endless_cursor``, ``two_cursors``
        and ``unconfirmed_write`` (see :mod:`hubassoc.testing._misbehave` and
        ``docs/emulator.md`` for what each does and what ``value``/``field`` mean).
        The request is applied as usual; only its answer is rewritten. ``endpoints``
        limits the rule to some endpoints (``"read"``, ``"associate"``, ``"create"``,
        ``"record_associations"``); ``times`` to that many answers (default: all, until
        :meth:`reset`). Several rules apply in the order given.

        Example::

            hub.misbehave("bad_id", field="toObjectId", value=1.5, times=1)
            hub.misbehave("endless_cursor", endpoints=["read"])
        """
        self._misbehaviour.add(_rule(kind, value, field, endpoints, times))
