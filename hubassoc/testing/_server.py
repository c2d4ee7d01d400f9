"""In-process HubSpot emulator for the CRM Associations v4 batch endpoints."""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import contextlib
import hmac
import http
import json
import random
import re
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Literal, Self

import attrs
from aiohttp import web

__all__ = ["FakeHubSpot", "Faults", "RecordedRequest"]


def _json_codec() -> tuple[Callable[[Any], bytes], Callable[[bytes], Any]]:
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is an optional speed-up
        return (
            lambda obj: json.dumps(obj, separators=(",", ":")).encode(),
            json.loads,
        )
    return orjson.dumps, orjson.loads


_dumps, _loads = _json_codec()

# (category, typeId, label) of one association type on one edge.
_AssocType = tuple[str, int, str | None]
_Op = Literal["read", "associate", "archive", "purge"]

_OBJECT_TYPE_RE: Final = re.compile(r"[A-Za-z0-9_-]+")
_ASSOC_ROUTE_RE: Final = re.compile(
    r"/crm/v4/associations/([^/]+)/([^/]+)/batch/(read|associate/default|archive)"
)
_PURGE_ROUTE_RE: Final = re.compile(
    r"/crm/associations/v4/definitions/configurations/([^/]+)/([^/]+)/batch/purge"
)
_OPS: Final[Mapping[str, _Op]] = {
    "read": "read",
    "associate/default": "associate",
    "archive": "archive",
}

_TYPE_ALIASES: Final[Mapping[str, str]] = {
    "contact": "contacts",
    "contacts": "contacts",
    "0-1": "contacts",
    "company": "companies",
    "companies": "companies",
    "0-2": "companies",
    "deal": "deals",
    "deals": "deals",
    "0-3": "deals",
    "ticket": "tickets",
    "tickets": "tickets",
    "0-5": "tickets",
}
_SINGULAR: Final[Mapping[str, str]] = {
    "contacts": "contact",
    "companies": "company",
    "deals": "deal",
    "tickets": "ticket",
}
_DEFAULT_TYPE_IDS: Final[Mapping[tuple[str, str], int]] = {
    ("contacts", "companies"): 279,
    ("companies", "contacts"): 280,
    ("deals", "contacts"): 3,
    ("contacts", "deals"): 4,
    ("deals", "companies"): 341,
    ("companies", "deals"): 342,
    ("contacts", "tickets"): 15,
    ("tickets", "contacts"): 16,
}
# HubSpot-defined types whose reverse direction has a different id (primary company).
_KNOWN_REVERSE_IDS: Final[Mapping[tuple[str, str, int], int]] = {
    ("contacts", "companies", 1): 2,
    ("companies", "contacts", 2): 1,
    ("deals", "companies", 5): 6,
    ("companies", "deals", 6): 5,
}

_HUBSPOT_DEFINED: Final = "HUBSPOT_DEFINED"
_JSON: Final = "application/json"
_DEFAULT_WINDOW: Final = (100, 10.0)
_MAX_BODY_BYTES: Final = 64 * 1024**2
_SHUTDOWN_TIMEOUT: Final = 1.0

_AUTH_MESSAGE: Final = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication "
    "and you can find more details at "
    "https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
_SCOPES_MESSAGE: Final = (
    "This app hasn't been granted all required scopes to make this call. Read more about "
    "required scopes here: https://developers.hubspot.com/scopes."
)
_CATEGORY_BY_STATUS: Final[Mapping[int, str]] = {
    400: "VALIDATION_ERROR",
    401: "INVALID_AUTHENTICATION",
    403: "MISSING_SCOPES",
    404: "OBJECT_NOT_FOUND",
    405: "VALIDATION_ERROR",
    409: "CONFLICT",
    423: "LOCKED",
    477: "MIGRATION_IN_PROGRESS",
}
_GATEWAY_PAGE: Final = (
    "<!DOCTYPE html>\n<html>\n<head><title>{status} {phrase}</title></head>\n"
    "<body>\n<center><h1>{status} {phrase}</h1></center>\n"
    "<hr><center>cloudflare</center>\n</body>\n</html>\n"
)


def _normalise_type(object_type: str) -> str:
    lowered = object_type.lower()
    return _TYPE_ALIASES.get(lowered, lowered)


def _singular(object_type: str) -> str:
    return _SINGULAR.get(object_type, object_type)


def _derived_type_id(from_type: str, to_type: str) -> int:
    # crc32 rather than hash(): the id must not change between processes.
    return 100_000 + zlib.crc32(f"{from_type}->{to_type}".encode()) % 900_000


def _default_type_id(from_type: str, to_type: str) -> int:
    known = _DEFAULT_TYPE_IDS.get((from_type, to_type))
    return known if known is not None else _derived_type_id(from_type, to_type)


def _reverse_type_id(from_type: str, to_type: str, type_id: int) -> int:
    if type_id == _default_type_id(from_type, to_type):
        return _default_type_id(to_type, from_type)
    return _KNOWN_REVERSE_IDS.get((from_type, to_type, type_id), type_id)


def _json_id(object_id: str) -> int | str:
    # HubSpot sends toObjectId as a number; ids that would not survive an int round
    # trip (leading zeros, non-digits, beyond int64) stay strings.
    if (
        object_id.isdigit()
        and object_id.isascii()
        and len(object_id) <= 18
        and (object_id[0] != "0" or object_id == "0")
    ):
        return int(object_id)
    return object_id


