"""An app running in-process with one account ready to send async requests: a token, an agent, a webhook."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from novaro_lite.app import create_app
from novaro_lite.config.settings import Settings
from novaro_lite.services import Services


@contextlib.asynccontextmanager
async def account_world(
    settings: Settings, hook_url: str, *, clock: Callable[[], float] = time.time
) -> AsyncIterator[dict[str, Any]]:
    """Yield client, auth, token, services, agent (Ada) and hook (at hook_url) of account "acme"."""
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        _, token = await services.storage.tokens.create("t", "acme", None)
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            agent = (await client.post("/api/v1/agents", json={"name": "Ada"}, headers=auth)).json()
            hook = (await client.post("/api/v1/webhooks", json={"url": hook_url}, headers=auth)).json()
            yield {"client": client, "auth": auth, "token": token, "services": services, "agent": agent, "hook": hook}
