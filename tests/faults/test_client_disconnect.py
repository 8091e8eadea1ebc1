"""A client that hangs up before the server has read its request body, against a real server on a socket."""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.datastructures import Secret

from novaro_lite.app import create_app
from novaro_lite.cli.common import run_with_storage
from novaro_lite.config.sections import MetricsSettings
from novaro_lite.config.settings import SchedulerSettings, Settings
from tests.fakes.serve import serve_in_thread

SCRAPE_TOKEN = "faults-scrape-token-0123456789"


def test_client_disconnect_before_body_is_logged_not_counted_as_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        scheduler=SchedulerSettings(enabled=False),
        metrics=MetricsSettings(enabled=True, token_env="T", token=Secret(SCRAPE_TOKEN)),
    )
    _, token = run_with_storage(settings, lambda storage: storage.tokens.create("faults", "acme", None))
    caplog.set_level(logging.INFO)
    with serve_in_thread(create_app(settings), lifespan="on") as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(
                b"POST /api/v1/agents HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {token}\r\nContent-Length: 1000\r\n\r\n".encode()
                + b'{"name": "Le'  # and then nothing more: the client is gone
            )
        deadline = time.monotonic() + 10
        line = "the client disconnected before its request body was read: POST /api/v1/agents"
        while not any(record.getMessage() == line for record in caplog.records):
            assert time.monotonic() < deadline, "the disconnect was not logged (by its route template)"
            time.sleep(0.02)
        scraped = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"}).text

    assert not [record for record in caplog.records if record.exc_info], "a traceback was logged"
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    statuses = {
        sample.labels["status"]: sample.value
        for family in text_string_to_metric_families(scraped)
        if family.name == "novaro_http_requests"
        for sample in family.samples
        if sample.name == "novaro_http_requests_total" and sample.labels["route"] == "/api/v1/agents"
    }
    assert statuses == {"499": 1.0}, statuses