def _encode_cursor(offset: int, from_id: str) -> str:
    raw = base64.urlsafe_b64encode(f"{offset}:{from_id}".encode()).decode("ascii")
    return raw.replace("=", "%3D")


def _decode_cursor(after: str) -> tuple[int, str] | None:
    try:
        text = base64.urlsafe_b64decode(after.replace("%3D", "=")).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    offset_text, sep, from_id = text.partition(":")
    if not sep or not offset_text.isdigit():
        return None
    offset = int(offset_text)
    # Only canonical cursors are accepted, so edited or made-up strings are rejected.
    if _encode_cursor(offset, from_id) != after.replace("=", "%3D"):
        return None
    return offset, from_id


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Migration In Progress" if status == 477 else "Error"


def _check_probability(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be between 0 and 1, got {value!r}")


def _check_non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _check_optional_non_negative(
    instance: object, attribute: attrs.Attribute[float | None], value: float | None
) -> None:
    if value is not None and value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


@attrs.frozen
class Faults:
    """Random transport and server faults injected by :class:`FakeHubSpot`.

    Each arriving request draws its fate from one ``random.Random(seed)`` owned
    by the emulator, in arrival order and whether or not the fault ends up
    applying, so the k-th request always gets the k-th decision and a seed
    replays the same outcomes for the same sequence of requests.
    ``rate_limit``, ``server_error``, ``disconnect`` and ``truncated`` are
    mutually exclusive outcomes (their sum must not exceed 1); ``slow`` is drawn
    independently and delays any request by ``slow_seconds``. Faults never
    touch a request that a scripted rule (``fail_next``, ``fail_ids``,
    ``missing_scopes``, authentication), the rate limiter or input validation
    already answered. Assigning :attr:`FakeHubSpot.faults` or calling
    :meth:`FakeHubSpot.reset` re-seeds the generator.

    Attributes:
        seed: Seed of the emulator's random generator.
        rate_limit: Probability of a 429 ``TEN_SECONDLY_ROLLING`` answer.
        retry_after: Value of the ``Retry-After`` header on those 429s (omitted when None).
        server_error: Probability of a 500, 502, 503 or 504; 502 and 503 carry an
            HTML gateway page instead of JSON. Nothing is applied.
        disconnect: Probability that the connection is closed without a response;
            half of these happen after the request was applied, half before.
        truncated: Probability of a 200 whose JSON body is cut in half, sent after
            the request was applied.
        slow: Probability of an extra delay of ``slow_seconds`` before answering.
        slow_seconds: Length of that delay.
    """

    seed: int = 0
    rate_limit: float = attrs.field(default=0.0, validator=_check_probability)
    retry_after: float | None = attrs.field(default=None, validator=_check_optional_non_negative)
    server_error: float = attrs.field(default=0.0, validator=_check_probability)
    disconnect: float = attrs.field(default=0.0, validator=_check_probability)
    truncated: float = attrs.field(default=0.0, validator=_check_probability)
    slow: float = attrs.field(default=0.0, validator=_check_probability)
    slow_seconds: float = attrs.field(default=0.5, validator=_check_non_negative)

    def __attrs_post_init__(self) -> None:
        total = self.rate_limit + self.server_error + self.disconnect + self.truncated
        if total > 1.0 + 1e-9:
            raise ValueError(
                "rate_limit + server_error + disconnect + truncated must not exceed 1, "
                f"got {total!r}"
            )


@attrs.frozen
class RecordedRequest:
    """One request the emulator handled, as seen by tests.

    The token and the ``Authorization`` header value are never stored.

    Attributes:
        method: HTTP method.
        path: URL path without the query string.
        body: Parsed JSON body, or None when the body was empty or not JSON.
        status: HTTP status sent back; 0 when the connection was closed without a response.
        n_inputs: ``len(body["inputs"])`` when that is a list, else 0.
        authorization_present: Whether an ``Authorization`` header was sent.
    """

    method: str
    path: str
    body: Any
    status: int
    n_inputs: int
    authorization_present: bool


@attrs.define(slots=True)
class _Reply:
    status: int
    body: bytes = b""
    content_type: str | None = _JSON
    headers: dict[str, str] = attrs.Factory(dict)
    disconnect: bool = False


@attrs.frozen
class _Route:
    op: _Op
    from_raw: str
    to_raw: str


@attrs.define(slots=True)
class _FailRule:
    remaining: int
    status: int
    body: bytes | None
    headers: dict[str, str]
    path_contains: str | None


@attrs.define(slots=True)
class _Slot:
    """Placeholder that keeps ``requests`` in arrival order until the answer is known."""

    record: RecordedRequest | None = None


#: What seed() takes: from-id -> to-ids, ids as str or int.
_SeedGraph = (
    Mapping[str, Iterable[str | int]]
    | Mapping[int, Iterable[str | int]]
    | Mapping[str | int, Iterable[str | int]]
)


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


class FakeHubSpot:
    """A stateful HubSpot CRM Associations v4 emulator served over a real socket.

    Use it as an async context manager, point a client at :attr:`url`, seed the
    association graph with :meth:`associate`/:meth:`seed`, script failures with
    :meth:`fail_next`, :meth:`fail_ids`, :attr:`invalid_ids`,
    :attr:`missing_scopes` or :class:`Faults`, and inspect :attr:`requests`
    afterwards. See the :mod:`hubassoc.testing` docstring for the HTTP behaviour.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        page_size: int = 100,
        read_limit: int = 1000,
        write_limit: int = 2000,
        rate_limit: tuple[int, float] | None = None,
        daily_limit: int | None = None,
        latency: float = 0.0,
        faults: Faults | None = None,
        empty_write_responses: bool = True,
    ) -> None:
        """Configure the emulator; nothing listens until :meth:`start`."""
        if page_size < 1:
            raise ValueError("page_size must be >= 1")
        if read_limit < 1 or write_limit < 1:
            raise ValueError("read_limit and write_limit must be >= 1")
        if rate_limit is not None and (rate_limit[0] < 1 or rate_limit[1] <= 0):
            raise ValueError("rate_limit must be (max_requests >= 1, interval_seconds > 0)")
        if daily_limit is not None and daily_limit < 0:
            raise ValueError("daily_limit must be >= 0")
        if latency < 0:
            raise ValueError("latency must be >= 0")
        self._host = host
        self._port = port
        self._token = token
        self.page_size = page_size
        """Maximum number of to-objects per batch-read result page."""
        self.read_limit = read_limit
        """Maximum number of inputs accepted by ``batch/read``."""
        self.write_limit = write_limit
        """Maximum number of inputs accepted by the write endpoints."""
        self.rate_limit = rate_limit
        """``(max_requests, interval_seconds)`` of the rolling window, or None for no limit."""
        self.daily_limit = daily_limit
        """Number of requests accepted before every request gets a ``DAILY`` 429."""
        self.latency = latency
        """Seconds every handler waits before answering."""
        self.empty_write_responses = empty_write_responses
        """Answer successful archive and purge calls with 204 (True) or a 200 envelope."""
        self.invalid_ids: set[str] = set()
        """Object ids that do not exist: per-input errors on writes, per-id errors on reads."""
        self.missing_scopes: list[str] = []
        """When non-empty, every authenticated request gets 403 ``MISSING_SCOPES``."""

        self._faults = faults
        self._rng = random.Random(faults.seed if faults is not None else 0)
        self._graph: dict[tuple[str, str], _Graph] = {}
        self._configs: dict[tuple[str, str], dict[tuple[str, int], int]] = {}
        self._fail_rules: list[_FailRule] = []
        self._fail_ids: dict[str, int] = {}
        self._repeat_ids: set[str] = set()
        self._slots: list[_Slot] = []
        self._arrivals = 0
        self._max_inputs_seen = 0
        self._in_flight = 0
        self._max_in_flight = 0
        self._status_counts: collections.Counter[int] = collections.Counter()
        self._window: collections.deque[float] = collections.deque()
        self._daily_used = 0
        self._held = False
        self._gate: asyncio.Event | None = None
        self._closing: asyncio.Event | None = None
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._types_json: dict[tuple[_AssocType, ...], list[dict[str, Any]]] = {}

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind the socket and start serving."""
        if self._runner is not None:
            raise RuntimeError("FakeHubSpot is already started")
        self._gate = asyncio.Event()
        if not self._held:
            self._gate.set()
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=_MAX_BODY_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._url = f"http://{host}:{port}"

    async def close(self) -> None:
        """Stop serving. Safe to call twice.

        Requests still in flight are released from :meth:`hold` and cut short of
        ``latency`` and slow faults, then answered before the socket closes.
        """
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self.release()
        if self._closing is not None:
            self._closing.set()
        try:
            await runner.cleanup()
        finally:
            self._url = None
            waiters, self._waiters = self._waiters, []
            for _, future in waiters:
                if not future.done():
                    future.set_exception(RuntimeError("FakeHubSpot was closed"))

    async def __aenter__(self) -> Self:
        """Start the emulator."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the emulator."""
        await self.close()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``; RuntimeError before :meth:`start`."""
        if self._url is None:
            raise RuntimeError("FakeHubSpot is not started")
        return self._url

    @property
    def faults(self) -> Faults | None:
        """Current fault configuration; assigning re-seeds the random generator."""
        return self._faults

    @faults.setter
    def faults(self, faults: Faults | None) -> None:
        self._faults = faults
        self._rng = random.Random(faults.seed if faults is not None else 0)

    # ------------------------------------------------------------------ state and seeding

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
        self._associate_many(
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
        self._associate_many(
            _normalise_type(from_type),
            _normalise_type(to_type),
            pairs,
            None,
            _HUBSPOT_DEFINED,
            None,
        )

    def associations(self, from_type: str, to_type: str, from_id: str | int) -> list[str]:
        """Return the to-ids associated with ``from_id``, in insertion order."""
        pair = self._graph.get((_normalise_type(from_type), _normalise_type(to_type)), {})
        edges = pair.get(str(from_id))
        return list(edges.to) if edges is not None else []

    def graph(self, from_type: str, to_type: str) -> dict[str, list[str]]:
        """Return the directed graph ``from_id -> [to_id, ...]`` of ids with at least one association."""
        pair = self._graph.get((_normalise_type(from_type), _normalise_type(to_type)), {})
        return {from_id: list(edges.to) for from_id, edges in pair.items() if edges.to}

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
        self._configs.setdefault(key, {})[(category, type_id)] = max_to_object_ids

    def configurations(self, from_type: str, to_type: str) -> list[tuple[str, int]]:
        """Return the ``(category, type_id)`` configurations of a directed pair."""
        key = (_normalise_type(from_type), _normalise_type(to_type))
        return list(self._configs.get(key, {}))

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

    def reset(self) -> None:
        """Forget the graph, configurations, recordings, scripted faults and counters.

        ``invalid_ids``, ``missing_scopes``, ``fail_next``/``fail_ids``/
        ``repeat_cursor_for`` rules, the rate-limit window and daily count are
        cleared and the fault generator is re-seeded. Server settings and the
        hold state are kept; requests still in flight are not recorded.
        """
        self._graph.clear()
        self._configs.clear()
        self._types_json.clear()
        self._fail_rules.clear()
        self._fail_ids.clear()
        self._repeat_ids.clear()
        self.invalid_ids.clear()
        self.missing_scopes.clear()
        self._slots = []
        self._arrivals = 0
        self._max_inputs_seen = 0
        self._max_in_flight = self._in_flight
        self._status_counts.clear()
        self._window.clear()
        self._daily_used = 0
        self.faults = self._faults

    # ------------------------------------------------------------------ recordings

    @property
    def requests(self) -> list[RecordedRequest]:
        """Answered requests in arrival order (requests still in flight are not listed yet)."""
        return [slot.record for slot in self._slots if slot.record is not None]

    @property
    def max_inputs_seen(self) -> int:
        """Largest ``len(inputs)`` of any request, rejected ones included."""
        return self._max_inputs_seen

    @property
    def in_flight(self) -> int:
        """Requests whose handler is running (held, waiting out latency, or processing)."""
        return self._in_flight

    @property
    def max_in_flight(self) -> int:
        """Highest value :attr:`in_flight` reached."""
        return self._max_in_flight

    @property
    def status_counts(self) -> collections.Counter[int]:
        """Number of responses by HTTP status; closed connections are not counted."""
        return self._status_counts

    async def wait_for_requests(self, n: int) -> None:
        """Return once at least ``n`` requests have arrived (answered or not)."""
        await self._wait_until(lambda: self._arrivals >= n)

    async def wait_for_in_flight(self, n: int) -> None:
        """Return once at least ``n`` requests are in flight at the same time."""
        await self._wait_until(lambda: self._in_flight >= n)

    def hold(self) -> None:
        """Make new and waiting handlers block after arriving, until :meth:`release`."""
        self._held = True
        if self._gate is not None:
            self._gate.clear()

    def release(self) -> None:
        """Let held handlers proceed."""
        self._held = False
        if self._gate is not None:
            self._gate.set()

    # ------------------------------------------------------------------ graph internals

    def _associate_many(
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
        forward = self._pair_graph(from_type, to_type)
        reverse = self._pair_graph(to_type, from_type)
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

    def _pair_graph(self, from_type: str, to_type: str) -> _Graph:
        pair = self._graph.get((from_type, to_type))
        if pair is None:
            pair = self._graph[(from_type, to_type)] = {}
        return pair

    def _disassociate(self, from_type: str, to_type: str, from_id: str, to_id: str) -> None:
        for f_type, t_type, f_id, t_id in (
            (from_type, to_type, from_id, to_id),
            (to_type, from_type, to_id, from_id),
        ):
            pair = self._graph.get((f_type, t_type))
            if pair is None:
                continue
            edges = pair.get(f_id)
            if edges is None:
                continue
            edges.remove(t_id)
            if not edges.to:
                del pair[f_id]

    def _types_as_json(self, types: tuple[_AssocType, ...]) -> list[dict[str, Any]]:
        cached = self._types_json.get(types)
        if cached is None:
            cached = [{"category": c, "typeId": t, "label": lbl} for c, t, lbl in types]
            self._types_json[types] = cached
        return cached

    # ------------------------------------------------------------------ waiting

    async def _wait_until(self, predicate: Callable[[], bool]) -> None:
        if predicate():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            await future
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    def _notify(self) -> None:
        if not self._waiters:
            return
        for predicate, future in list(self._waiters):
            if not future.done() and predicate():
                future.set_result(None)

    async def _pause(self, delay: float) -> None:
        if delay <= 0:
            return
        closing = self._closing
        if closing is None or closing.is_set():
            return
        # Waiting on the closing event rather than sleeping lets close() finish
        # promptly instead of waiting out aiohttp's shutdown timeout.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await closing.wait()

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        arrived = loop.time()
        requested_at = _now_iso()
        slot = _Slot()
        self._slots.append(slot)
        self._arrivals += 1
        self._in_flight += 1
        self._max_in_flight = max(self._max_in_flight, self._in_flight)
        self._notify()

        correlation_id = str(uuid.uuid4())
        draws = (
            (self._rng.random(), self._rng.random(), self._rng.random())
            if self._faults is not None
            else None
        )
        decision, limit_headers = self._arrive(request, arrived, correlation_id)
        status = 0
        body: Any = None
        n_inputs = 0
        try:
            try:
                raw = await request.read()
            except ConnectionError:
                return web.Response(status=499)
            if raw:
                try:
                    body = _loads(raw)
                except ValueError:
                    body = None
            inputs = body.get("inputs") if isinstance(body, dict) else None
            if isinstance(inputs, list):
                n_inputs = len(inputs)
                self._max_inputs_seen = max(self._max_inputs_seen, n_inputs)

            if self._gate is not None:
                await self._gate.wait()
            await self._pause(self.latency)

            if isinstance(decision, _Reply):
                reply = decision
            else:
                reply = await self._process(
                    decision, raw, body, draws, correlation_id, requested_at
                )
            reply.headers.setdefault("X-HubSpot-Correlation-Id", correlation_id)
            for name, value in limit_headers.items():
                reply.headers.setdefault(name, value)

            if reply.disconnect:
                transport = request.transport
                if transport is not None:
                    transport.close()
                # Writing to the closed transport raises ConnectionError, which
                # aiohttp treats as a premature client disconnect (debug log only).
                return web.Response(status=499)
            status = reply.status
            self._status_counts[status] += 1
            if status == 204 or not reply.body:
                return web.Response(status=status, headers=reply.headers)
            if any(name.lower() == "content-type" for name in reply.headers):
                return web.Response(status=status, body=reply.body, headers=reply.headers)
            return web.Response(
                status=status,
                body=reply.body,
                content_type=reply.content_type,
                charset="utf-8" if reply.content_type == _JSON else None,
                headers=reply.headers,
            )
        finally:
            self._in_flight -= 1
            slot.record = RecordedRequest(
                method=request.method,
                path=request.path,
                body=body,
                status=status,
                n_inputs=n_inputs,
                authorization_present="Authorization" in request.headers,
            )
            self._notify()

    def _arrive(
        self, request: web.Request, now: float, correlation_id: str
    ) -> tuple[_Route | _Reply, dict[str, str]]:
        """Decide everything that depends on arrival order, before any await.

        Returns the route to process once released, or the answer already chosen,
        together with the rate-limit headers as they stood for this request.
        """
        rule_reply = self._take_fail_rule(request.path, correlation_id)
        if rule_reply is not None:
            return rule_reply, self._peek_limit_headers(now)

        route = _match_route(request.path)
        if route is None:
            reply = _error_reply(
                404, correlation_id, f"Unable to route {request.method} {request.path}."
            )
            return reply, self._peek_limit_headers(now)
        if request.method != "POST":
            reply = _error_reply(
                405, correlation_id, f"Method {request.method} is not allowed; use POST."
            )
            reply.headers["Allow"] = "POST"
            return reply, self._peek_limit_headers(now)

        if not self._authorised(request.headers.get("Authorization")):
            body = {
                "status": "error",
                "message": _AUTH_MESSAGE,
                "correlationId": correlation_id,
                "category": "INVALID_AUTHENTICATION",
            }
            return _Reply(401, _dumps(body)), self._peek_limit_headers(now)

        limited, limit_headers = self._admit(now, correlation_id)
        if limited is not None:
            return limited, limit_headers

        if self.missing_scopes:
            return _scopes_reply(correlation_id, self.missing_scopes), limit_headers
        return route, limit_headers

    def _authorised(self, header: str | None) -> bool:
        if header is None:
            return False
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            return False
        if self._token is None:
            return True
        return hmac.compare_digest(credential.encode(), self._token.encode())

    def _take_fail_rule(self, path: str, correlation_id: str) -> _Reply | None:
        for rule in self._fail_rules:
            if rule.path_contains is not None and rule.path_contains not in path:
                continue
            rule.remaining -= 1
            if rule.remaining <= 0:
                self._fail_rules.remove(rule)
            return self._scripted_reply(rule.status, correlation_id, rule.body, rule.headers)
        return None

    def _scripted_reply(
        self,
        status: int,
        correlation_id: str,
        body: bytes | None,
        headers: Mapping[str, str],
    ) -> _Reply:
        if body is not None:
            stripped = body.lstrip()
            content_type = _JSON if stripped[:1] in (b"{", b"[") else "text/plain"
            reply = _Reply(status, body, content_type)
        elif status == 429:
            reply = self._ten_secondly_reply(correlation_id)
        elif status == 403:
            reply = _scopes_reply(
                correlation_id, self.missing_scopes or ["crm.objects.contacts.read"]
            )
        elif 200 <= status < 300:
            reply = _Reply(status, b"" if status == 204 else _dumps(_envelope([], [], _now_iso())))
        else:
            reply = _error_reply(status, correlation_id)
        reply.headers.update(headers)
        return reply

    def _ten_secondly_reply(self, correlation_id: str) -> _Reply:
        max_requests, interval = self.rate_limit or _DEFAULT_WINDOW
        body = {
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": correlation_id,
            "policyName": "TEN_SECONDLY_ROLLING",
            "groupName": "publicapi:private-app-api-calls-ten-secondly:0",
        }
        headers = {
            "X-HubSpot-RateLimit-Max": str(max_requests),
            "X-HubSpot-RateLimit-Remaining": "0",
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(round(interval * 1000)),
        }
        return _Reply(429, _dumps(body), headers=headers)

    def _prune(self, now: float) -> None:
        if self.rate_limit is None:
            return
        horizon = now - self.rate_limit[1]
        window = self._window
        while window and window[0] <= horizon:
            window.popleft()

    def _limit_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.rate_limit is not None:
            max_requests, interval = self.rate_limit
            headers["X-HubSpot-RateLimit-Max"] = str(max_requests)
            headers["X-HubSpot-RateLimit-Remaining"] = str(max(0, max_requests - len(self._window)))
            headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(round(interval * 1000))
        if self.daily_limit is not None:
            headers["X-HubSpot-RateLimit-Daily"] = str(self.daily_limit)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(
                max(0, self.daily_limit - self._daily_used)
            )
        return headers

    def _peek_limit_headers(self, now: float) -> dict[str, str]:
        self._prune(now)
        return self._limit_headers()

    def _admit(self, now: float, correlation_id: str) -> tuple[_Reply | None, dict[str, str]]:
        self._prune(now)
        if self.daily_limit is not None and self._daily_used >= self.daily_limit:
            body = {
                "status": "error",
                "message": "You have reached your daily limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": correlation_id,
                "policyName": "DAILY",
                "groupName": "publicapi:private-app-api-calls-daily:0",
            }
            return _Reply(429, _dumps(body)), self._limit_headers()
        if self.rate_limit is not None and len(self._window) >= self.rate_limit[0]:
            return self._ten_secondly_reply(correlation_id), self._limit_headers()
        if self.rate_limit is not None:
            self._window.append(now)
        self._daily_used += 1
        return None, self._limit_headers()

    async def _process(
        self,
        route: _Route,
        raw: bytes,
        body: Any,
        draws: tuple[float, float, float] | None,
        correlation_id: str,
        requested_at: str,
    ) -> _Reply:
        started_at = _now_iso()
        parsed = self._validate(route, raw, body, correlation_id)
        if isinstance(parsed, _Reply):
            return parsed
        from_type, to_type, inputs = parsed

        failing = self._failing_status(route.op, inputs)
        if failing == 400:
            message = "One or more inputs reference an id that cannot be processed."
            return _error_reply(400, correlation_id, message, in_="inputs")
        if failing is not None:
            return self._scripted_reply(failing, correlation_id, None, {})

        kind: str | None = None
        sub = 0.0
        faults = self._faults
        if faults is not None and draws is not None:
            u_kind, sub, u_slow = draws
            if u_slow < faults.slow:
                await self._pause(faults.slow_seconds)
            kind = _fault_kind(faults, u_kind)
            if kind == "rate_limit":
                reply = self._ten_secondly_reply(correlation_id)
                if faults.retry_after is not None:
                    reply.headers["Retry-After"] = f"{faults.retry_after:g}"
                return reply
            if kind == "server_error":
                return _server_error_reply(
                    (500, 502, 503, 504)[min(3, int(sub * 4))], correlation_id
                )
            if kind == "disconnect" and sub < 0.5:
                return _Reply(0, disconnect=True)

        status, envelope = self._apply(route, from_type, to_type, inputs, requested_at, started_at)

        if kind == "disconnect":
            return _Reply(0, disconnect=True)
        if kind == "truncated":
            if envelope is None:
                envelope = _envelope([], [], requested_at, started_at)
            full = _dumps(envelope)
            return _Reply(200, full[: len(full) // 2])
        if envelope is None:
            return _Reply(status, b"", None)
        return _Reply(status, _dumps(envelope))

    def _validate(
        self, route: _Route, raw: bytes, body: Any, correlation_id: str
    ) -> tuple[str, str, list[Any]] | _Reply:
        for raw_type in (route.from_raw, route.to_raw):
            if not _OBJECT_TYPE_RE.fullmatch(raw_type):
                return _error_reply(
                    400,
                    correlation_id,
                    f"Unable to infer object type from: {raw_type}",
                    "objectType",
                )
        if not isinstance(body, dict):
            message = "Invalid input JSON: the body must be a JSON object."
            if not raw:
                message = "Invalid input JSON: the request body is empty."
            return _error_reply(400, correlation_id, message, "body")
        inputs = body.get("inputs")
        if not isinstance(inputs, list) or not inputs:
            return _error_reply(
                400, correlation_id, "Invalid input: 'inputs' must be a non-empty array.", "inputs"
            )
        limit = self.read_limit if route.op == "read" else self.write_limit
        if len(inputs) > limit:
            return _error_reply(
                400,
                correlation_id,
                f"Too many inputs: {len(inputs)} exceeds the limit of {limit} per request.",
                "inputs",
            )
        checker = _INPUT_CHECKERS[route.op]
        parsed: list[Any] = []
        for index, item in enumerate(inputs):
            result = checker(item)
            if isinstance(result, str):
                return _error_reply(400, correlation_id, result, f"inputs[{index}]")
            parsed.append(result)
        return _normalise_type(route.from_raw), _normalise_type(route.to_raw), parsed

    def _failing_status(self, op: _Op, inputs: list[Any]) -> int | None:
        fail_ids = self._fail_ids
        if not fail_ids or op == "purge":
            return None
        for item in inputs:
            for object_id in _mentioned_ids(op, item):
                status = fail_ids.get(object_id)
                if status is not None:
                    return status
        return None

    def _apply(
        self,
        route: _Route,
        from_type: str,
        to_type: str,
        inputs: list[Any],
        requested_at: str,
        started_at: str,
    ) -> tuple[int, dict[str, Any] | None]:
        if route.op == "read":
            results, errors = self._read(route, from_type, to_type, inputs)
        elif route.op == "associate":
            results, errors = self._associate_default(from_type, to_type, inputs)
        elif route.op == "archive":
            results, errors = self._archive(from_type, to_type, inputs)
        else:
            configs = self._configs.get((from_type, to_type), {})
            for category, type_id in inputs:
                configs.pop((category, type_id), None)
            results, errors = [], []
        if route.op in ("archive", "purge") and not errors and self.empty_write_responses:
            return 204, None
        return (207 if errors else 200), _envelope(results, errors, requested_at, started_at)

    def _read(
        self, route: _Route, from_type: str, to_type: str, inputs: list[tuple[str, str | None]]
    ) -> tuple[list[Any], list[Any]]:
        pair = self._graph.get((from_type, to_type), {})
        page_size = self.page_size
        from_name, to_name = _singular(from_type), _singular(to_type)
        context_types = {"fromObjectType": [from_name], "toObjectType": [to_name]}
        results: list[Any] = []
        errors: list[Any] = []
        for from_id, after in inputs:
            if from_id in self.invalid_ids:
                errors.append(
                    _item_error(
                        "OBJECT_NOT_FOUND",
                        f"{from_name.capitalize()} {from_id} does not exist.",
                        {"fromObjectId": [from_id], **context_types},
                    )
                )
                continue
            offset = 0
            if after is not None:
                cursor = _decode_cursor(after)
                if cursor is None or cursor[1] != from_id:
                    errors.append(
                        _item_error(
                            "VALIDATION_ERROR",
                            f"Invalid paging cursor for {from_name} {from_id}.",
                            {"fromObjectId": [from_id], "after": [after], **context_types},
                        )
                    )
                    continue
                offset = cursor[0]
            edges = pair.get(from_id)
            repeat = from_id in self._repeat_ids
            if (edges is None or not edges.to) and not repeat:
                errors.append(
                    _item_error(
                        "OBJECT_NOT_FOUND",
                        f"No {to_name} is associated with {from_name} {from_id}.",
                        {"fromObjectId": [from_id], **context_types},
                        sub_category="crm.associations.NO_ASSOCIATIONS_FOUND",
                    )
                )
                continue
            to_items: list[dict[str, Any]] = []
            more = False
            if edges is not None:
                order = edges.order()
                page = order[offset : offset + page_size]
                more = offset + page_size < len(order)
                types_of = edges.to
                to_items = [
                    {
                        "toObjectId": _json_id(to_id),
                        "associationTypes": self._types_as_json(types_of[to_id]),
                    }
                    for to_id in page
                ]
            result: dict[str, Any] = {"from": {"id": from_id}, "to": to_items}
            if repeat or more:
                next_after = _encode_cursor(page_size if repeat else offset + page_size, from_id)
                link = (
                    f"{self._url or ''}/crm/v4/associations/{route.from_raw}/{route.to_raw}"
                    f"/batch/read?after={next_after}"
                )
                result["paging"] = {"next": {"after": next_after, "link": link}}
            results.append(result)
        return results, errors

    def _associate_default(
        self, from_type: str, to_type: str, inputs: list[tuple[str, str]]
    ) -> tuple[list[Any], list[Any]]:
        type_id = _default_type_id(from_type, to_type)
        spec = {"associationCategory": _HUBSPOT_DEFINED, "associationTypeId": type_id}
        invalid = self.invalid_ids
        results: list[Any] = []
        errors: list[Any] = []
        applied: list[tuple[str, str]] = []
        for from_id, to_id in inputs:
            if invalid and (from_id in invalid or to_id in invalid):
                errors.append(_missing_object_error(from_type, to_type, from_id, [to_id], invalid))
                continue
            applied.append((from_id, to_id))
            results.append({"from": {"id": from_id}, "to": {"id": to_id}, "associationSpec": spec})
        self._associate_many(from_type, to_type, applied, type_id, _HUBSPOT_DEFINED, None)
        return results, errors

    def _archive(
        self, from_type: str, to_type: str, inputs: list[tuple[str, list[str]]]
    ) -> tuple[list[Any], list[Any]]:
        invalid = self.invalid_ids
        errors: list[Any] = []
        for from_id, to_ids in inputs:
            if from_id in invalid or any(to_id in invalid for to_id in to_ids):
                errors.append(_missing_object_error(from_type, to_type, from_id, to_ids, invalid))
                continue
            for to_id in to_ids:
                self._disassociate(from_type, to_type, from_id, to_id)
        return [], errors


# ---------------------------------------------------------------------- module helpers


def _check_status(status: int) -> None:
    if not 100 <= status <= 599:
        raise ValueError(f"status must be an HTTP status code, got {status!r}")


def _match_route(path: str) -> _Route | None:
    match = _ASSOC_ROUTE_RE.fullmatch(path)
    if match is not None:
        return _Route(_OPS[match.group(3)], match.group(1), match.group(2))
    match = _PURGE_ROUTE_RE.fullmatch(path)
    if match is not None:
        return _Route("purge", match.group(1), match.group(2))
    return None


def _error_reply(
    status: int, correlation_id: str, message: str | None = None, in_: str | None = None
) -> _Reply:
    body: dict[str, Any] = {
        "status": "error",
        "message": message or f"{_phrase(status)}.",
        "correlationId": correlation_id,
        "category": _CATEGORY_BY_STATUS.get(status, "INTERNAL_ERROR" if status >= 500 else "ERROR"),
    }
    if status == 400:
        body["errors"] = [{"message": body["message"], "in": in_ or "body"}]
    return _Reply(status, _dumps(body))


def _scopes_reply(correlation_id: str, scopes: list[str]) -> _Reply:
    body = {
        "status": "error",
        "message": _SCOPES_MESSAGE,
        "correlationId": correlation_id,
        "errors": [
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredScopes": list(scopes)},
            }
        ],
        "links": {"scopes": "https://developers.hubspot.com/scopes"},
        "category": "MISSING_SCOPES",
    }
    return _Reply(403, _dumps(body))


def _server_error_reply(status: int, correlation_id: str) -> _Reply:
    if status in (502, 503):
        page = _GATEWAY_PAGE.format(status=status, phrase=_phrase(status))
        return _Reply(status, page.encode(), "text/html", {"Server": "cloudflare"})
    return _error_reply(status, correlation_id, "internal error")


def _fault_kind(faults: Faults, u: float) -> str | None:
    threshold = 0.0
    for kind, probability in (
        ("rate_limit", faults.rate_limit),
        ("server_error", faults.server_error),
        ("disconnect", faults.disconnect),
        ("truncated", faults.truncated),
    ):
        threshold += probability
        if u < threshold:
            return kind
    return None


def _envelope(
    results: list[Any], errors: list[Any], requested_at: str, started_at: str | None = None
) -> dict[str, Any]:
    envelope: dict[str, Any] = {"status": "COMPLETE", "results": results, "errors": errors}
    if errors:
        envelope["numErrors"] = len(errors)
    envelope["requestedAt"] = requested_at
    envelope["startedAt"] = started_at or requested_at
    envelope["completedAt"] = _now_iso()
    envelope["links"] = {}
    return envelope


def _item_error(
    category: str,
    message: str,
    context: dict[str, list[str]],
    sub_category: str | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"status": "error", "category": category}
    if sub_category is not None:
        error["subCategory"] = sub_category
    error["message"] = message
    error["context"] = context
    error["errors"] = []
    error["links"] = {}
    return error


def _missing_object_error(
    from_type: str, to_type: str, from_id: str, to_ids: list[str], invalid: set[str]
) -> dict[str, Any]:
    missing = [
        f"{_singular(object_type)} {object_id}"
        for object_type, object_id in [(from_type, from_id), *((to_type, t) for t in to_ids)]
        if object_id in invalid
    ]
    return _item_error(
        "OBJECT_NOT_FOUND",
        f"Objects do not exist: {', '.join(missing)}.",
        {"fromObjectId": [from_id], "toObjectId": list(to_ids)},
    )


def _as_id(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _ref_id(value: Any) -> str | None:
    return _as_id(value.get("id")) if isinstance(value, dict) else None


def _check_read_input(item: Any) -> tuple[str, str | None] | str:
    object_id = _ref_id(item)
    if object_id is None:
        return "Each input must be an object with a string 'id'."
    after = item.get("after")
    if after is not None and not isinstance(after, str):
        return "'after' must be a string."
    return object_id, after


def _check_associate_input(item: Any) -> tuple[str, str] | str:
    if not isinstance(item, dict):
        return "Each input must be an object with 'from' and 'to'."
    from_id, to_id = _ref_id(item.get("from")), _ref_id(item.get("to"))
    if from_id is None or to_id is None:
        return "Each input needs 'from': {'id': ...} and 'to': {'id': ...}."
    return from_id, to_id


def _check_archive_input(item: Any) -> tuple[str, list[str]] | str:
    if not isinstance(item, dict):
        return "Each input must be an object with 'from' and 'to'."
    from_id = _ref_id(item.get("from"))
    to_refs = item.get("to")
    if from_id is None or not isinstance(to_refs, list):
        return "Each input needs 'from': {'id': ...} and 'to': [{'id': ...}, ...]."
    to_ids: list[str] = []
    for ref in to_refs:
        to_id = _ref_id(ref)
        if to_id is None:
            return "Each 'to' entry must be an object with a string 'id'."
        to_ids.append(to_id)
    return from_id, to_ids


def _check_purge_input(item: Any) -> tuple[str, int] | str:
    if not isinstance(item, dict):
        return "Each input must be an object with 'category' and 'typeId'."
    category, type_id = item.get("category"), item.get("typeId")
    if not isinstance(category, str) or not category:
        return "'category' must be a non-empty string."
    if not isinstance(type_id, int) or isinstance(type_id, bool):
        return "'typeId' must be an integer."
    return category, type_id


_INPUT_CHECKERS: Final[Mapping[_Op, Callable[[Any], Any]]] = {
    "read": _check_read_input,
    "associate": _check_associate_input,
    "archive": _check_archive_input,
    "purge": _check_purge_input,
}


def _mentioned_ids(op: _Op, item: Any) -> Iterable[str]:
    if op == "read":
        return (item[0],)
    if op == "associate":
        return (item[0], item[1])
    from_id, to_ids = item
    return (from_id, *to_ids)
