"""Any OpenAI-compatible chat completions API: OpenAI, Ollama, vLLM, llama.cpp server, LM Studio, OpenRouter."""

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

LENGTH = "length"  # the finish_reason of a reply the token limit cut off


class OpenAIProvider(HTTPProvider):
    shape = "a chat completion"

    def _request(self, prompt: Prompt, *, stream: bool) -> Call:
        body: dict[str, Any] = {
            "model": prompt.model,
            "messages": [
                {"role": "system", "content": prompt.system},
                *({"role": message.role, "content": message.content} for message in prompt.messages),
            ],
        }
        if stream:
            body |= {"stream": True, "stream_options": {"include_usage": True}}
        sampling = prompt.sampling
        options = {"max_tokens": sampling.max_tokens, "temperature": sampling.temperature, "top_p": sampling.top_p}
        body |= {name: value for name, value in options.items() if value is not None}
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        key = self._config.api_key
        return self._call("/chat/completions", body, {"Authorization": f"Bearer {key}"} if key else {})

    def _usage(self, prompt: Prompt, usage: Any, cut_off: bool) -> Usage:
        usage = usage if isinstance(usage, dict) else {}
        return Usage(
            self.name,
            prompt.model,
            token_count(usage.get("prompt_tokens")),
            token_count(usage.get("completion_tokens")),
            cut_off,
        )

    async def complete(self, prompt: Prompt) -> Completion:
        until = deadline(self._config)
        response = await send(self._upstream, self.name, self._config, self._request(prompt, stream=False), until)
        data = await read_json(self.name, self._config, response, until)
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"]
            if not isinstance(text, str):
                raise TypeError(text)
            cut_off = choice.get("finish_reason") == LENGTH
            return Completion(mended(text), self._usage(prompt, data.get("usage"), cut_off))
        except SHAPE_ERRORS:
            raise self._malformed() from None

    async def stream(self, prompt: Prompt) -> AsyncGenerator[str | Usage]:
        until = deadline(self._config)
        response = await send(self._upstream, self.name, self._config, self._request(prompt, stream=True), until)
        usage: Any = None
        finished = cut_off = False
        try:
            # Read to the end, so the connection can be reused.
            with upstream_errors(self.name, self._config):
                async for _, data in sse_events(self.name, response.chunks(), until):
                    if finished or data.strip() == "[DONE]":
                        finished = True
                        continue
                    chunk = parse_json(self.name, data)
                    if isinstance(chunk, dict) and "error" in chunk:
                        raise ProviderError(
                            f"The provider {self.name!r} failed mid-stream: {upstream_said(str(chunk['error']))}"
                        )
                    try:
                        for choice in chunk.get("choices") or ():
                            delta = (choice.get("delta") or {}).get("content")
                            if not isinstance(delta, str | None):
                                raise TypeError(delta)
                            if delta:
                                yield mended(delta)
                            cut_off = cut_off or choice.get("finish_reason") == LENGTH
                        usage = chunk.get("usage") or usage
                    except SHAPE_ERRORS:
                        raise self._malformed() from None
        finally:
            await close(response)
        if not finished:
            raise ProviderError(f"The provider {self.name!r} ended its stream early.")
        try:
            yield self._usage(prompt, usage, cut_off)
        except SHAPE_ERRORS:
            raise self._malformed() from None
