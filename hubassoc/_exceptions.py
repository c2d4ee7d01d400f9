"""Exceptions raised by hubassoc.

Hierarchy::

    HubSpotError
    ├── InvalidInputError      (also a ValueError; raised before any request is sent)
    ├── APIError               (HubSpot answered with an error that stops the whole call)
    │   ├── AuthenticationError  401
    │   ├── ForbiddenError       403, with .missing_scopes
    │   └── RateLimitError       429 that must not be retried (the DAILY limit)
    ├── BatchErrors            (raised by BatchResult.raise_for_errors())
    └── ClientClosedError      (the client was closed)

Failures of single chunks never raise: they become ``BatchError`` entries of the result,
so that no input is lost. None of these exceptions ever carries the access token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._models import BatchError, BatchResult

__all__ = [
    "APIError",
    "AuthenticationError",
    "BatchErrors",
    "ClientClosedError",
    "ForbiddenError",
    "HubSpotError",
    "InvalidInputError",
    "RateLimitError",
]


class HubSpotError(Exception):
    """Base class of every hubassoc error.

    Attributes:
        message: what went wrong, in HubSpot's words where it gave any.
        status: the HTTP status, or ``None`` when no request was answered.
        category: HubSpot's error category (``VALIDATION_ERROR``, ``MISSING_SCOPES``...).
        correlation_id: HubSpot's id for the failed request; quote it to HubSpot support.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        category: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.category = category
        self.correlation_id = correlation_id

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"(HTTP {self.status}")
            if self.category:
                parts[-1] += f", {self.category}"
            if self.correlation_id:
                parts[-1] += f", correlation id {self.correlation_id}"
            parts[-1] += ")"
        return " ".join(parts)


class InvalidInputError(HubSpotError, ValueError):
    """Input that can never make a valid request; raised before anything is sent."""


class APIError(HubSpotError):
    """HubSpot answered with an error that stops the whole operation.

    Raised from an operation, it also says what was done and what was not:

    - ``partial``: the merged :class:`~hubassoc.BatchResult` of every request that
      finished before the stop (``None`` when streaming: you already have those items).
      For batch read it holds only ids whose every page arrived.
    - ``unfinished``: every input that was not finished (never sent, in flight, or an
      id still paging), in the operation's own input form (ids, ``(from, to)`` pairs or
      specs). ``partial`` plus a re-run of ``unfinished`` completes the job exactly.

    Example::

        try:
            result = await client.read("contacts", "companies", ids)
        except hubassoc.APIError as exc:
            save(exc.partial)
            resume_later(exc.unfinished)
    """

    partial: BatchResult[Any] | None = None
    unfinished: list[Any]

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        category: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, category=category, correlation_id=correlation_id)
        self.partial = None
        self.unfinished = []


class AuthenticationError(APIError):
    """401: the access token is missing, invalid or expired."""


class ForbiddenError(APIError):
    """403: the token lacks a scope the endpoint needs.

    ``missing_scopes`` lists the scopes HubSpot named (any of ``missingScopes``,
    ``requiredScopes`` or ``requiredGranularScopes``), possibly empty.
    """

    def __init__(
        self,
        message: str,
        *,
        missing_scopes: Sequence[str] = (),
        status: int | None = 403,
        category: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, category=category, correlation_id=correlation_id)
        self.missing_scopes = list(missing_scopes)

    def __str__(self) -> str:
        base = super().__str__()
        if self.missing_scopes:
            return f"{base}; missing scopes: {', '.join(self.missing_scopes)}"
        return base


class RateLimitError(APIError):
    """429 that retrying cannot fix (HubSpot's ``DAILY`` limit); ``policy_name`` says which."""

    def __init__(
        self,
        message: str,
        *,
        policy_name: str | None = None,
        status: int | None = 429,
        category: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, category=category, correlation_id=correlation_id)
        self.policy_name = policy_name


class BatchErrors(HubSpotError):
    """Raised by ``BatchResult.raise_for_errors()``; ``errors`` holds the real failures."""

    def __init__(self, errors: Sequence[BatchError]) -> None:
        self.errors = list(errors)
        if not self.errors:
            raise ValueError("BatchErrors needs at least one error")
        first = self.errors[0]
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(
            f"{len(self.errors)} batch error(s): {first.message}{more}",
            category=first.category,
        )


class ClientClosedError(HubSpotError, RuntimeError):
    """The client was closed; create a new one."""
