"""The access token never shows up in a repr, an exception, a log record or output."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import pytest

import hubassoc
from hubassoc.testing import FakeHubSpot, Faults

from .conftest import TOKEN


def _texts(value: object) -> list[str]:
    return [repr(value), str(value)]


async def test_token_never_leaks_on_any_path(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[str] = []
    caplog.set_level(logging.DEBUG)  # every logger, aiohttp's included
    async with FakeHubSpot(token=TOKEN) as hub:
        hub.seed("contacts", "companies", {"1": [str(i) for i in range(1, 151)]})
        client = hubassoc.Client(
            TOKEN,
            base_url=hub.url,
            rate_limit=hubassoc.RateLimit(1000, 1.0),
            max_retries=2,
            timeout=0.2,
        )
        seen += _texts(client)
        async with client:
            seen += _texts(client)

            async def run(op: Any) -> None:
                try:
                    result = await op
                except hubassoc.HubSpotError as exc:
                    seen.extend(_texts(exc))
                    seen.append("".join(traceback.format_exception(exc)))
                else:
                    seen.extend(_texts(result))
                    seen.extend(repr(e) for e in result.errors)
                    try:
                        result.raise_for_errors()
                    except hubassoc.BatchErrors as exc:
                        seen.extend(_texts(exc))

            def read() -> hubassoc.BatchOperation[hubassoc.AssociationRead]:
                return client.read("contacts", "companies", ["1", "2"])

            seen.append(repr(read()))
            await run(read())  # success, paging, 207
            hub.fail_next(1, 400)
            await run(read())  # chunk rejected
            hub.fail_next(3, 503, headers={"Retry-After": "0"})
            await run(read())  # retries exhausted
            hub.fail_next(1, 401)
            await run(read())
            hub.missing_scopes = ["crm.objects.contacts.read"]
            await run(read())
            hub.missing_scopes = []
            hub.fail_next(1, 429, body=b'{"status":"error","policyName":"DAILY","message":"daily"}')
            await run(read())
            hub.faults = Faults(seed=7, disconnect=0.5, truncated=0.3, slow=0.2, slow_seconds=0.5)
            await run(read())  # disconnects, truncated bodies, timeouts
            hub.faults = None
            hub.invalid_ids = {"9"}
            await run(client.associate_default("contacts", "companies", [("9", "1"), ("3", "4")]))
            await run(client.archive("contacts", "companies", {"3": ["4"]}))
            await run(client.purge_configurations("contacts", "companies", [("USER_DEFINED", 3)]))
            try:
                client.read("../etc", "companies", ["1"])
            except hubassoc.InvalidInputError as exc:
                seen.extend(_texts(exc))
        seen += _texts(client)
        for request in hub.requests:
            seen.append(repr(request))
    try:
        hubassoc.Client(TOKEN + "\n bad")
    except hubassoc.InvalidInputError as exc:
        seen.extend(_texts(exc))
    seen.extend(record.getMessage() for record in caplog.records)
    seen.extend(caplog.text.splitlines())
    out, err = capsys.readouterr()
    seen += [out, err]
    assert any("retrying" in s for s in seen), "the retry paths were exercised"
    assert len(caplog.records) > 0
    leaks = [s for s in seen if TOKEN in s or TOKEN[4:20] in s]
    assert leaks == []
