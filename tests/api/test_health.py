from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pytest

from novaro_lite.app import create_app
from novaro_lite.config.settings import SchedulerSettings, Settings
from novaro_lite.services import Services

pytestmark = pytest.mark.anyio


async def test_readyz_is_ok_with_the_scheduler_switched_off_by_config(client: httpx.AsyncClient):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "scheduler": "disabled"}


async def test_readyz_is_503_when_the_database_takes_no_writes(client: httpx.AsyncClient, services: Services):
    await services.storage.database.close()
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable" and response.json()["status"] == "unavailable"


async def test_readyz_follows_the_scheduler(settings: Settings, tmp_path: Path):
    app = create_app(dataclasses.replace(settings, scheduler=SchedulerSettings(enabled=True)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            running = await client.get("/readyz")
            assert running.status_code == 200 and running.json()["scheduler"] == "running"
            await app.state.scheduler.stop()
            stopped = await client.get("/readyz")
            assert stopped.status_code == 503 and stopped.json()["scheduler"] == "stopped"
            live = await client.get("/healthz")
            assert live.status_code == 200  # liveness does not depend on the scheduler
