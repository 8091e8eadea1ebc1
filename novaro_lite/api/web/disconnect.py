"""A client that hangs up before the server has read its request body: not an error of the server's.

Starlette raises ClientDisconnect from the body stream; unhandled, it would be logged with a traceback and
counted as a 500. It is answered 499 instead (nginx's "client closed request"; nobody reads it), which the
access log and the HTTP metrics then show for what it is, with one line saying what happened.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from novaro_lite.observability.logs import route_of

logger = logging.getLogger(__name__)
CLIENT_CLOSED_REQUEST = 499


async def client_disconnected(request: Request, exc: Exception) -> Response:
    """Exception handler for starlette's ClientDisconnect."""
    logger.info(
        "the client disconnected before its request body was read: %s %s", request.method, route_of(request.scope)
    )
    return Response(status_code=CLIENT_CLOSED_REQUEST)
