"""`novaro-lite bench`: measure this install offline, on a fresh server or on a running one (--url).

It puts a fake OpenAI-compatible upstream and a webhook receiver on loopback (novaro_lite/benchmark), then
runs benchmark/suite.py against the server. A fresh server is `novaro-lite serve` in a process of its own,
on a temporary data directory and a config whose default provider is the fake upstream; it is stopped and
its directory removed afterwards. A running server keeps its own providers: the realtime parts use its
built-in `demo` provider, so no LLM is called and nothing is billed; the agent and webhook the run made
are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import click
import httpx

from novaro_lite.benchmark.loopback import Receiver, fake_upstream, listening
from novaro_lite.benchmark.suite import Progress, Report, Sizes, Target, run_suite
from novaro_lite.cli.common import DEFAULT_ACCOUNT, echo_table, load_cli_settings, run_with_storage

AGENT = {"name": "Bench", "persona": "Answers benchmarks.", "activeHours": {"start": "00:00", "end": "00:00"}}


def _server_command(*args: str) -> list[str]:
    """This install's own `novaro-lite`: the one-file executable, or this Python with the package."""
    if getattr(sys, "frozen", False):
        return [sys.executable, *args]
    return [sys.executable, "-m", "novaro_lite", *args]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fresh_config(path: Path, upstream_url: str, workers: int) -> None:
    path.write_text(
        f'log_level = "warning"\nworkers = {workers}\n'
        '[defaults]\nprovider = "fake"\n'
        f'[providers.fake]\nkind = "openai"\nbase_url = "{upstream_url}/v1"\nmodel = "bench"\n'
        "[webhooks]\nallow_private_networks = true\n"
    )


async def _wait_until_up(client: httpx.AsyncClient, url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise click.ClickException(f"The server exited while starting:\n{log.read_text()[-2000:]}")
        with contextlib.suppress(httpx.TransportError):
            if (await client.get(f"{url}/healthz")).status_code == 200:
                return
        await asyncio.sleep(0.1)
    raise click.ClickException(f"The server did not answer {url}/healthz within 60 s")


@contextlib.asynccontextmanager
async def _fresh_server(upstream_url: str, workers: int, client: httpx.AsyncClient) -> AsyncIterator[tuple[str, str]]:
    """Start `serve` on a temporary data directory; yield its URL and a token; stop it and remove the directory."""
    with tempfile.TemporaryDirectory(prefix="novaro-bench-") as scratch:
        config, data, log = Path(scratch) / "novaro.toml", Path(scratch) / "data", Path(scratch) / "server.log"
        _fresh_config(config, upstream_url, workers)
        settings = load_cli_settings(config, data_dir=data)
        _, token = await asyncio.to_thread(
            run_with_storage, settings, lambda storage: storage.tokens.create("bench", DEFAULT_ACCOUNT, None)
        )
        port = _free_port()
        command = _server_command("serve", "--port", str(port), "--config", str(config), "--data-dir", str(data))
        environ = {key: value for key, value in os.environ.items() if key != "NOVARO_LITE_CONFIG"}
        with log.open("wb") as output:
            server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=environ)
        try:
            url = f"http://127.0.0.1:{port}"
            await _wait_until_up(client, url, server, log)
            yield url, token
        finally:
            server.terminate()
            await asyncio.to_thread(server.wait, 30)


async def _created(client: httpx.AsyncClient, url: str, headers: dict[str, str], body: Mapping[str, object]) -> str:
    response = await client.post(url, json=body, headers=headers)
    if response.status_code != 201:
        raise click.ClickException(f"POST {url} answered {response.status_code}: {response.text[:500]}")
    return str(response.json()["id"])


async def _bench(url: str | None, token: str | None, workers: int, sizes: Sizes, progress: Progress) -> Report:
    receiver = Receiver()
    async with (
        listening(fake_upstream) as upstream,
        listening(receiver.handle) as receiver_url,
        httpx.AsyncClient(timeout=30) as client,
        contextlib.AsyncExitStack() as stack,
    ):
        agent: dict[str, object] = dict(AGENT)
        if url is None:
            progress("starting a fresh server on a temporary data directory")
            base, token = await stack.enter_async_context(_fresh_server(upstream, workers, client))
            upstream_url: str | None = f"{upstream}/v1"
        else:
            base, upstream_url = url.rstrip("/"), None
            agent["model"] = "demo"  # the server's own providers may cost money; its built-in demo does not
        headers = {"Authorization": f"Bearer {token}"}
        agent_id = await _created(client, f"{base}/api/v1/agents", headers, agent)
        stack.push_async_callback(client.delete, f"{base}/api/v1/agents/{agent_id}", headers=headers)
        hook = {"url": f"{receiver_url}/bench", "description": "novaro-lite bench"}
        webhook_id = await _created(client, f"{base}/api/v1/webhooks", headers, hook)
        stack.push_async_callback(client.delete, f"{base}/api/v1/webhooks/{webhook_id}", headers=headers)
        target = Target(base, headers, agent_id, webhook_id, upstream_url)
        return await run_suite(target, receiver, sizes, progress)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


