from __future__ import annotations

import json
import logging

from novaro_lite.observability.logs import ACCESS_LOGGER, REQUEST_ID, JsonFormatter, RequestIdFilter, configure_logging


def record(name: str = "x", **extra: object) -> logging.LogRecord:
    made = logging.LogRecord(name, logging.INFO, __file__, 1, "hello %s", ("there",), None)
    made.__dict__.update(extra)
    return made


def test_json_lines_carry_time_level_request_id_and_access_fields():
    reset = REQUEST_ID.set("rid-1")
    try:
        line = record(ACCESS_LOGGER, method="GET", route="/x/{id}", status=200, duration_ms=1.5)
        RequestIdFilter().filter(line)
    finally:
        REQUEST_ID.reset(reset)
    entry = json.loads(JsonFormatter().format(line))
    assert entry["message"] == "hello there" and entry["level"] == "info" and entry["request_id"] == "rid-1"
    assert (entry["route"], entry["status"], entry["duration_ms"], entry["method"]) == ("/x/{id}", 200, 1.5, "GET")
    assert entry["time"].endswith("+00:00")


def test_json_lines_hold_a_traceback_as_one_field():
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        line = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    RequestIdFilter().filter(line)
    entry = json.loads(JsonFormatter().format(line))
    assert entry["request_id"] is None and "ValueError: bad" in entry["exception"]


def test_configure_logging_routes_uvicorn_through_one_handler():
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    try:
        configure_logging("warning", "json")
        assert isinstance(root.handlers[-1].formatter, JsonFormatter)
        assert root.level == logging.WARNING and logging.getLogger("uvicorn.error").propagate
        configure_logging("info", "text")
        assert not isinstance(root.handlers[-1].formatter, JsonFormatter)
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
