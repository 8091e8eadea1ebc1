"""The steps of an in-process delivery test: accept a request through the API, run the Dispatcher, read it back.

Each takes the `setup` fixture of tests/delivery/conftest.py.
"""

from __future__ import annotations

from typing import Any

SECRET_TEXT = "please-keep-this-sentence-private"


def request_body(setup: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "agentId": setup["agent"]["id"],
        "webhookId": setup["hook"]["id"],
        "reference": "order-42",
        "messages": [{"role": "user", "content": SECRET_TEXT}],
    } | extra


async def accept(setup: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = await setup["client"].post(
        "/api/v1/message-requests", json=request_body(setup, **extra), headers=setup["auth"]
    )
    assert response.status_code == 202, response.text
    result: dict[str, Any] = response.json()
    return result


async def run(setup: dict[str, Any]) -> None:
    await setup["dispatcher"].run_due()
    await setup["dispatcher"].wait_idle()


async def fetch(setup: dict[str, Any], request_id: str, suffix: str = "") -> Any:
    return (await setup["client"].get(f"/api/v1/message-requests/{request_id}{suffix}", headers=setup["auth"])).json()
