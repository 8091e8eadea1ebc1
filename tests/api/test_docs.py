from __future__ import annotations

import gzip
import hashlib
import re

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.routing import Route

from novaro_lite.api.docs.pages import SCALAR_BUNDLE

pytestmark = pytest.mark.anyio


async def test_openapi_is_a_valid_3_1_document(client: httpx.AsyncClient):
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    validate(spec)


async def test_openapi_documents_every_route_with_bearer_security_and_problems(app, client: httpx.AsyncClient):
    spec = (await client.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An nl_ token.",
    }
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    for route in app.routes:
        assert isinstance(route, Route)
        # Documentation and dashboard pages are not API operations; /v1 is the OpenAI-compatible face, which
        # follows OpenAI's own reference, errors included.
        if route.path.startswith(
            ("/openapi.json", "/scalar", "/static/", "/problems/", "/v1/")
        ) or route.name.startswith("dashboard:"):
            continue
        for method in route.methods or ():
            if method != "HEAD":
                assert (route.path, method) in documented
    verify = spec["paths"]["/api/v1/auth/verify"]["get"]
    assert "security" not in verify  # inherits the global bearer requirement
    assert spec["paths"]["/healthz"]["get"]["security"] == []
    create = spec["paths"]["/api/v1/agents"]["post"]
    assert {"201", "400", "401", "413", "422"} <= set(create["responses"])
    assert create["responses"]["422"]["content"]["application/problem+json"]["schema"]["$ref"].endswith("/Problem")


async def test_openapi_request_schema_is_the_validating_model(client: httpx.AsyncClient):
    spec = (await client.get("/openapi.json")).json()
    agent = spec["components"]["schemas"]["AgentCreate"]
    assert agent["required"] == ["name"]
    assert agent["properties"]["name"]["maxLength"] == 100
    assert agent["additionalProperties"] is False
    assert "activeHours" in agent["properties"] and "responseTimes" in agent["properties"]


async def test_scalar_page_loads_the_vendored_bundle_and_nothing_external(client: httpx.AsyncClient):
    page = await client.get("/scalar")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '"withDefaultFonts": false' in page.text
    assert '"url": "/openapi.json"' in page.text
    sources = re.findall(r'src="([^"]+)"', page.text)
    assert sources == ["/static/scalar/standalone.js"]
    assert "https://" not in page.text


async def test_scalar_bundle_is_served_compressed_and_cacheable(client: httpx.AsyncClient):
    response = await client.get("/static/scalar/standalone.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"].startswith("text/javascript")
    assert "max-age" in response.headers["cache-control"]
    assert int(response.headers["content-length"]) == SCALAR_BUNDLE.stat().st_size
    assert "createApiReference" in response.text  # httpx decompressed it
    revalidated = await client.get("/static/scalar/standalone.js", headers={"If-None-Match": response.headers["etag"]})
    assert revalidated.status_code == 304 and revalidated.content == b""


async def test_scalar_bundle_is_decompressed_for_clients_without_gzip(client: httpx.AsyncClient):
    response = await client.get("/static/scalar/standalone.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in response.headers
    assert response.content == gzip.decompress(SCALAR_BUNDLE.read_bytes())


def test_scalar_bundle_matches_the_recorded_sha256():
    readme = (SCALAR_BUNDLE.parent / "README.md").read_text()
    recorded = re.search(r"SHA-256 of standalone.js: `([0-9a-f]{64})`", readme)
    assert recorded is not None
    assert hashlib.sha256(gzip.decompress(SCALAR_BUNDLE.read_bytes())).hexdigest() == recorded.group(1)
