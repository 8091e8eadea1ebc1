"""assert_problem: the one check that an error response is a well-formed RFC 9457 problem."""

from __future__ import annotations

from typing import Any

import httpx


def assert_problem(response: httpx.Response, status: int, detail_part: str = "") -> dict[str, Any]:
    """Assert the response is an application/problem+json of `status` whose detail contains `detail_part`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) - {"errors", "agents"} == {"type", "title", "status", "detail"}  # the extensions Problem has
    assert body["status"] == status
    assert body["title"] and body["type"]
    assert detail_part in body["detail"], body["detail"]
    return body
