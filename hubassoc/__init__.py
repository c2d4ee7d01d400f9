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
from ._blocks import BlockResult
from ._classify import RateLimitInfo
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
from ._jobs import Job, JobSummary
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
from ._stores import FileStore, JobInfo, JobState, RedisStore, Store, StoreError
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
    "BlockResult",
    "Client",
    "ClientClosedError",
    "DefaultAssociation",
    "ErrorDetail",
    "FileStore",
    "ForbiddenError",
    "HubSpotError",
    "InvalidInputError",
    "Job",
    "JobInfo",
    "JobState",
    "JobSummary",
    "LabelledAssociation",
    "LimitConfiguration",
    "OAuthToken",
    "Progress",
    "RateLimit",
    "RateLimitError",
    "RateLimitInfo",
    "RateLimiter",
    "RedisRateLimit",
    "RedisStore",
    "Store",
    "StoreError",
    "TokenRefreshError",
    "__version__",
]
