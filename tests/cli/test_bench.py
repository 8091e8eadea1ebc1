"""`novaro-lite bench`: a fresh server or a running one measured offline, figures as a table or JSON."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from click.testing import CliRunner

from novaro_lite.app import create_app
from novaro_lite.benchmark.suite import Sizes
from novaro_lite.cli.main import main
from novaro_lite.config.settings import Settings, WebhookSettings
from novaro_lite.storage.store import Storage
from tests.fakes.serve import serve_in_thread

SMALL = "0.02"  # a few dozen requests a part: the whole run takes seconds
FIGURES = (
    "server_timing_overhead_ms",
    "realtime_per_second",
    "realtime_p50_ms",
    "realtime_p99_ms",
    "enqueue_per_second",
    "noop_per_second",
    "deliveries_per_second",
    "lateness_p50_ms",
    "lateness_p99_ms",
)


def test_bench_measures_a_fresh_server_and_prints_a_table():
    result = CliRunner().invoke(main, ["bench", "--size", SMALL])
    assert result.exit_code == 0, result.output
    assert "starting a fresh server" in result.stderr and "lateness:" in result.stderr  # progress, on stderr
    rows = {line.split("  ")[0]: line for line in result.stdout.splitlines()}
    for measure in (
        "overhead /api/v1/messages",
        "overhead /v1/chat/completions",
        "overhead by Server-Timing",
        "realtime",
        "enqueue",
        "authenticated no-op",
        "deliveries",
        "lateness p50 / p99",
    ):
        assert measure in rows, result.stdout
        assert " ms" in rows[measure] or "/s" in rows[measure], rows[measure]  # a figure, not "-"
    assert "load average" in result.stdout


def test_bench_measures_a_running_server_and_cleans_up(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "data", webhooks=WebhookSettings(allow_private_networks=True))

    async def mint() -> str:
        async with Storage.open(settings.database, lambda: 0.0) as storage:
            return (await storage.tokens.create("bench", "default", None))[1]

    token = asyncio.run(mint())
    with serve_in_thread(create_app(settings), lifespan="on") as url:
        result = CliRunner().invoke(main, ["bench", "--url", url, "--token", token, "--size", SMALL, "--json"])
        assert result.exit_code == 0, result.output
        figures = json.loads(result.stdout)
        for name in FIGURES:
            assert figures[name] > 0, (name, figures)
        assert figures["lateness_p50_ms"] >= 0  # arrival is measured from when the request was sent, never early
        assert figures["overhead_ms"] is None  # no upstream of ours to compare with: Server-Timing says it
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{url}/api/v1/agents", headers=headers).json()["data"] == []
        assert httpx.get(f"{url}/api/v1/webhooks", headers=headers).json()["data"] == []


def test_bench_on_a_running_server_needs_its_token():
    result = CliRunner().invoke(main, ["bench", "--url", "http://127.0.0.1:1"], env={"NOVARO_LITE_TOKEN": None})
    assert result.exit_code == 2 and "--token" in result.output


def test_bench_on_an_address_nothing_answers_says_so_in_one_line():
    for url, said in (("http://127.0.0.1:1", "Could not reach http://127.0.0.1:1"), ("127.0.0.1:1", "--url")):
        result = CliRunner().invoke(main, ["bench", "--url", url, "--token", "nl_x"])
        assert result.exit_code != 0 and not isinstance(result.exception, httpx.HTTPError), result.exception
        assert said in result.output, result.output


def test_sizes_scale_counts_but_keep_every_connection_busy():
    small = Sizes().scaled(0.001)
    assert small.enqueue_requests == 2 * small.enqueue_concurrency
    assert small.realtime_requests == 2 * small.realtime_concurrency
    assert Sizes().scaled(0.05).enqueue_requests % Sizes().enqueue_concurrency == 0
    assert small.overhead_rounds == Sizes().overhead_rounds and small.lateness_seconds >= 1
