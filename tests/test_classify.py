"""What each HTTP answer means: retried, fatal, or a failure of one chunk."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from multidict import CIMultiDict

from hubassoc import AuthenticationError, ForbiddenError, RateLimitError
from hubassoc._classify import (
    ChunkFailure,
    Fatal,
    Retry,
    Success,
    classify,
    parse_rate_limit_headers,
    parse_retry_after,
)


def _h(**headers: str) -> CIMultiDict[str]:
    return CIMultiDict({k.replace("_", "-"): v for k, v in headers.items()})


def _body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize("status", [200, 201, 204, 207])
def test_any_2xx_is_success(status: int) -> None:
    outcome = classify(status, _h(), b'{"status": "COMPLETE"}')
    assert outcome == Success({"status": "COMPLETE"})


def test_empty_2xx_body_is_success_without_data() -> None:
    assert classify(204, _h(), b"") == Success(None)


def test_2xx_with_truncated_json_is_retried() -> None:
    outcome = classify(200, _h(), b'{"status": "COMP')
    assert isinstance(outcome, Retry)


def test_401_is_fatal_authentication_error() -> None:
    outcome = classify(
        401,
        _h(),
        _body(
            status="error",
            message="bad token",
            category="INVALID_AUTHENTICATION",
            correlationId="c1",
        ),
    )
    assert isinstance(outcome, Fatal)
    assert isinstance(outcome.error, AuthenticationError)
    assert (outcome.error.status, outcome.error.correlation_id) == (401, "c1")


@pytest.mark.parametrize(
    "body",
    [
        _body(
            message="m",
            category="MISSING_SCOPES",
            errors=[{"message": "x", "context": {"requiredScopes": ["contacts"]}}],
        ),
        _body(message="m", errors=[{"context": {"requiredGranularScopes": ["contacts"]}}]),
        _body(message="m", context={"missingScopes": ["contacts"]}),
        _body(message="m", errors=[{"context": "{missingScopes=[contacts]}"}]),
    ],
)
def test_403_lists_missing_scopes_from_any_key(body: bytes) -> None:
    outcome = classify(403, _h(), body)
    assert isinstance(outcome, Fatal)
    assert isinstance(outcome.error, ForbiddenError)
    assert outcome.error.missing_scopes == ["contacts"]


def test_429_daily_is_fatal_with_policy_name() -> None:
    outcome = classify(
        429, _h(), _body(message="daily", errorType="RATE_LIMIT", policyName="DAILY")
    )
    assert isinstance(outcome, Fatal)
    assert isinstance(outcome.error, RateLimitError)
    assert outcome.error.policy_name == "DAILY"


def test_429_ten_secondly_waits_for_the_window_from_headers() -> None:
    outcome = classify(
        429,
        _h(X_HubSpot_RateLimit_Interval_Milliseconds="10000", X_HubSpot_RateLimit_Remaining="0"),
        _body(policyName="TEN_SECONDLY_ROLLING"),
    )
    assert isinstance(outcome, Retry)
    assert (outcome.wait, outcome.rate_limited) == (10.0, True)


def test_429_retry_after_wins_and_secondly_waits_one_second() -> None:
    after = classify(429, _h(Retry_After="3"), _body(policyName="TEN_SECONDLY_ROLLING"))
    secondly = classify(429, _h(), _body(policyName="SECONDLY"))
    assert isinstance(after, Retry)
    assert after.wait == 3.0
    assert isinstance(secondly, Retry)
    assert secondly.wait == 1.0


@pytest.mark.parametrize("status", [500, 502, 503, 504, 521])
def test_server_errors_retry_with_backoff(status: int) -> None:
    outcome = classify(status, _h(), b"<html>Bad gateway</html>")
    assert isinstance(outcome, Retry)
    assert outcome.wait is None


def test_423_waits_at_least_two_seconds() -> None:
    outcome = classify(423, _h(), b"")
    assert isinstance(outcome, Retry)
    assert outcome.wait == 2.0


@pytest.mark.parametrize("status", [400, 404, 409, 501, 522])
def test_other_errors_fail_the_chunk(status: int) -> None:
    outcome = classify(
        status,
        _h(X_HubSpot_Correlation_Id="hdr"),
        _body(message="nope", category="VALIDATION_ERROR"),
    )
    assert isinstance(outcome, ChunkFailure)
    assert (outcome.reason, outcome.body.category, outcome.body.correlation_id) == (
        "nope",
        "VALIDATION_ERROR",
        "hdr",
    )


def test_retry_after_http_date() -> None:
    now = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:05 GMT", now) == 5.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None


def test_rate_limit_headers_each_optional() -> None:
    info = parse_rate_limit_headers(
        _h(X_HubSpot_RateLimit_Max="190", X_HubSpot_RateLimit_Remaining="x")
    )
    assert (info.max, info.remaining, info.interval) == (190, None, None)
