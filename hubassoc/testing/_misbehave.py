"""Answers that look right and are not: what :meth:`FakeHubSpot.misbehave` serves.

HubSpot changes answers without notice, and proxies in front of it do worse. Each
misbehaviour rewrites the 2xx answer the emulator would have given (after the request
was applied, so the stored graph is what a correct answer would have described):

``bad_id``
    ``field`` (``"toObjectId"``, ``"from.id"`` or ``"to.id"``) of the first result
    becomes ``value`` (default ``1.5``). On batch create the fields are
    ``"fromObjectId"``/``"toObjectId"``; on one record's list, ``"toObjectId"``.
``unasked_result``
    One more result, for from-id ``value`` (default ``"999"``), which was not asked
    (on writes, the pair ``(value, value)``).
``duplicate_result``
    Every result twice: the same from-id twice in one page, the same pair twice.
``unknown_status``
    The envelope's ``status`` becomes ``value`` (default ``"FAILED"``).
``overlapping_pages``
    Every batch-read cursor points one to-object back, so each next page repeats the
    last to-object of the page before (as cursors that shift under concurrent writes do).
``endless_cursor``
    Every batch-read result (and every page of one record's list) carries a new
    ``paging.next.after``, even past the last page: paging never ends by itself.
``repeated_to_object``
    Every batch-read result lists each of its to-objects twice, in a row.
``two_cursors``
    A first page of a batch-read id that has more pages comes with a second result for
    the same id carrying a second, different cursor (both valid).
``unconfirmed_write``
    A write answer keeps only its first ``value`` results (default 0): ``{"status":
    "COMPLETE", "results": []}`` for a pair that was sent and applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import attrs

from hubassoc.testing._cursors import _decode_cursor, _encode_cursor
from hubassoc.testing._replies import _dumps, _loads, _Reply

KINDS: Final = frozenset(
    {
        "bad_id",
        "unasked_result",
        "duplicate_result",
        "unknown_status",
        "overlapping_pages",
        "repeated_to_object",
        "endless_cursor",
        "two_cursors",
        "unconfirmed_write",
    }
)
_DEFAULTS: Final[dict[str, Any]] = {
    "bad_id": 1.5,
    "unasked_result": "999",
    "unknown_status": "FAILED",
    "unconfirmed_write": 0,
}
_READ: Final = "read"
_RECORD: Final = "record_associations"
_WRITES: Final = frozenset({"associate", "create"})


@attrs.define
class _Rule:
    kind: str
    value: Any
    field: str | None
    endpoints: frozenset[str] | None
    remaining: int | None


def _rule(
    kind: str, value: Any, field: str | None, endpoints: Iterable[str] | None, times: int | None
) -> _Rule:
    if kind not in KINDS:
        raise ValueError(f"unknown misbehaviour {kind!r}; one of {sorted(KINDS)}")
    if times is not None and times < 1:
        raise ValueError("times must be >= 1 (or None for every answer)")
    if value is _UNSET:
        value = _DEFAULTS.get(kind)
    if kind == "bad_id" and field is None:
        field = "toObjectId"
    return _Rule(kind, value, field, None if endpoints is None else frozenset(endpoints), times)


_UNSET: Any = object()


class _Misbehaviour:
    """The rules in force, applied in the order they were given."""

    def __init__(self) -> None:
        self.rules: list[_Rule] = []
        self._cursors = 0

    def add(self, rule: _Rule) -> None:
        self.rules.append(rule)

    def clear(self) -> None:
        self.rules.clear()

    def apply(
        self, endpoint: str, params: tuple[str, ...], body: Any, reply: _Reply, page_size: int
    ) -> _Reply:
        """The answer after every matching rule has had its way with it."""
        if not self.rules or not 200 <= reply.status < 300:
            return reply
        answer: Any = _loads(reply.body) if reply.body else None
        status = reply.status
        changed = False
        for rule in list(self.rules):
            if rule.endpoints is not None and endpoint not in rule.endpoints:
                continue
            new = self._one(rule, endpoint, params, body, answer, page_size)
            if new is None:
                continue
            answer, changed = new, True
            if status == 204:
                status = 200
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self.rules.remove(rule)
        if not changed:
            return reply
        out = _Reply(status, _dumps(answer))
        out.headers.update(reply.headers)
        return out

    def _one(
        self,
        rule: _Rule,
        endpoint: str,
        params: tuple[str, ...],
        body: Any,
        answer: Any,
        page_size: int,
    ) -> Any:
        """The rewritten answer, or None when this rule does not apply to it."""
        kind = rule.kind
        if answer is None and endpoint in _WRITES:
            answer = {"status": "COMPLETE", "results": []}
        if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
            return None
        results: list[Any] = answer["results"]
        if kind == "unknown_status":
            return {**answer, "status": rule.value} if "status" in answer else None
        if kind == "duplicate_result":
            if not results:
                return None
            return {**answer, "results": [r for r in results for _ in (0, 1)]}
        if kind == "bad_id":
            return _bad_id(answer, rule.field or "toObjectId", rule.value)
        if kind == "unasked_result":
            extra = _unasked(endpoint, rule.value, results)
            return None if extra is None else {**answer, "results": [*results, extra]}
        if kind == "unconfirmed_write":
            if endpoint not in _WRITES:
                return None
            return {**answer, "results": results[: int(rule.value)]}
        if kind == "endless_cursor":
            return self._endless(endpoint, params, answer)
        if endpoint != _READ:
            return None
        if kind == "overlapping_pages":
            return _overlapping(answer, page_size)
        if kind == "two_cursors":
            return _two_cursors(answer, body)
        if kind == "repeated_to_object":
            twice = [{**r, "to": [o for o in r["to"] for _ in (0, 1)]} for r in results]
            return {**answer, "results": twice} if results else None
        return None

    def _fresh_cursor(self, from_id: str) -> str:
        # Past the end of any list, so the page is empty, and never sent before.
        self._cursors += 1
        return _encode_cursor(10**9 + self._cursors, from_id)

    def _endless(self, endpoint: str, params: tuple[str, ...], answer: dict[str, Any]) -> Any:
        if endpoint == _RECORD:  # the record's id is the second path parameter
            return {**answer, "paging": {"next": {"after": self._fresh_cursor(params[1])}}}
        if endpoint != _READ or not answer["results"]:
            return None
        results = [
            {**r, "paging": {"next": {"after": self._fresh_cursor(str(r["from"]["id"]))}}}
            for r in answer["results"]
        ]
        return {**answer, "results": results}


def _bad_id(answer: dict[str, Any], field: str, value: Any) -> Any:
    results = answer["results"]
    if not results:
        return None
    first = dict(results[0])
    if field == "toObjectId" and isinstance(first.get("to"), list):  # batch read
        if not first["to"]:
            return None
        first["to"] = [{**first["to"][0], "toObjectId": value}, *first["to"][1:]]
    elif field in ("from.id", "to.id"):
        side = field.split(".")[0]
        if not isinstance(first.get(side), dict):
            return None
        first[side] = {**first[side], "id": value}
    elif field in first:
        first[field] = value
    else:
        return None
    return {**answer, "results": [first, *results[1:]]}


def _unasked(endpoint: str, value: Any, results: list[Any]) -> Any:
    if endpoint == _READ:
        return {"from": {"id": value}, "to": [{"toObjectId": 1, "associationTypes": []}]}
    if endpoint == "associate":
        spec = (
            results[0].get("associationSpec")
            if results
            else {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}
        )
        return {"from": {"id": value}, "to": {"id": value}, "associationSpec": spec}
    if endpoint == "create":
        return {"fromObjectId": value, "toObjectId": value, "labels": []}
    return None


def _overlapping(answer: dict[str, Any], page_size: int) -> Any:
    if page_size < 2:
        return None  # one back would be the same cursor again, not an overlap
    changed = False
    results = []
    for r in answer["results"]:
        after = r.get("paging", {}).get("next", {}).get("after")
        cursor = _decode_cursor(after) if isinstance(after, str) else None
        if cursor is not None and cursor[0] > 0:
            back = _encode_cursor(cursor[0] - 1, cursor[1])
            r = {**r, "paging": {"next": {"after": back}}}
            changed = True
        results.append(r)
    return {**answer, "results": results} if changed else None


def _two_cursors(answer: dict[str, Any], body: Any) -> Any:
    first_pages = {
        str(i.get("id"))
        for i in (body or {}).get("inputs", ())
        if isinstance(i, dict) and i.get("after") is None
    }
    extra = []
    for r in answer["results"]:
        from_id = str(r["from"]["id"])
        after = r.get("paging", {}).get("next", {}).get("after")
        cursor = _decode_cursor(after) if isinstance(after, str) else None
        if from_id in first_pages and cursor is not None and cursor[0] > 1:
            second = _encode_cursor(cursor[0] - 1, from_id)
            extra.append({"from": r["from"], "to": [], "paging": {"next": {"after": second}}})
    return {**answer, "results": [*answer["results"], *extra]} if extra else None
