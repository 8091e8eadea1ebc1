"""Shared fixtures: settings on a fresh database per test, the app with its lifespan, a client, tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
from starlette.applications import Starlette

from novaro_lite.app import create_app
from novaro_lite.config.settings import SchedulerSettings, Settings, WebhookSettings
from novaro_lite.services import Services
from tests.fakes.hooks import Receiver
from tests.fakes.postgres import LocalPostgres
from tests.fakes.serve import serve_in_thread

# The engines a test of both runs on. PostgreSQL's runs carry the `postgres` mark, as does every test that asks for
# the server itself (below), so `pytest -m "not postgres"` (make quick) runs SQLite only and never starts one.
ENGINES = ("sqlite", pytest.param("postgres", marks=pytest.mark.postgres))


@pytest.hookimpl(tryfirst=True)  # before `-m` selects on the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "postgres" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    """A real PostgreSQL 16 (pgserver), one per session."""
    server = LocalPostgres(tmp_path_factory.mktemp("postgres"))
    yield server
    server.stop()


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest) -> str:
    """Run the test on each engine: "" keeps SQLite in data_dir; otherwise an emptied PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    postgres: LocalPostgres = request.getfixturevalue("postgres")
    return postgres.empty_shared()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", scheduler=SchedulerSettings(enabled=False))


def loopback_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings of in-process tests whose webhooks are loopback receivers: no scheduler, private targets allowed."""
    return Settings(
        data_dir=tmp_path / "data",
        scheduler=SchedulerSettings(enabled=False),
        webhooks=WebhookSettings(allow_private_networks=True),
        **overrides,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def services(app: Starlette) -> Services:
    services: Services = app.state.services
    return services


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def token(services: Services) -> str:
    return (await services.storage.tokens.create("tests", "acme", None))[1]


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def receiver() -> Iterator[tuple[str, Receiver]]:
    """A real webhook receiver on a loopback port: its URL and what it recorded."""
    receiver = Receiver()
    with serve_in_thread(receiver.app()) as url:
        yield f"{url}/hook", receiver


# `make fuzz` runs the property tests with this profile: many more examples, no deadline.
hypothesis.settings.register_profile("fuzz", max_examples=5000, deadline=None)
