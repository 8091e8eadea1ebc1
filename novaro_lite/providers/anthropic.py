"""Anthropic's Messages API: x-api-key, anthropic-version, a top-level system prompt, named SSE events."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from novaro_lite.domain.messages import Completion, Prompt, Usage
from novaro_lite.domain.text import mended
from novaro_lite.errors import ProviderError
from novaro_lite.providers.http import (
    SHAPE_ERRORS,
    Call,
    HTTPProvider,
    close,
    deadline,
    parse_json,
    read_json,
    send,
    sse_events,
    token_count,
    upstream_errors,
    upstream_said,
)

API_VERSION = "2023-06-01"
MAX_TOKENS = "max_tokens"  # the stop_reason of a reply the token limit cut off


class AnthropicProvider(HTTPProvider):
    shape = "an Anthropic message"

    def _request(self, prompt: Prompt, *, stream: bool) -> Call:
        body: dict[str, Any] = {
            "model": prompt.model,
            "system": prompt.system,
            "max_tokens": self._config.max_tokens,
            "messages": [{"role": message.role, "content": message.content} for message in prompt.messages],
        }
        if stream:
            body["stream"] = True
        sampling = prompt.sampling
        if sampling.max_tokens is not None:
            body["max_tokens"] = sampling.max_tokens
        if sampling.temperature is not None:
            body["temperature"] = min(sampling.temperature, 1.0)  # Anthropic's range is 0 to 1, OpenAI's 0 to 2
        if sampling.top_p is not None:
            body["top_p"] = sampling.top_p
        if sampling.stop:
            body["stop_sequences"] = list(sampling.stop)
        headers = {"anthropic-version": API_VERSION}
        if self._config.api_key:
            headers["x-api-key"] = str(self._config.api_key)
        return self._call("/v1/messages", body, headers)

    async def complete(self, prompt: Prompt) -> Completion:
        until = deadline(self._config)
        response = await send(self._upstream, self.name, self._config, self._request(prompt, stream=False), until)
        data = await read_json(self.name, self._config, response, until)
        try:
            text = "".join(block["text"] for block in data["content"] if block.get("type") == "text")
            usage = data.get("usage") or {}
            tokens = token_count(usage.get("input_tokens")), token_count(usage.get("output_tokens"))
        except SHAPE_ERRORS:
            raise self._malformed() from None
        cut_off = data.get("stop_reason") == MAX_TOKENS
        return Completion(mended(text), Usage(self.name, prompt.model, *tokens, cut_off))

    async def stream(self, prompt: Prompt) -> AsyncGenerator[str | Usage]:
        until = deadline(self._config)
        response = await send(self._upstream, self.name, self._config, self._request(prompt, stream=True), until)
        prompt_tokens = completion_tokens = 0
        finished = cut_off = False
        try:
            # Read to the end, so the connection can be reused.
            with upstream_errors(self.name, self._config):
                async for event, data in sse_events(self.name, response.chunks(), until):
                    payload = parse_json(self.name, data)
                    try:
                        if event == "error":
                            message = upstream_said(str(payload["error"]["message"]))
                            raise ProviderError(f"The provider {self.name!r} failed mid-stream: {message}")
                        if event == "message_start":
                            prompt_tokens = token_count(payload["message"]["usage"].get("input_tokens"))
                        elif event == "content_block_delta" and payload["delta"].get("type") == "text_delta":
                            text = payload["delta"]["text"]
                            if not isinstance(text, str):
                                raise TypeError(text)
                            yield mended(text)
                        elif event == "message_delta":
                            completion_tokens = token_count((payload.get("usage") or {}).get("output_tokens"))
                            cut_off = (payload.get("delta") or {}).get("stop_reason") == MAX_TOKENS
                        elif event == "message_stop":
                            finished = True
                    except SHAPE_ERRORS:
                        raise self._malformed() from None
        finally:
            await close(response)
        if not finished:
            raise ProviderError(f"The provider {self.name!r} ended its stream early.")
        yield Usage(self.name, prompt.model, prompt_tokens, completion_tokens, cut_off)