def _rate(value: float | None, lower_bound: bool = False) -> str:
    return "-" if value is None else f"{'≥ ' if lower_bound else ''}{value:,.0f}/s"


def _table(report: Report, sizes: Sizes, fresh: bool) -> list[tuple[str, str, str]]:
    overhead_how = "p50, 1 connection, minus the upstream's alone" if fresh else "not measured: --url"
    return [
        ("overhead /api/v1/messages", _ms(report.overhead_ms), overhead_how),
        ("overhead /v1/chat/completions", _ms(report.overhead_v1_ms), overhead_how),
        ("overhead by Server-Timing", _ms(report.server_timing_overhead_ms), "median of total − provider"),
        ("realtime", _rate(report.realtime_per_second), f"{sizes.realtime_concurrency} connections"),
        (
            "realtime p50 / p99",
            f"{_ms(report.realtime_p50_ms)} / {_ms(report.realtime_p99_ms)}",
            f"{sizes.realtime_concurrency} connections",
        ),
        ("upstream alone", _rate(report.upstream_per_second), "the fake upstream, same load" if fresh else "-"),
        ("enqueue", _rate(report.enqueue_per_second), f"{sizes.enqueue_concurrency} connections, 202 after commit"),
        ("authenticated no-op", _rate(report.noop_per_second), "GET /api/v1/auth/verify, the same load"),
        (
            "deliveries",
            _rate(report.deliveries_per_second, bool(report.deliveries_kept_up)),
            f"{sizes.enqueue_requests} due together",
        ),
        (
            "lateness p50 / p99",
            f"{_ms(report.lateness_p50_ms)} / {_ms(report.lateness_p99_ms)}",
            f"{sizes.lateness_per_second} due a second",
        ),
    ]


@click.command()
@click.option("--url", help="Measure a running server at this base URL instead of a fresh one.")
@click.option("--token", envvar="NOVARO_LITE_TOKEN", help="An API token of that server (or $NOVARO_LITE_TOKEN).")
@click.option("--workers", type=click.IntRange(1, 8), default=1, show_default=True, help="A fresh server's workers.")
@click.option(
    "--size",
    type=click.FloatRange(0.01, 100),
    default=1.0,
    show_default=True,
    help="Multiply every request count by this.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def bench(url: str | None, token: str | None, workers: int, size: float, as_json: bool) -> None:
    """Measure what this server costs: overhead, realtime, enqueue and delivery rates, lateness.

    Runs offline: a fake OpenAI-compatible upstream and a webhook receiver listen on 127.0.0.1, and a fresh
    server runs on a temporary data directory (about a minute at --size 1). With --url it measures a
    running server on this machine instead: it must reach 127.0.0.1 for webhooks ([webhooks]
    allow_private_networks = true) and allow request delays; replies come from its built-in demo provider,
    and the agent and webhook made for the run are deleted afterwards. Progress goes to stderr.

    \b
    Example:
        novaro-lite bench
        novaro-lite bench --url http://127.0.0.1:8080 --token nl_... --json
    """
    if url is not None and token is None:
        raise click.UsageError("--url needs --token (or $NOVARO_LITE_TOKEN)")
    sizes = Sizes().scaled(size)
    before = [round(value, 2) for value in os.getloadavg()]
    if url is not None and not url.startswith(("http://", "https://")):
        raise click.BadParameter("give the server's base URL, e.g. http://127.0.0.1:8080", param_hint="--url")
    try:
        report = asyncio.run(_bench(url, token, workers, sizes, lambda line: click.echo(line, err=True)))
    except httpx.HTTPError as exc:  # --url names no server that answers, or it went away meanwhile
        raise click.ClickException(f"Could not reach {url or 'the server'}: {exc or type(exc).__name__}") from None
    after = [round(value, 2) for value in os.getloadavg()]
    if as_json:
        machine = {"cores": os.cpu_count(), "load_average_before": before, "load_average_after": after}
        click.echo(json.dumps(dataclasses.asdict(report) | machine, indent=2))
        return
    echo_table(("measure", "value", "how"), _table(report, sizes, url is None))
    for note in report.notes:
        click.echo(f"note: {note}")
    # The figures depend on what else runs: the load average says how busy the machine was.
    click.echo(f"{os.cpu_count()} cores; load average (1, 5, 15 min) before {before}, after {after}")
