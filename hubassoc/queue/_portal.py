"""One HubSpot portal as a fleet knows it: its token, its rate limit, its client.

Nothing here imports the task queue: a :class:`Portal` is plain configuration, and
:func:`portal_client` builds the one client per portal and process that every block of
that portal runs through, paced by a :class:`~hubassoc.RedisRateLimit` whose key is the
portal's own, so every worker of a portal shares one budget and no portal shares another's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .._client import DEFAULT_BASE_URL, Client
from .._exceptions import InvalidInputError
from .._redis import RedisRateLimit

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Portal", "PortalSource"]


def _name(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
    # The name becomes part of Redis keys and queue names: ':' and braces would blur
    # one portal's keys into another's (or out of its Redis Cluster slot).
    if not isinstance(value, str) or not value or any(c in value for c in ":{} \t\n"):
        raise InvalidInputError(
            f"{attribute.name} must be a non-empty str without ':', braces or spaces, got {value!r}"
        )


def _positive(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise InvalidInputError(f"{attribute.name} must be a number > 0, got {value!r}")


@attrs.frozen
class Portal:
    """A HubSpot portal (account) that jobs run against, with its own token and budget.

    Attributes:
        name: how jobs, queues and Redis keys name the portal (its hub id, say).
        token: what :class:`hubassoc.Client` takes: an access token, a callable returning
            one, or a :class:`hubassoc.OAuthToken`. Never shown in a repr.
        max_requests, interval: the portal's rolling limit (HubSpot's default for a
            private app: 100 per 10 s; 190 on Pro and Enterprise). Every worker of the
            portal shares it through one Redis key.
        max_concurrency: requests in flight at once, per worker process.
        base_url: HubSpot's API root (point it at an emulator in tests).
        client_options: any other :class:`hubassoc.Client` argument (``timeout``,
            ``max_retries``...).

    Example::

        Portal("4711", token=os.environ["PORTAL_4711_TOKEN"], max_requests=190)
    """

    name: str = attrs.field(validator=_name)
    token: Any = attrs.field(repr=False)
    max_requests: int = attrs.field(default=100, validator=_positive)
    interval: float = attrs.field(default=10.0, validator=_positive)
    max_concurrency: int = attrs.field(default=8, validator=_positive)
    base_url: str = DEFAULT_BASE_URL
    client_options: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    def rate_key(self, prefix: str) -> str:
        """The Redis key of this portal's shared rate limit."""
        return f"{prefix}:{self.name}"


#: Where a fleet finds a portal by name: a mapping, or a function (sync or async) that
#: loads it (from your database of installed portals, say).
PortalSource = Mapping[str, Portal] | Callable[[str], Portal | Awaitable[Portal]]


def portal_client(portal: Portal, redis: Redis, rate_prefix: str) -> tuple[Client, RedisRateLimit]:
    """The client every block of ``portal`` runs through in this process, and its limiter."""
    limit = RedisRateLimit(
        redis,
        key=portal.rate_key(rate_prefix),
        max_requests=int(portal.max_requests),
        interval=float(portal.interval),
    )
    client = Client(
        portal.token,
        base_url=portal.base_url,
        rate_limit=limit,
        max_concurrency=int(portal.max_concurrency),
        **dict(portal.client_options),
    )
    return client, limit
