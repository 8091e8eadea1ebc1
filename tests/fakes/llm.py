"""Fake OpenAI-compatible and Anthropic servers, scripted by the requested model name.

Models:
- `echo` answers three bubbles quoting the last user message; `empty` answers an empty text; `named-lena`
  starts with "Lena:" alone, as a model copying a group's transcript may; `thinking` reasons in a
  <think> block first, as reasoning models served by Ollama or llama.cpp do; `sent-tag` copies the prompt's
  "[sent …]" tags into its bubbles.
- `slow` waits 5 s; `fail-500` always fails; `flaky` fails once, then answers; `fail-401` rejects the key;
  `fail-400` refuses the request as too long for the model's context.
- `rate-limit` always says 429 (Retry-After: 0); `rate-limit-long` asks for 120 s.
- `malformed` answers 200 with a body that is not a completion; `garbage` answers text that is not JSON;
  `deep` answers JSON nested 5,000 deep (past Python's recursion limit).
- `surrogate` answers text holding a lone UTF-16 surrogate (JSON may escape one); `odd-usage` reports
  a negative and an infinite token count.
- `agents-good` answers a batch request with valid personas as JSON, `agents-fenced` wraps them in prose and
  a code fence, `agents-thinking` reasons in a <think> block holding brackets first, `agents-badtz` gives one
  an invalid time zone unless re-asked, `agents-badtext` gives one a NUL and one a lone surrogate unless
  re-asked, `agents-few` always gives one too few, `agents-garbage` answers prose.
- Streaming: `stream-error` fails after the first token, `stream-truncated` stops there without its
  terminator, `stream-malformed` sends a chunk of the wrong shape, `slow-stream` sends one token and then
  nothing for 30 s, recording when its client went away.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

API_KEY = "test-key"


@dataclasses.dataclass
class Recorder:
    """What the fake saw: request bodies and headers, attempts per model, when a slow stream was dropped."""

    requests: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    headers: list[dict[str, str]] = dataclasses.field(default_factory=list)
    attempts: dict[str, int] = dataclasses.field(default_factory=dict)
    stream_closed_at: float | None = None

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


def reply_text(body: dict[str, Any]) -> str:
    last = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
    return f"Echo: {last}\n\nSecond bubble.\n\nThird bubble."


def personas(model: str, body: dict[str, Any]) -> str:
    """Answer a batch request (the JSON last user message) the way model `agents-…` is scripted to."""
    request = json.loads(body["messages"][-1]["content"])
    taken = set(request["avoidNames"])
    names = [name for name in (f"Person {n}" for n in range(100)) if name not in taken][: request["count"]]
    people = [
        {"name": name, "persona": "You are a test persona.", "location": "Berlin, Germany",
         "timezone": "Europe/Berlin", "language": "de", "activeHours": {"start": "07:00", "end": "22:00"}}
        for name in names
    ]  # fmt: skip
    if model == "agents-badtz" and not request["problems"]:
        people[0]["timezone"] = "Mars/Olympus"
    if model == "agents-badtext" and not request["problems"]:
        people[0]["persona"] = "You are a test persona.\u0000"
        people[1]["location"] = "Lisbon \ud800"
    if model == "agents-few":
        people = people[:-1]
    if model == "agents-garbage":
        return "I would rather not write any personas today."
    if model == "agents-fenced":
        return f"Sure! Here they are:\n```json\n{json.dumps(people)}\n```\nEnjoy."
    if model == "agents-thinking":
        return f"<think>They want [{len(people)}] people as {{name, persona}} objects.</think>\n{json.dumps(people)}"
    return json.dumps(people)


def _tokens(text: str) -> list[str]:
    return [text[i : i + 7] for i in range(0, len(text), 7)]


async def _scripted_failure(model: str, recorder: Recorder, error: Any) -> Response | None:
    """Answer the failure a model name asks for, or None to go on and answer normally."""
    recorder.attempts[model] = recorder.attempts.get(model, 0) + 1
    if model == "slow":
        await asyncio.sleep(5)
    if model == "fail-500" or (model == "flaky" and recorder.attempts[model] == 1):
        return JSONResponse(error("server exploded"), status_code=500, headers={"Retry-After": "0"})
    if model == "fail-401":
        return JSONResponse(error("invalid api key"), status_code=401)
    if model == "fail-400":
        return JSONResponse(error("the messages exceed this model's context of 8192 tokens"), status_code=400)
    if model == "fail-400-nul":
        return _json(error("bad\x00request \ud800"), status_code=400)
    if model == "rate-limit":
        return JSONResponse(error("slow down"), status_code=429, headers={"Retry-After": "0"})
    if model == "rate-limit-long":
        return JSONResponse(error("come back in two minutes"), status_code=429, headers={"Retry-After": "120"})
    if model == "garbage":
        return PlainTextResponse("<html>oops</html>")
    if model == "malformed":
        return JSONResponse({"unexpected": True})
    if model == "deep":
        return Response(b"[" * 5000 + b"]" * 5000, media_type="application/json")
    return None


def _text(model: str, body: dict[str, Any]) -> str:
    if model == "empty":
        return ""
    if model == "surrogate":
        return "Lone \ud800 half.\n\nSecond bubble."
    if model == "thinking":
        return "<think>\nThey ask about dinner.\n\nKeep it short.\n</think>\n\nPasta!\n\nCome over at 8."
    if model == "tag-fence":  # a copied tag before a fence-like line: the reviewer's case of issue 24's session
        return "[sent Tue 14 Nov 22:14] ~~~ a\n\n~~~ b\n \nc"
    if model == "sent-tag":
        return "[sent Tue 14 Nov 22:14] Hey!\n\n[sent Tue 14 Nov 22:14] What's up?"
    if model == "named-lena":
        return "Lena:\n\nHey everyone!\n\nLena: How are you?"
    return personas(model, body) if model.startswith("agents-") else reply_text(body)


def _json(content: Any, status_code: int = 200) -> Response:
    """JSON as json.dumps writes it (non-ASCII escaped), so a lone surrogate travels as \\ud800."""
    return Response(json.dumps(content), status_code=status_code, media_type="application/json")


def openai_app(recorder: Recorder) -> Starlette:
    def error(message: str) -> dict[str, Any]:
        return {"error": {"message": message, "type": "fake"}}

    async def completions(request: Request) -> Response:
        body = await request.json()
        recorder.requests.append(body)
        recorder.headers.append(dict(request.headers))
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return JSONResponse(error("missing key"), status_code=401)
        model = body["model"]
        if (failure := await _scripted_failure(model, recorder, error)) is not None:
            return failure
        text = _text(model, body)
        usage: dict[str, Any] = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
        if model == "odd-usage":
            usage = {"prompt_tokens": -5, "completion_tokens": float("inf")}
        finish = "length" if model == "cut-off" else "stop"  # "cut-off": the token limit ended the reply
        if not body.get("stream"):
            choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
            return _json({"id": "c1", "object": "chat.completion", "choices": [choice], "usage": usage})

        def chunk(delta: dict[str, Any], **extra: Any) -> str:
            return "data: " + json.dumps({"id": "c1", "choices": [{"index": 0, "delta": delta}], **extra}) + "\n\n"

        async def events() -> AsyncIterator[str]:
            yield chunk({"role": "assistant"})
            if model == "slow-stream":  # one token, then silence until the client goes away
                yield chunk({"content": "la "})
                try:
                    await asyncio.sleep(30)
                finally:  # Starlette cancels this generator when the client disconnects
                    recorder.stream_closed_at = time.monotonic()
                return
            for index, token in enumerate(_tokens(text)):
                if model == "stream-error" and index == 1:
                    yield "data: " + json.dumps(error("the model crashed")) + "\n\n"
                    return
                if model == "stream-truncated" and index == 1:
                    return
                if model == "stream-malformed" and index == 1:
                    yield "data: " + json.dumps({"choices": {"not": "a list"}}) + "\n\n"
                yield chunk({"content": token})
            yield "data: " + json.dumps({"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
            yield "\n\n"
            yield "data: " + json.dumps({"id": "c1", "choices": [], "usage": usage}) + "\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


def anthropic_app(recorder: Recorder) -> Starlette:
    def error(message: str) -> dict[str, Any]:
        return {"type": "error", "error": {"type": "api_error", "message": message}}

    async def messages(request: Request) -> Response:
        body = await request.json()
        recorder.requests.append(body)
        recorder.headers.append(dict(request.headers))
        if request.headers.get("x-api-key") != API_KEY or not request.headers.get("anthropic-version"):
            return JSONResponse(error("invalid x-api-key"), status_code=401)
        if any(m["role"] == "system" for m in body["messages"]) or "max_tokens" not in body:
            return JSONResponse(error("bad request shape"), status_code=400)
        model = body["model"]
        if (failure := await _scripted_failure(model, recorder, error)) is not None:
            return failure
        text = _text(model, body)
        if not body.get("stream"):
            return _json(
                {
                    "id": "m1",
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "text", "text": text}],
                    "stop_reason": "max_tokens" if model == "cut-off" else "end_turn",
                    "usage": {"input_tokens": -5, "output_tokens": float("inf")}
                    if model == "odd-usage"
                    else {"input_tokens": 13, "output_tokens": 9},
                }
            )

        def event(name: str, data: dict[str, Any]) -> str:
            return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n"

        async def events() -> AsyncIterator[str]:
            yield event("message_start", {"message": {"id": "m1", "usage": {"input_tokens": 13, "output_tokens": 1}}})
            yield event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
            yield event("ping", {})
            for index, token in enumerate(_tokens(text)):
                if model == "stream-error" and index == 1:
                    yield "event: error\ndata: " + json.dumps(error("Overloaded")) + "\n\n"
                    return
                if model == "stream-truncated" and index == 1:
                    return
                if model == "stream-malformed" and index == 1:
                    yield event("content_block_delta", {"index": 0, "delta": "not an object"})
                yield event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": token}})
            yield event("content_block_stop", {"index": 0})
            stop = "max_tokens" if model == "cut-off" else "end_turn"
            yield event("message_delta", {"delta": {"stop_reason": stop}, "usage": {"output_tokens": 9}})
            yield event("message_stop", {})

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])
