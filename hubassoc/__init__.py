"""hubassoc: read, create and delete HubSpot CRM associations in bulk, with asyncio.

Example::

    import asyncio, hubassoc

    async def main() -> None:
        async with hubassoc.Client() as client:  # token from HUBSPOT_ACCESS_TOKEN
            result = await client.read("contacts", "companies", ["101", "102"])
            for item in result.results:
                print(item.from_id, item.to_ids)

    asyncio.run(main())

The emulator for tests lives in :mod:`hubassoc.testing`.
"""

from ._auth import OAuthToken, TokenRefreshError
from ._client import Client
from ._exceptions import (
    APIError,
    AuthenticationError,
    BatchErrors,
    ClientClosedError,
    ForbiddenError,
    HubSpotError,
    InvalidInputError,
    RateLimitError,
)
from ._models import (
    AssociatedObject,
    AssociationCategory,
    AssociationRead,
    AssociationSpec,
    AssociationType,
    BatchError,
    BatchResult,
    BatchStatus,
    DefaultAssociation,
    ErrorDetail,
    LabelledAssociation,
    LimitConfiguration,
    Progress,
)
from ._operation import BatchOperation
from ._ratelimit import RateLimit, RateLimiter
from ._redis import RedisRateLimit
from ._version import __version__

__all__ = [
    "APIError",
    "AssociatedObject",
    "AssociationCategory",
    "AssociationRead",
    "AssociationSpec",
    "AssociationType",
    "AuthenticationError",
    "BatchError",
    "BatchErrors",
    "BatchOperation",
    "BatchResult",
    "BatchStatus",
    "Client",
    "ClientClosedError",
    "DefaultAssociation",
    "ErrorDetail",
    "ForbiddenError",
    "HubSpotError",
    "InvalidInputError",
    "LabelledAssociation",
    "LimitConfiguration",
    "OAuthToken",
    "Progress",
    "RateLimit",
    "RateLimitError",
    "RateLimiter",
    "RedisRateLimit",
    "TokenRefreshError",
    "__version__",
]
