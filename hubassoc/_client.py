"""The public client: configuration, lifecycle, and the endpoint families.

The endpoints live in :mod:`hubassoc._resources`, one module per family, reached as
``client.associations`` and ``client.limits``; the client's own ``read``,
``associate_default``, ``archive`` and ``purge_configurations`` are the same methods.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Final

import aiohttp

from . import _validation as validate
from ._auth import TOKEN_ENV, TokenSource, _Credentials
from ._batch import DEFAULT_MAX_PAGES_PER_ID
from ._exceptions import InvalidInputError
from ._models import AssociationRead, DefaultAssociation
from ._operation import BatchOperation, ProgressCallback
from ._paths import DEFAULT_API_VERSION, Paths
from ._ratelimit import RateLimit, RateLimiter, _Unlimited
from ._resources import Associations, Labels, Limits
from ._retry import RetryPolicy
from ._transport import Transport

__all__ = ["DEFAULT_BASE_URL", "READ_LIMIT", "TOKEN_ENV", "Client"]

DEFAULT_BASE_URL: Final = "https://api.hubapi.com"
#: HubSpot rejects batch reads of more than 1,000 ids (changelog, effective 2025-02-10).
READ_LIMIT: Final = 1000
#: HubSpot documents no limit for the write endpoints; 100 is the conservative default.
DEFAULT_WRITE_CHUNK_SIZE: Final = 100

_DEFAULT: Any = object()


class Client:
    """An asyncio client for HubSpot's CRM Associations v4 batch endpoints.

    Use it as an async context manager (it opens one ``aiohttp.ClientSession`` and
    closes it on exit), or call :meth:`close` yourself. One client is meant to be shared:
    ``max_concurrency`` and ``rate_limit`` bound all of its callers together.

    Args:
        token: a private-app or OAuth access token (str); a callable (sync or async)
            returning the current token; a :class:`hubassoc.OAuthToken` that refreshes
            itself; or ``None`` to read ``HUBSPOT_ACCESS_TOKEN``.
        base_url: HubSpot's API root; point it at :class:`hubassoc.testing.FakeHubSpot`
            in tests.
        session: an ``aiohttp.ClientSession`` you own; the client uses it and never
            closes it.
        max_concurrency: HTTP requests in flight at once, across every caller.
        max_retries: retries per chunk call (so ``max_retries + 1`` attempts).
        max_retry_time: seconds one chunk call may spend retrying before it gives up.
        rate_limit: a :class:`RateLimit` (default 100 requests per 10 s, HubSpot's
            Free/Starter burst), any :class:`RateLimiter`, or ``None`` for no pacing.
        read_chunk_size: ids per batch-read request, at most 1,000 (HubSpot's limit).
        write_chunk_size: inputs per write request (default 100).
        timeout: seconds one request may take in total; ``timeout=`` on a call overrides.
        on_progress: called with a :class:`Progress` after every chunk call of every
            operation (``on_progress=`` on a call overrides); keep it quick, it runs in
            the event loop.
        max_pages_per_id: pages one id may take in a batch read (and one record in
            ``associations.list``) before the read stops following it and names it in a
            ``PAGING_ERROR`` error, keeping the pages read; so a read ends even if HubSpot
            keeps sending new cursors. The default, 1,000, is 100,000 associations at
            HubSpot's smallest page size, ten times the most a record can be given a
            limit of (see ``docs/trust.md``).
        api_version: the path family every endpoint is called in: ``"v4"`` (default,
            ``/crm/v4/associations/...``) or a date version such as ``"2026-03"``
            (``/crm/associations/2026-03/...``); see ``docs/api-versions.md``.

    Endpoint families are attributes: :attr:`associations`, :attr:`labels` and
    :attr:`limits`.

    Example::

        async with hubassoc.Client() as client:
            result = await client.read("contacts", "companies", ["101", "102"])
    """

    def __init__(
        self,
        token: TokenSource = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        session: aiohttp.ClientSession | None = None,
        max_concurrency: int = 8,
        max_retries: int = 5,
        max_retry_time: float = 300.0,
        rate_limit: RateLimiter | None = _DEFAULT,
        read_chunk_size: int = READ_LIMIT,
        write_chunk_size: int = DEFAULT_WRITE_CHUNK_SIZE,
        timeout: float = 60.0,
        on_progress: ProgressCallback | None = None,
        api_version: str = DEFAULT_API_VERSION,
        max_pages_per_id: int = DEFAULT_MAX_PAGES_PER_ID,
    ) -> None:
        credentials = _Credentials(token)
        self._paths = Paths(api_version)
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise InvalidInputError(f"base_url must be an http(s) URL, got {base_url!r}")
        validate.positive_int(max_concurrency, "max_concurrency")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidInputError(f"max_retries must be an int >= 0, got {max_retries!r}")
        validate.positive_int(read_chunk_size, "read_chunk_size")
        if read_chunk_size > READ_LIMIT:
            raise InvalidInputError(
                f"read_chunk_size may be at most {READ_LIMIT} (HubSpot's batch-read limit)"
            )
        validate.positive_int(write_chunk_size, "write_chunk_size")
        validate.positive_int(max_pages_per_id, "max_pages_per_id")
        for name, value in (("timeout", timeout), ("max_retry_time", max_retry_time)):
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise InvalidInputError(f"{name} must be a number > 0, got {value!r}")
        if rate_limit is _DEFAULT:
            rate_limit = RateLimit()
        elif rate_limit is None:
            rate_limit = _Unlimited()
        elif not isinstance(rate_limit, RateLimiter):
            raise InvalidInputError(
                "rate_limit must be a hubassoc.RateLimit, a RateLimiter or None"
            )
        self.read_chunk_size = read_chunk_size
        self.write_chunk_size = write_chunk_size
        self.max_pages_per_id = max_pages_per_id
        self.on_progress = on_progress
        self._transport = Transport(
            credentials=credentials,
            base_url=base_url,
            session=session,
            timeout=float(timeout),
            max_concurrency=max_concurrency,
            limiter=rate_limit,
            retry_policy=RetryPolicy(max_retries=max_retries, max_retry_time=float(max_retry_time)),
        )
        self.associations = Associations(self)
        """Association records: ``read``, ``create``, ``associate_default``, ``archive``,
        ``archive_labels``."""
        self.labels = Labels(self)
        """Label definitions: ``list``, ``create``, ``update``, ``delete``, ``spec_for``."""
        self.limits = Limits(self)
        """Association limit configurations: ``read_all``, ``read``, ``create``, ``update``, ``purge``."""

    def __repr__(self) -> str:
        t = self._transport
        state = "closed" if t.closed else "open"
        return (
            f"<hubassoc.Client {t.base_url} {state} max_concurrency={t.max_concurrency} "
            f"rate_limit={t.limiter!r}>"
        )

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._transport.base_url

    @property
    def api_version(self) -> str:
        """The path family endpoints are called in: ``"v4"`` or a date such as ``"2026-03"``."""
        return self._paths.version

    async def __aenter__(self) -> Client:
        self._transport.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if the client created it. Safe to call twice."""
        await self._transport.close()

    def read(
        self,
        from_type: str,
        to_type: str,
        ids: Any,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> BatchOperation[AssociationRead]:
        """Read the associations of many objects: :meth:`Associations.read`.

        Example::

            result = await client.read("contacts", "companies", [101, 102])
            result.ids_without_associations   # ['102'], say
        """
        return self.associations.read(
            from_type, to_type, ids, timeout=timeout, on_progress=on_progress
        )

    def associate_default(
        self,
        from_type: str,
        to_type: str,
        pairs: Any,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> BatchOperation[DefaultAssociation]:
        """Create the default association of each pair: :meth:`Associations.associate_default`.

        Example::

            res = await client.associate_default("contacts", "companies", [(101, 201)])
        """
        return self.associations.associate_default(
            from_type, to_type, pairs, timeout=timeout, on_progress=on_progress
        )

    def archive(
        self,
        from_type: str,
        to_type: str,
        pairs: Any,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> BatchOperation[dict[str, Any]]:
        """Delete every association between the pairs: :meth:`Associations.archive`.

        Example::

            await client.archive("contacts", "companies", {"101": ["201", "202"]})
        """
        return self.associations.archive(
            from_type, to_type, pairs, timeout=timeout, on_progress=on_progress
        )

    def purge_configurations(
        self,
        from_type: str,
        to_type: str,
        specs: Any,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> BatchOperation[dict[str, Any]]:
        """Remove association limit configurations: :meth:`Limits.purge`.

        Example::

            spec = AssociationSpec(AssociationCategory.USER_DEFINED, 3)
            await client.purge_configurations("contacts", "companies", [spec])
        """
        return self.limits.purge(
            from_type, to_type, specs, timeout=timeout, on_progress=on_progress
        )
