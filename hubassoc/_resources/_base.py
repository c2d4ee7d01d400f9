"""What every resource shares: the client's settings and the one way to build an operation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from .. import _validation as validate
from .._batch import Plan
from .._classify import Success
from .._codec import dumps
from .._exceptions import APIError, InvalidInputError
from .._operation import BatchOperation, ProgressCallback
from .._paths import Paths
from .._transport import Transport
from .._wire import ResponseShapeError

T = TypeVar("T")


class _Settings(Protocol):
    """The parts of :class:`hubassoc.Client` a resource reads, at call time."""

    read_chunk_size: int
    write_chunk_size: int
    max_pages_per_id: int
    on_progress: ProgressCallback | None

    @property
    def _transport(self) -> Transport: ...

    @property
    def _paths(self) -> Paths: ...


def check_timeout(value: Any) -> float | None:
    """Validate a per-call ``timeout=``."""
    # aiohttp reads 0 as "no timeout"; a per-call value must be a real bound.
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidInputError(f"timeout must be a number > 0, got {value!r}")
    return float(value)


class Resource:
    """One family of endpoints, reached as an attribute of the client (``client.labels``)."""

    def __init__(self, client: _Settings) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<hubassoc {type(self).__name__} resource>"

    @property
    def _paths(self) -> Paths:
        return self._client._paths

    @staticmethod
    def _types(from_type: Any, to_type: Any) -> tuple[str, str]:
        return validate.object_type(from_type, "from"), validate.object_type(to_type, "to")

    def _operation(
        self,
        name: str,
        make_plan: Callable[[], Plan[T]],
        *,
        timeout: Any,
        on_progress: ProgressCallback | None,
        order: Sequence[str] | None = None,
        objects: bool = False,
    ) -> BatchOperation[T]:
        """The :class:`BatchOperation` every batch method returns."""
        return BatchOperation(
            make_plan,
            self._client._transport,
            name=name,
            order=order,
            objects=objects,
            timeout=check_timeout(timeout),
            on_progress=on_progress or self._client.on_progress,
        )

    async def _call(
        self,
        method: str,
        path: str,
        body: Any,
        parse: Callable[[Any], T],
        *,
        timeout: float | None,
    ) -> T:
        """One request that is not a batch (label definitions, limits), with retries.

        A failure raises :class:`APIError` (or the error that stops every operation,
        such as :class:`AuthenticationError`); an answer of the wrong shape raises
        :class:`APIError` with category ``INVALID_RESPONSE``.
        """
        outcome = await self._client._transport.post(
            path,
            None if body is None else dumps(body),
            size=1,
            timeout=timeout,
            method=method,
        )
        if not isinstance(outcome, Success):
            raise APIError(
                outcome.body.message or outcome.reason,
                status=outcome.status,
                category=outcome.body.category,
                correlation_id=outcome.body.correlation_id,
            )
        try:
            return parse(outcome.data)
        except ResponseShapeError as exc:
            raise APIError(str(exc), category="INVALID_RESPONSE") from None
