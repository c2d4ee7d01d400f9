"""Retries, with ``backoff`` as the engine, behind this one small module.

Waits: a wait the server asked for (``Retry-After``, the rate-limit window, 423's two
seconds) is used as is, never shrunk by jitter; any other failure backs off
exponentially with full jitter. A wait longer than what is left of ``max_retry_time``
gives up at once rather than being cut short, since a shortened server-directed wait
would only earn another 429.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

import attrs
import backoff

from ._classify import Retry

R = TypeVar("R")
logger = logging.getLogger("hubassoc")


class RetryableError(Exception):
    """Raised by one attempt to ask for another; carries why and how long to wait."""

    def __init__(self, retry: Retry) -> None:
        super().__init__(retry.reason)
        self.retry = retry


@attrs.frozen
class RetryPolicy:
    """How hard to try: ``max_retries`` retries (so ``max_retries + 1`` attempts) within
    ``max_retry_time`` seconds, backing off from ``base_delay`` up to ``max_delay``."""

    max_retries: int = 5
    max_retry_time: float = 300.0
    base_delay: float = 0.5
    max_delay: float = 8.0


def _waits(
    policy: RetryPolicy, rng: random.Random
) -> Generator[float | None, RetryableError, None]:
    # backoff primes the generator with send(None), then sends each failure in turn.
    started = time.monotonic()
    failure = yield None
    attempt = 0
    while True:
        server_wait = failure.retry.wait
        if server_wait is not None:
            wait = server_wait
        else:
            wait = rng.uniform(0.0, min(policy.max_delay, policy.base_delay * 2**attempt))
        if wait > policy.max_retry_time - (time.monotonic() - started):
            return  # backoff turns StopIteration into giving up with the last failure
        attempt += 1
        failure = yield wait


async def with_retries(
    attempt: Callable[[], Awaitable[R]],
    policy: RetryPolicy,
    *,
    describe: Callable[[], str],
    rng: random.Random | None = None,
) -> R:
    """Run ``attempt`` until it returns, raises a non-retryable error, or the policy
    gives up (the last :class:`RetryableError` propagates).

    ``describe`` names the call for the log (endpoint and chunk size, never the token).
    """

    def log_retry(details: dict[str, Any]) -> None:
        failure: RetryableError = details["exception"]
        logger.info(
            "retrying %s: attempt %d of %d failed (%s); waiting %.2fs",
            describe(),
            details["tries"],
            policy.max_retries + 1,
            failure.retry.reason,
            details["wait"],
        )

    def log_giveup(details: dict[str, Any]) -> None:
        failure: RetryableError = details["exception"]
        logger.warning(
            "giving up on %s after %d attempt(s): %s",
            describe(),
            details["tries"],
            failure.retry.reason,
        )

    on_exception: Any = backoff.on_exception  # its stubs predate custom wait generators
    retrying = on_exception(
        _waits,
        RetryableError,
        max_tries=policy.max_retries + 1,
        jitter=None,
        on_backoff=log_retry,
        on_giveup=log_giveup,
        logger=None,
        policy=policy,
        rng=rng or random.Random(),
    )(attempt)
    result: R = await retrying()
    return result
