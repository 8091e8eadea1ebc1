"""Log lines: plain text or one JSON object a line, each carrying the id of the request it belongs to.

The request id lives in a ContextVar set by observability.middleware, so a line logged anywhere while a
request is handled (a 500's traceback included) names it. Nothing here logs content, tokens or secrets:
the access line holds only the method, the route template, the status and the duration, and every other
line that names a request (a 500's) names it by its route template too (route_of), never its raw path,
which holds ids.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("novaro_request_id", default=None)
ACCESS_LOGGER = "novaro_lite.access"
ACCESS_FIELDS = ("method", "route", "status", "duration_ms")
TEXT_FORMAT = "%(levelname)s:     %(name)s: %(message)s"
UNMATCHED = "unmatched"  # the route of a request no route took (a 404), so raw paths never reach logs or labels


def template(path: str) -> str:
    """A route's path as a template reads: `{id}` for the router's `{id:path}` (a parameter that may hold a /)."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def route_of(scope: Mapping[str, Any]) -> str:
    """The template of the route that took the request (`/api/v1/agents/{id}`), or `unmatched`."""
    path = getattr(scope.get("route"), "path", None)
    return template(path) if isinstance(path, str) else UNMATCHED


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request id (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message, request id, pid, access fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "pid": record.process,  # which worker of `serve --workers N` wrote it
        }
        for field in ACCESS_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str, log_format: str) -> None:
    """Send every logger (uvicorn's included) to one stderr handler in the chosen format."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every job run at INFO
    # httpx logs every call's whole URL at INFO, and a webhook URL often holds its receiver's secret (in the
    # path, as Slack's and Discord's do, or the query); our own lines say what was called without it.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # aiosqlite logs every statement with its parameters at DEBUG: webhook secrets, token hashes, message
    # content. At `log_level = "debug"` those would reach the log, which never holds secrets or content.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
