from __future__ import annotations

import gzip
import hashlib
import re

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.routing import Route

from novaro_lite.api.docs.pages import SCALAR_BUNDLE
from novaro_lite.observability.logs import template

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
        # Documentation and dashboard pages are not API operations.
        if route.path.startswith(("/openapi.json", "/scalar", "/static/", "/problems/")) or route.name.startswith(
            "dashboard:"
        ):
            continue
        for method in route.methods or ():
            if method != "HEAD":
                assert (template(route.path), method) in documented  # `{id}` for the router's `{id:path}`
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
    sources = re.findall(r'src="([^"]+)"', page.text)
    assert sources == ["/static/scalar/start.js", "/static/scalar/standalone.js"]
    assert "<script>" not in page.text  # no inline script: the CSP allows the server's own files only
    start = await client.get("/static/scalar/start.js")
    assert start.headers["content-type"].startswith("text/javascript")
    assert '"withDefaultFonts": false' in start.text and '"url": "/openapi.json"' in start.text
    assert "https://" not in page.text + start.text


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


@pytest.mark.parametrize("path", ["/", "/agents", "/scalar", "/problems/not-found", "/problems/forbidden"])
async def test_every_html_page_refuses_framing_and_sniffing(client: httpx.AsyncClient, path: str):
    response = await client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert policy["frame-ancestors"] == "'none'" and policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"


async def test_the_openai_face_is_in_the_reference_with_openai_shaped_errors(client: httpx.AsyncClient):
    spec = (await client.get("/openapi.json")).json()
    chat = spec["paths"]["/v1/chat/completions"]["post"]
    assert {"200", "400", "401", "404", "429", "500"} <= set(chat["responses"]) and "422" not in chat["responses"]
    assert chat["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ChatCompletionRequest")
    assert set(chat["responses"]["200"]["content"]) == {"application/json", "text/event-stream"}
    error = chat["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
    assert error.endswith("/OpenAIError")
    assert spec["components"]["schemas"]["OpenAIErrorDetail"]["required"] == ["message", "type", "param", "code"]
    models = spec["paths"]["/v1/models"]["get"]["responses"]
    assert models["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ModelList")
    one = spec["paths"]["/v1/models/{id}"]["get"]["responses"]
    assert one["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/OpenAIError")
