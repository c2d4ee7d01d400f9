"""A stateful HubSpot emulator for testing code that uses the Associations v4 batch API.

:class:`FakeHubSpot` serves the four endpoints hubassoc wraps over a real socket
on ``127.0.0.1``, keeps an in-memory association graph, records every request
and can be scripted to fail. Point any HTTP client at :attr:`FakeHubSpot.url`::

    async with FakeHubSpot(token="test-token", page_size=100) as hub:
        hub.seed("contacts", "companies", {"101": ["201", "202"]})
        ...  # call hub.url + "/crm/v4/associations/contacts/companies/batch/read"
        assert hub.associations("companies", "contacts", "201") == ["101"]

``python -m hubassoc.testing --port 0 --seed-demo`` runs the same emulator as a
standalone process and prints ``hubassoc emulator listening on http://HOST:PORT``.

Endpoints (POST with a JSON body ``{"inputs": [...]}`` unless said otherwise):

``/crm/v4/associations/{from}/{to}/batch/read``
    Inputs ``{"id": ..., "after": ...?}``. Every id with associations gets one
    ``results`` entry holding at most ``page_size`` to-objects from its cursor;
    ``paging.next.after`` is present only when more remain, and is sent back
    with the same id to get the next page. ``toObjectId`` is a JSON number for
    plain decimal ids (as HubSpot sends it) and a string otherwise. Cursors are
    opaque URL-safe base64 strings with ``=`` written as ``%3D``; they are
    offsets, so writes between two pages can shift what the next page holds.
    An id without associations has no ``results`` entry but an ``errors``
    entry with category ``OBJECT_NOT_FOUND``, subCategory
    ``crm.associations.NO_ASSOCIATIONS_FOUND`` and ``context.fromObjectId``;
    an id in :attr:`~FakeHubSpot.invalid_ids` gets an ``OBJECT_NOT_FOUND``
    error without that subCategory; a cursor that is garbage or belongs to
    another id gets a ``VALIDATION_ERROR`` entry. Any per-id error makes the
    status 207, otherwise 200.
``/crm/v4/associations/{from}/{to}/batch/associate/default``
    Inputs ``{"from": {"id"}, "to": {"id"}}``. Creates the pair's default
    ``HUBSPOT_DEFINED`` type in both directions and returns one result per
    applied input with its ``associationSpec``. 200, or 207 when some inputs
    mention :attr:`~FakeHubSpot.invalid_ids` (those are not applied).
``/crm/v4/associations/{from}/{to}/batch/archive``
    Inputs ``{"from": {"id"}, "to": [{"id"}, ...]}``. Removes every association
    type between each pair, in both directions; idempotent. 204 without a body
    (or 200 with an envelope when ``empty_write_responses=False``), 207 with an
    envelope when some inputs mention invalid ids.
``/crm/associations/v4/definitions/configurations/{from}/{to}/batch/purge``
    Inputs ``{"category", "typeId"}``. Removes those limit configurations;
    answers like archive.
``/crm/associations/v4/definitions/configurations/{from}/{to}/batch/{create,update}``
    Inputs ``{"category", "typeId", "maxToObjectIds"}`` for a defined type; create
    refuses a type already limited, update one that is not (per-input errors, 207).
    201 (create) / 200 (update). ``GET .../configurations/{from}/{to}`` and
    ``GET .../configurations/all`` list ``{category, typeId, label,
    userEnforcedMaxToObjectIds}``. Limits are enforced on batch create and
    associate default, in both directions: an input that would give a record more
    to-records of a type than its limit is a per-input ``VALIDATION_ERROR``.
``/crm/v4/associations/{from}/{to}/batch/create``
    Inputs ``{"from", "to", "types": [{"associationCategory", "associationTypeId"}]}``.
    Each type must be defined for the pair (see labels below); the pair's
    unlabelled type is added with them, each in both directions with its inverse
    type id. Results ``{fromObjectTypeId, fromObjectId, toObjectTypeId,
    toObjectId, labels}``; 201, or 207 when some inputs name an unknown type, an
    invalid id, or would break a configured limit (those are not applied).
``/crm/v4/associations/{from}/{to}/batch/labels/archive``
    Same inputs. Removes those types from each pair in both directions and keeps
    the rest; removing the unlabelled type removes the association. 204.
``/crm/v4/associations/{from}/{to}/labels`` (GET, POST, PUT) and ``.../labels/{typeId}`` (DELETE)
    Label definitions of the pair: HubSpot's unlabelled type and "Primary" where
    HubSpot has it, plus ``USER_DEFINED`` labels created here (ids from 1000 up,
    one per direction). POST ``{label, name, inverseLabel?}`` answers 200 with both
    directions' types; PUT ``{associationTypeId, label, inverseLabel?}`` and DELETE
    answer 204; HubSpot-defined types cannot be changed (400), unknown ids 404.

``GET /crm/v4/objects/{fromType}/{fromId}/associations/{toType}?limit=&after=``
    One record's to-objects, ``limit`` (1 to 500, default 500) a page, as
    ``{results: [{toObjectId, associationTypes}], paging?}``; ``paging.next.after``
    only while more remain (always, for ids given to ``repeat_cursor_for``). An id in
    ``invalid_ids`` gets 404; a record without associations an empty ``results``.

Every path is also served in the date-versioned family
(``/crm/associations/2026-03/...``, ``/crm/objects/2026-03/...``), and the
configuration paths also as
``/crm/v4/associations/definitions/configurations/...``.

Envelopes carry ``status: "COMPLETE"``, ``results``, ``errors`` (always a
list), ``numErrors`` (only when there are errors), ``requestedAt``,
``startedAt``, ``completedAt`` (ISO 8601, ``Z``) and ``links``.

Object types are case-insensitive and normalised, so ``contact``, ``contacts``
and ``0-1`` are the same type (likewise companies ``0-2``, deals ``0-3`` and
tickets ``0-5``); path types must match ``[A-Za-z0-9_-]+``. Default type ids:
contacts->companies 279/280, deals->contacts 3/4, deals->companies 341/342,
contacts->tickets 15/16; other pairs get a stable id of 100000 or more.

Order of checks for each request, decided when it arrives (before ``hold``
delays it):

1. a matching :meth:`~FakeHubSpot.fail_next` rule answers it;
2. unknown path: 404; a method the path does not serve: 405;
3. missing ``Authorization: Bearer ...`` or a token other than ``token``: 401
   ``INVALID_AUTHENTICATION``;
4. ``daily_limit`` exhausted: 429 ``DAILY``; ``rate_limit=(n, seconds)`` window
   full: 429 ``TEN_SECONDLY_ROLLING``. Every request that gets past this point
   counts towards both limits (a rolling window of arrival times);
5. non-empty :attr:`~FakeHubSpot.missing_scopes`: 403 ``MISSING_SCOPES`` with
   the scopes in ``errors[0].context.requiredScopes``;

then, once released:

6. validation: bad object type, malformed JSON, missing or empty ``inputs``,
   more than ``read_limit``/``write_limit`` inputs, malformed inputs: 400
   ``VALIDATION_ERROR`` with ``errors[].in``;
7. an input mentioning a :meth:`~FakeHubSpot.fail_ids` id: that status, whole
   request unapplied;
8. :class:`Faults`, drawn in arrival order from a seeded generator;
9. the request is applied and its answer built;

and last the answer waits out what is left of ``latency``, counted from arrival
(see :class:`FakeHubSpot`).

Every response carries ``X-HubSpot-Correlation-Id``; with ``rate_limit`` set
also ``X-HubSpot-RateLimit-Max``, ``-Remaining`` and
``-Interval-Milliseconds``, and with ``daily_limit`` set
``X-HubSpot-RateLimit-Daily`` and ``-Daily-Remaining``. Every 429 the emulator
makes carries the windowed headers (HubSpot's 100 per 10 s when no
``rate_limit`` is set).

:attr:`~FakeHubSpot.requests` lists :class:`RecordedRequest` objects in arrival
order once answered (status 0 when the connection was closed without an
answer); the token and the Authorization value are never recorded.
:meth:`~FakeHubSpot.wait_for_requests`, :meth:`~FakeHubSpot.wait_for_in_flight`,
:meth:`~FakeHubSpot.hold` and :meth:`~FakeHubSpot.release` let tests
synchronise with the server without sleeping.
"""

from hubassoc.testing._server import FakeHubSpot, Faults, OAuthApp, RecordedRequest

__all__ = ["FakeHubSpot", "Faults", "OAuthApp", "RecordedRequest"]
