"""The emulator's public class: lifecycle, recordings and request dispatch.

Seeding and scripting methods live in :mod:`hubassoc.testing._seeding`, the OAuth
app's controls in :mod:`hubassoc.testing._oauth`; endpoints in
:mod:`hubassoc.testing._routes`, the stored graph in
:mod:`hubassoc.testing._graph`, failures in :mod:`hubassoc.testing._faults`,
rate limits in :mod:`hubassoc.testing._ratelimit` and response bodies in
:mod:`hubassoc.testing._replies`.
"""

from __future__ import annotations

import asyncio
import collections
import random
import uuid
from collections.abc import Mapping
from typing import Any, Final, Self

import attrs
from aiohttp import web

from hubassoc.testing._auth import _authorised
from hubassoc.testing._faults import (
    Faults,
    _FailRule,
    _fault_kind,
    _scripted_reply,
)
from hubassoc.testing._graph import _Store
from hubassoc.testing._misbehave import _Misbehaviour
from hubassoc.testing._oauth import OAuthApp, _expired_reply, _OAuthControls, _OAuthState
from hubassoc.testing._ratelimit import _Limiter, _ten_secondly_reply
from hubassoc.testing._replies import (
    _JSON,
    _auth_reply,
    _dumps,
    _envelope,
    _error_reply,
    _loads,
    _now_iso,
    _Reply,
    _scopes_reply,
    _server_error_reply,
)
from hubassoc.testing._routes import _Call, _Endpoint, _route
from hubassoc.testing._seeding import _Seeding
from hubassoc.testing._sync import _Sync

__all__ = ["FakeHubSpot", "Faults", "OAuthApp", "RecordedRequest"]

