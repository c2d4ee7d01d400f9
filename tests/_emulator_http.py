"""Talking to the emulator over its socket: the requests its tests share."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from .conftest import TOKEN

READ = "/crm/v4/associations/contacts/companies/batch/read"
ASSOCIATE = "/crm/v4/associations/contacts/companies/batch/associate/default"
ARCHIVE = "/crm/v4/associations/contacts/companies/batch/archive"
PURGE = "/crm/associations/v4/definitions/configurations/contacts/companies/batch/purge"


class Reply:
    """What a test needs from one HTTP exchange."""

    def __init__(self, status: int, raw: bytes, headers: CIMultiDictProxy[str]) -> None:
        self.status = status
        self.raw = raw
        self.headers = headers

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


async def post(
    session: aiohttp.ClientSession,
    url: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = TOKEN,
    raw: bytes | None = None,
    method: str = "POST",
) -> Reply:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else json.dumps(body).encode()
    async with session.request(method, url + path, data=data, headers=headers) as resp:
        return Reply(resp.status, await resp.read(), resp.headers)


def read_body(*ids: str | int, after: str | None = None) -> dict[str, Any]:
    inputs: list[dict[str, Any]] = [{"id": str(i)} for i in ids]
    if after is not None:
        inputs[0]["after"] = after
    return {"inputs": inputs}


def pair_inputs(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"inputs": [{"from": {"id": f}, "to": {"id": t}} for f, t in pairs]}
