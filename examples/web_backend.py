"""An aiohttp.web backend that shares one hubassoc.Client across every request.

The client is created when the app starts and closed when it stops (``cleanup_ctx``).
Sharing one client is what makes its limits mean something: ``max_concurrency`` and
``rate_limit`` bound all requests of the process together, and the connection pool is
reused instead of being built per request.

Run it against the built-in emulator (no token, no network)::

    python -m hubassoc.testing --port 8081 --seed-demo --exec python examples/web_backend.py

and, from another shell::

    curl localhost:8080/contacts/103/companies
    curl -X POST localhost:8080/contacts/104/companies -d '{"companyIds": ["201", "202"]}'

Against HubSpot, set ``HUBSPOT_ACCESS_TOKEN`` (and leave ``HUBSPOT_BASE_URL`` unset).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

import hubassoc

CLIENT = web.AppKey("hubassoc_client", hubassoc.Client)


async def hubspot_client(app: web.Application) -> AsyncIterator[None]:
    """Open the one client on startup; close it (and its connections) on cleanup."""
    base_url = os.environ.get("HUBSPOT_BASE_URL", "https://api.hubapi.com")
    async with hubassoc.Client(base_url=base_url, max_concurrency=16) as client:
        app[CLIENT] = client
        yield


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def companies_of_contact(request: web.Request) -> web.Response:
    """``GET /contacts/{contact_id}/companies``: the ids of the contact's companies."""
    contact_id = request.match_info["contact_id"]
    try:
        result = await request.app[CLIENT].read("contacts", "companies", [contact_id])
    except hubassoc.InvalidInputError as exc:
        return _error(400, str(exc))
    except hubassoc.HubSpotError as exc:  # 401, 403, the daily limit
        return _error(502, str(exc))
    if result.failures:
        return _error(502, result.failures[0].message)
    companies = result.results[0].to_ids if result.results else []
    return web.json_response({"contact": contact_id, "companies": companies})


async def link_companies(request: web.Request) -> web.Response:
    """``POST /contacts/{contact_id}/companies`` with ``{"companyIds": [...]}``."""
    contact_id = request.match_info["contact_id"]
    try:
        body: Any = await request.json()
    except ValueError:
        return _error(400, "the body must be JSON")
    company_ids = body.get("companyIds") if isinstance(body, dict) else None
    if not isinstance(company_ids, list) or not company_ids:
        return _error(400, 'expected {"companyIds": ["...", ...]}')
    pairs = [(contact_id, company_id) for company_id in company_ids]
    try:
        result = await request.app[CLIENT].associate_default("contacts", "companies", pairs)
    except hubassoc.InvalidInputError as exc:
        return _error(400, str(exc))
    except hubassoc.HubSpotError as exc:
        return _error(502, str(exc))
    failed = [error.message for error in result.failures]
    return web.json_response(
        {"created": [r.to_id for r in result.results], "errors": failed},
        status=207 if failed else 200,
    )


def make_app() -> web.Application:
    """The application; the client lives as long as it does."""
    app = web.Application()
    app.cleanup_ctx.append(hubspot_client)
    app.router.add_get("/contacts/{contact_id}/companies", companies_of_contact)
    app.router.add_post("/contacts/{contact_id}/companies", link_companies)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(os.environ.get("PORT", "8080")))