_MAX_BODY_BYTES: Final = 64 * 1024**2
_SHUTDOWN_TIMEOUT: Final = 1.0


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
        arrived: When it arrived, in the emulator's event-loop clock (seconds): the
            moment its rate limit counted it, to measure the rate a client achieved.
    """

    method: str
    path: str
    body: Any
    status: int
    n_inputs: int
    authorization_present: bool
    arrived: float = 0.0


@attrs.define(slots=True)
class _Slot:
    """Placeholder that keeps ``requests`` in arrival order until the answer is known."""

    record: RecordedRequest | None = None


@attrs.frozen
class _Routed:
    """A request that passed the arrival checks, waiting to be processed."""

    endpoint: _Endpoint[Any]
    params: tuple[str, ...]


class FakeHubSpot(_Seeding, _OAuthControls):
    """A stateful HubSpot CRM Associations v4 emulator served over a real socket.

    Use it as an async context manager, point a client at :attr:`url`, seed the
    association graph with :meth:`associate`/:meth:`seed`, script failures with
    :meth:`fail_next`, :meth:`fail_ids`, :attr:`invalid_ids`,
    :attr:`missing_scopes` or :class:`Faults`, and inspect :attr:`requests`
    afterwards. See the :mod:`hubassoc.testing` docstring for the HTTP behaviour.

    ``latency`` is the time from a request's arrival to its answer leaving, which
    is what each caller sees: the answer is built first (a write applied with
    it), then waits out what is left of ``latency``, measured from arrival on the
    loop clock. Concurrent requests wait in parallel, as HubSpot answers them, so
    requests arriving together all leave ``latency`` after they came as long as
    building their answers takes less than ``latency`` in total; an answer that
    takes longer to build leaves as soon as it is built. Time held by
    :meth:`hold` counts towards it; a slow fault (:class:`Faults`) adds
    ``slow_seconds`` on top. Answers are built in arrival order, so a write's
    effect is visible to every request that arrives after it, which may be
    during its latency, before its caller has the answer (HubSpot promises
    nothing either way); every request arriving after the answer was sent sees
    it.
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
        oauth: OAuthApp | None = None,
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
        """Seconds from a request's arrival to its answer leaving (built first)."""
        self.empty_write_responses = empty_write_responses
        """Answer successful archive and purge calls with 204 (True) or a 200 envelope."""
        self.invalid_ids: set[str] = set()
        """Object ids that do not exist: per-input errors on writes, per-id errors on reads."""
        self.missing_scopes: list[str] = []
        """When non-empty, every authenticated request gets 403 ``MISSING_SCOPES``."""

        self._faults = faults
        self._rng = random.Random(faults.seed if faults is not None else 0)
        self._store = _Store()
        self._oauth = _OAuthState(oauth) if oauth is not None else None
        self._fail_rules: list[_FailRule] = []
        self._fail_ids: dict[str, int] = {}
        self._repeat_ids: set[str] = set()
        self._misbehaviour = _Misbehaviour()
        self._slots: list[_Slot] = []
        self._arrivals = 0
        self._max_inputs_seen = 0
        self._in_flight = 0
        self._max_in_flight = 0
        self._status_counts: collections.Counter[int] = collections.Counter()
        self._limiter = _Limiter()
        self._sync = _Sync()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind the socket and start serving."""
        if self._runner is not None:
            raise RuntimeError("FakeHubSpot is already started")
        self._sync.start()
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
        self._sync.closing()
        try:
            await runner.cleanup()
        finally:
            self._url = None
            self._sync.fail_waiters("FakeHubSpot was closed")

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

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Forget the graph, configurations, recordings, scripted faults and counters.

        ``invalid_ids``, ``missing_scopes``, ``fail_next``/``fail_ids``/
        ``repeat_cursor_for`` rules, the rate-limit window and daily count are
        cleared and the fault generator is re-seeded. Server settings and the
        hold state are kept; requests still in flight are not recorded.
        """
        self._store.clear()
        self._fail_rules.clear()
        self._misbehaviour.clear()
        self._fail_ids.clear()
        self._repeat_ids.clear()
        self.invalid_ids.clear()
        self.missing_scopes.clear()
        self._slots = []
        self._arrivals = 0
        self._max_inputs_seen = 0
        self._max_in_flight = self._in_flight
        self._status_counts.clear()
        self._limiter.clear()
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
        await self._sync.wait_until(lambda: self._arrivals >= n)

    async def wait_for_in_flight(self, n: int) -> None:
        """Return once at least ``n`` requests are in flight at the same time."""
        await self._sync.wait_until(lambda: self._in_flight >= n)

    def hold(self) -> None:
        """Make new and waiting handlers block after arriving, until :meth:`release`."""
        self._sync.hold()

    def release(self) -> None:
        """Let held handlers proceed."""
        self._sync.release()

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
        self._sync.notify()

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
            if self.latency > 0 and not isinstance(decision, _Reply):
                # Requests already at the socket are stamped before this one's body is
                # decoded and its answer built, which hold the loop, so their latency
                # starts when they came.
                await self._sync.settle(lambda: self._arrivals)
            if raw:
                try:
                    body = _loads(raw)
                except ValueError:
                    body = None
            inputs = body.get("inputs") if isinstance(body, dict) else None
            if isinstance(inputs, list):
                n_inputs = len(inputs)
                self._max_inputs_seen = max(self._max_inputs_seen, n_inputs)

            await self._sync.pass_gate()

            slow = 0.0
            if isinstance(decision, _Reply):
                reply = decision
            else:
                reply, slow = await self._process(
                    decision, request, raw, body, draws, correlation_id, requested_at
                )
            reply.headers.setdefault("X-HubSpot-Correlation-Id", correlation_id)
            for name, value in limit_headers.items():
                reply.headers.setdefault(name, value)
            # The answer was built first, so latency is what the caller sees, however
            # many answers were built meanwhile; a slow fault comes on top of it.
            await self._sync.pause(arrived + self.latency + slow - loop.time())

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
                arrived=arrived,
            )
            self._sync.notify()

    def _arrive(
        self, request: web.Request, now: float, correlation_id: str
    ) -> tuple[_Routed | _Reply, dict[str, str]]:
        """Decide everything that depends on arrival order, before any await.

        Returns the route to process once released, or the answer already chosen,
        together with the rate-limit headers as they stood for this request.
        """
        rule_reply = self._take_fail_rule(request.path, correlation_id)
        if rule_reply is not None:
            return rule_reply, self._peek_limit_headers(now)

        routed = _route(request.method, request.path)
        if not routed:
            reply = _error_reply(
                404, correlation_id, f"Unable to route {request.method} {request.path}."
            )
            return reply, self._peek_limit_headers(now)
        if isinstance(routed, list):
            allowed = ", ".join(routed)
            reply = _error_reply(
                405, correlation_id, f"Method {request.method} is not allowed; use {allowed}."
            )
            reply.headers["Allow"] = allowed
            return reply, self._peek_limit_headers(now)
        route = _Routed(*routed)
        if not route.endpoint.authenticated:
            return route, self._peek_limit_headers(now)

        refused = self._refuse_credentials(request.headers.get("Authorization"), correlation_id)
        if refused is not None:
            return refused, self._peek_limit_headers(now)

        limited, limit_headers = self._limiter.admit(
            now, correlation_id, self.rate_limit, self.daily_limit
        )
        if limited is not None:
            return limited, limit_headers

        if self.missing_scopes:
            return _scopes_reply(correlation_id, self.missing_scopes), limit_headers
        return route, limit_headers

    def _refuse_credentials(self, header: str | None, correlation_id: str) -> _Reply | None:
        oauth = self._oauth
        if oauth is not None and header is not None:
            # With an OAuth app, only the access tokens it issued (and token=, if set) pass.
            scheme, _, credential = header.partition(" ")
            state = oauth.check(credential.strip()) if scheme.lower() == "bearer" else None
            if state is True:
                return None
            if state is not None:
                return _expired_reply(correlation_id, state)
            if self._token is None:
                return _auth_reply(correlation_id)
        if not _authorised(header, self._token):
            return _auth_reply(correlation_id)
        return None

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
        return _scripted_reply(
            status,
            correlation_id,
            body,
            headers,
            scopes=self.missing_scopes,
            rate_limit=self.rate_limit,
        )

    def _peek_limit_headers(self, now: float) -> dict[str, str]:
        return self._limiter.peek(now, self.rate_limit, self.daily_limit)

    async def _process(
        self,
        route: _Routed,
        request: web.Request,
        raw: bytes,
        body: Any,
        draws: tuple[float, float, float] | None,
        correlation_id: str,
        requested_at: str,
    ) -> tuple[_Reply, float]:
        """The answer, and the seconds a slow fault already held it."""
        call = _Call(
            method=request.method,
            path=request.path,
            params=route.params,
            query=request.query,
            raw=raw,
            body=body,
            correlation_id=correlation_id,
            requested_at=requested_at,
            started_at=_now_iso(),
            store=self._store,
            invalid_ids=self.invalid_ids,
            repeat_ids=self._repeat_ids,
            page_size=self.page_size,
            read_limit=self.read_limit,
            write_limit=self.write_limit,
            empty_write_responses=self.empty_write_responses,
            base_url=self._url or "",
            oauth=self._oauth,
        )
        endpoint = route.endpoint
        parsed = endpoint.parse(call)
        if isinstance(parsed, _Reply):
            return parsed, 0.0

        failing = self._failing_status(endpoint, parsed)
        if failing == 400:
            message = "One or more inputs reference an id that cannot be processed."
            return _error_reply(400, correlation_id, message, in_="inputs"), 0.0
        if failing is not None:
            return self._scripted_reply(failing, correlation_id, None, {}), 0.0

        kind: str | None = None
        sub = slow = 0.0
        faults = self._faults
        if faults is not None and draws is not None:
            u_kind, sub, u_slow = draws
            if u_slow < faults.slow:
                slow = faults.slow_seconds
                await self._sync.pause(slow)
            kind = _fault_kind(faults, u_kind)
            if kind == "rate_limit":
                reply = _ten_secondly_reply(correlation_id, self.rate_limit)
                if faults.retry_after is not None:
                    reply.headers["Retry-After"] = f"{faults.retry_after:g}"
                return reply, slow
            if kind == "server_error":
                status = (500, 502, 503, 504)[min(3, int(sub * 4))]
                return _server_error_reply(status, correlation_id), slow
            if kind == "disconnect" and sub < 0.5:
                return _Reply(0, disconnect=True), slow

        reply = endpoint.apply(call, parsed)
        reply = self._misbehaviour.apply(endpoint.name, call.params, body, reply, self.page_size)

        if kind == "disconnect":
            return _Reply(0, disconnect=True), slow
        if kind == "truncated":
            full = reply.body or _dumps(_envelope([], [], requested_at, call.started_at))
            return _Reply(200, full[: len(full) // 2]), slow
        return reply, slow

    def _failing_status(self, endpoint: _Endpoint[Any], parsed: Any) -> int | None:
        fail_ids = self._fail_ids
        if not fail_ids or endpoint.mentions is None:
            return None
        for object_id in endpoint.mentions(parsed):
            status = fail_ids.get(object_id)
            if status is not None:
                return status
        return None
