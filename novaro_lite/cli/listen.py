"""`novaro-lite listen`: a webhook receiver for development that prints each delivery and checks its signature.

It is the other end of the async walkthrough in docs/api.md: it needs no internet and no code of your own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime

import click
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from novaro_lite.cli.terminal import say
from novaro_lite.domain.ids import id_time
from novaro_lite.domain.webhooks import SECRET_PREFIX, verify_signature


def _clock_text(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).strftime("%H:%M:%S")


def describe(body: bytes, received: float) -> list[str]:
    """The lines printed for one delivery: what it answers, how long after the request, its messages."""
    try:
        payload = json.loads(body)
    except ValueError:
        return [f"  (not JSON: {len(body)} bytes)"]
    if not isinstance(payload, dict):
        return [f"  (JSON, but not an object: {body[:200]!r})"]
    request_id = str(payload.get("id", "?"))
    sent = id_time(request_id)
    after = "" if sent is None else f", {received - sent:.1f} s after the request"
    lines = [f"  reference {payload.get('reference')!r}, request {request_id}, agent {payload.get('agentId')}{after}"]
    messages = payload.get("messages") or []
    if not messages:
        lines.append("  (no messages: a test ping)")
    for message in messages:
        at = message.get("createdAt")
        stamp = _clock_text(at) if isinstance(at, int | float) else "--:--:--"
        lines.append(f"  {stamp} {message.get('role')}: {message.get('content')}")
    return lines


def receiver_app(secret: str | None, echo: Callable[[str], None], clock: Callable[[], float] = time.time) -> Starlette:
    """An app that takes a POST on any path, prints it, and answers 200 (401 when its signature is wrong)."""

    async def receive(request: Request) -> Response:
        body = await request.body()
        now = clock()
        headers = request.headers
        verdict, status = "signature not checked (no --secret)", 200
        if secret is not None:
            try:
                verify_signature(
                    secret,
                    headers.get("webhook-id", ""),
                    headers.get("webhook-timestamp", ""),
                    headers.get("webhook-signature", ""),
                    body,
                    now,
                )
                verdict = "signature verified"
            except ValueError as exc:
                verdict, status = f"signature REFUSED: {exc}", 401
        echo(f"[{_clock_text(now)}] POST {request.url.path} webhook-id {headers.get('webhook-id', '-')}: {verdict}")
        for line in describe(body, now):
            echo(line)
        return JSONResponse({"received": status == 200}, status_code=status)

    return Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=9000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0 picks a free one.",
)
@click.option("--secret", help="The webhook's whsec_… secret: check each delivery's signature (401 when wrong).")
def listen(host: str, port: int, secret: str | None) -> None:
    """Receive webhook deliveries on any path and print them: a receiver for development.

    Each delivery shows its reference, how long after the request it came and its messages. With
    --secret it checks the Standard Webhooks signature and answers 401 when it does not match; every
    other delivery gets 200.

    \b
    Example:
        novaro-lite listen --port 9000 --secret whsec_...
    """
    if secret is not None and not secret.startswith(SECRET_PREFIX):
        raise click.BadParameter(f"a webhook secret starts with {SECRET_PREFIX!r}", param_hint="--secret")
    say(f"Listening for webhook deliveries on http://{host}:{port}/ (any path); Ctrl+C stops.")
    app = receiver_app(secret, say)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
