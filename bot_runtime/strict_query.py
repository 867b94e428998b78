"""Query parameters an endpoint does not declare are refused, never silently ignored.

FastAPI drops a query parameter no endpoint asks for. For a trading API that is a trap: a
misspelt filter (``/rates?venu=binance``, ``/trades?pge=2``) answers as if it had not been
given - every venue, the first page - and the caller acts on an answer to a question it did
not ask. Both HTTP services of the project (a bot's control API, the funding-rate service)
add :func:`refuse_unknown_query` to their routers, after authentication, so the check sees
exactly the parameters FastAPI will read for the matched route (its own and its
dependencies', by alias) and the refusal goes through each app's validation-error handler:
a 422 naming the parameter and the ones expected.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from core.redaction import scrub

NAME_SHOWN = 64  # characters of an unknown parameter's name echoed back (it may hold anything)


def declared_query(dependant: Dependant) -> frozenset[str]:
    """The query parameters a route reads: its own and its dependencies', by alias."""
    names = {field.alias for field in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= declared_query(dependency)
    return frozenset(names)


def refuse_unknown_query(request: Request) -> None:
    """A router dependency: 422 when the request carries a query parameter the matched route
    does not declare."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):  # not a FastAPI route: nothing declared to hold to
        return
    # Worked out per request (a few fields): a cache keyed by the object's id would answer
    # for another route once this one is freed and its id reused.
    known = declared_query(route.dependant)
    unknown = sorted(set(request.query_params) - known)
    if not unknown:
        return
    expected = ", ".join(sorted(known)) if known else "none"
    raise RequestValidationError(
        [
            {
                "type": "extra_forbidden",
                "loc": ("query", scrub(name)[:NAME_SHOWN]),
                "msg": f"unknown query parameter (expected: {expected})",
                "input": None,
            }
            for name in unknown
        ]
    )


__all__ = ["declared_query", "refuse_unknown_query"]
