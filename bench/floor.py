"""The floor of the realtime path in this stack: the least a gateway on uvicorn and aiohttp can add.

Run: python bench/floor.py PORT UPSTREAM_URL
A bare ASGI app under uvicorn as `novaro-lite serve` runs it (httptools, uvloop, no access log) that reads a
POST's JSON body, sends one chat completion built from it to UPSTREAM_URL through one aiohttp session (as
providers do, outbound/upstream.py) and answers with the assistant's text as JSON. No authentication,
database, persona, middleware or logging: what is left is the framework's parsing and writing, one JSON
decode and encode each way, and the outbound call. `bench/realtime.py --floor` serves it beside novaro-lite,
so the difference between the two is what novaro-lite's own work costs.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import aiohttp
import uvicorn
import yarl

HEADERS = [(b"content-type", b"application/json")]
OUTBOUND_HEADERS = {"Content-Type": "application/json"}


def app_for(upstream: str) -> Any:
    url = yarl.URL(upstream)
    session: aiohttp.ClientSession | None = None

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal session
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                if message["type"] == "lifespan.startup":
                    session = aiohttp.ClientSession()
                    await send({"type": "lifespan.startup.complete"})
            assert session is not None
            await session.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, answer = 200, b'{"ok": true}'  # a GET (the readiness wait)
        if body:
            request = json.loads(body)
            outbound = {"model": "bench", "messages": request["messages"]}
            assert session is not None
            async with session.post(url, data=json.dumps(outbound).encode(), headers=OUTBOUND_HEADERS) as response:
                completion = json.loads(await response.read())
            status = response.status
            answer = json.dumps({"reply": completion["choices"][0]["message"]["content"]}).encode()
        headers = [*HEADERS, (b"content-length", b"%d" % len(answer))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    return app


if __name__ == "__main__":
    uvicorn.run(app_for(sys.argv[2]), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
