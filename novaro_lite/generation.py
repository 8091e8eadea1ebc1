"""Generating an agent's reply: persona prompt, then the provider, then chat bubbles.

Shared by realtime messages (whole or streamed) and, later, async delivery, so every reply is made the
same way. Imports providers and domain; no HTTP framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncGenerator, Iterator, Sequence
from typing import Literal

from novaro_lite.domain.agents import Agent
from novaro_lite.domain.arrival import BUBBLE_PAUSE_SECONDS, CHARS_PER_WORD
from novaro_lite.domain.contexts import APPLIES, Context, Trigger, merged_ids, scan_cost, triggers
from novaro_lite.domain.messages import ChatMessage, Prompt, Sampling, Usage
from novaro_lite.domain.persona import (
    GroupScene,
    attributed,
    build_system_prompt,
    fill_macros,
    may_grow_unspoken,
    spoken,
    timed_messages,
    writer_names,
)
from novaro_lite.domain.replies import SaidStream, Thoughts, Typist, split_bubbles, without_thoughts
from novaro_lite.errors import ProviderBusyError, ProviderError, ProviderTimeoutError
from novaro_lite.observability.server_timing import add_provider_time
from novaro_lite.providers.base import Provider
from novaro_lite.providers.registry import resolve
from novaro_lite.services import Services

# Characters of key matching (keys times the text they are looked for in) past which it runs in a thread:
# about 10 ms of work; a big lorebook over a long chat is seconds, which would hold up every other request.
OFF_LOOP_SCAN_COST = 20_000_000
THINKING_KEEPALIVE_SECONDS = 10.0  # an idle stream is cut by proxies (nginx: after 60 s)


@dataclasses.dataclass(frozen=True)
class Reply:
    messages: list[ChatMessage]
    usage: Usage


@dataclasses.dataclass(frozen=True)
class Delta:
    text: str


@dataclasses.dataclass(frozen=True)
class Extras:
    """What a caller may add to a reply beyond the conversation: its own system text, sampling settings, and
    whether the agent answers or writes first (a check-in)."""

    system: str = ""
    sampling: Sampling = Sampling()
    is_check_in: bool = False
    scene: GroupScene | None = None  # answering in a group: who else is there (the transcript is attributed)


@dataclasses.dataclass(frozen=True)
class PromptPlan:
    """What the model would be given for a conversation, and which of the contexts asked for enter it."""

    provider: Provider
    prompt: Prompt
    considered: list[Context]  # the agent's and the request's contexts, in order
    why: list[Trigger]  # why each of them enters the prompt or not (a keyword context only when a key occurs)


async def plan_prompt(
    services: Services,
    agent: Agent,
    messages: Sequence[ChatMessage],
    context_ids: Sequence[str] = (),
    extras: Extras = Extras(),
) -> PromptPlan:
    """Build the prompt a reply is generated from, without calling the model (a preview shows it as is)."""
    provider, model = resolve(services.providers, services.settings, agent.model)
    now = services.clock()
    if extras.scene is not None:
        messages = attributed(agent, extras.scene.names(), messages)
    # The agent's contexts, then the request's; one deleted since the request was accepted is left out, and a
    # keyword context only when one of its keys occurs in the recent messages.
    found = await services.storage.contexts.get_many(agent.account, merged_ids(agent.context_ids, context_ids))
    texts = [message.content for message in messages]
    if scan_cost(found, texts) > OFF_LOOP_SCAN_COST:  # seconds of work: other requests must not wait for it
        why = await asyncio.to_thread(triggers, found, texts)
    else:
        why = triggers(found, texts)
    contexts = [context for context, trigger in zip(found, why, strict=True) if trigger in APPLIES]
    system = build_system_prompt(
        agent,
        now,
        [(context.name, fill_macros(agent, context.content)) for context in contexts],
        is_new_chat=not any(message.role == "assistant" for message in messages),
        caller_system=extras.system,
        scene=extras.scene,
    )
    purpose: Literal["reply", "check_in"] = "check_in" if extras.is_check_in else "reply"
    prompt = Prompt(
        system, timed_messages(agent, messages), model, agent, now, purpose=purpose, sampling=extras.sampling
    )
    return PromptPlan(provider, prompt, found, why)


def provider_outcome(exc: BaseException | None) -> str:
    """The provider-call outcome label: ok, timeout, busy, error, or canceled (the caller went away)."""
    if exc is None:
        return "ok"
    if isinstance(exc, ProviderTimeoutError):
        return "timeout"
    if isinstance(exc, ProviderBusyError):
        return "busy"
    return "error" if isinstance(exc, Exception) else "canceled"


def model_label(provider: Provider, model: str) -> str:
    """The metrics label of a model: the provider's configured model by name, any other as `other`. An
    agent's model id is free text a client chooses, and each label value would be a new series forever."""
    return model if model == provider.default_model else "other"


@dataclasses.dataclass
class _Call:
    usage: Usage | None = None  # what the call reported it used, once it did


@contextlib.contextmanager
def _provider_call(services: Services, provider: Provider, prompt: Prompt) -> Iterator[_Call]:
    """Time one provider call, whatever its outcome, for Server-Timing and the provider metrics."""
    call, began, failure = _Call(), time.perf_counter(), None
    try:
        yield call
    except BaseException as exc:
        failure = exc
        raise
    finally:
        seconds = time.perf_counter() - began
        add_provider_time(seconds)
        services.metrics.provider_call(
            provider.name, model_label(provider, prompt.model), provider_outcome(failure), seconds, call.usage
        )


def _empty(provider: Provider) -> ProviderError:
    return ProviderError(f"The provider {provider.name!r} returned an empty reply.")


async def generate_reply(
    services: Services,
    agent: Agent,
    messages: Sequence[ChatMessage],
    context_ids: Sequence[str] = (),
    extras: Extras = Extras(),
) -> Reply:
    """Return the agent's whole reply as timestamped bubbles, with usage."""
    plan = await plan_prompt(services, agent, messages, context_ids, extras)
    provider, prompt = plan.provider, plan.prompt
    with _provider_call(services, provider, prompt) as call:
        completion = await provider.complete(prompt)
        call.usage = completion.usage
    typist = _typist(agent, prompt.now, messages)
    names = _names(agent, extras)
    said = (spoken(text, names) for text in split_bubbles(without_thoughts(completion.text), agent.max_bubbles))
    bubbles = [typist.stamp(text) for text in said if text]
    if not bubbles:
        raise _empty(provider)
    return Reply(bubbles, completion.usage)


def _typist(agent: Agent, now: float, messages: Sequence[ChatMessage]) -> Typist:
    """The stamps of a realtime reply: typed at the agent's speed, from now, or in a group from after the
    bubbles of the speaker before it (stamped as typed, so ahead of now): those after the user's last message."""
    speed = None if agent.typing_speed_wpm is None else agent.typing_speed_wpm * CHARS_PER_WORD / 60
    last_user = max((index for index, message in enumerate(messages) if message.role == "user"), default=-1)
    before = [message.created_at for message in messages[last_user + 1 :] if message.created_at is not None]
    pause = BUBBLE_PAUSE_SECONDS if speed is not None else 0
    return Typist(max(int(now), round(max(before, default=0) + pause)), speed)


def _names(agent: Agent, extras: Extras) -> tuple[str, ...]:
    """The "Name:" prefixes a group speaker's bubbles lose (a model may copy the transcript's form); none alone."""
    return writer_names(agent) if extras.scene is not None else ()


def _shown(typist: Typist, text: str, bubbles: list[str]) -> list[Delta | ChatMessage]:
    """What a stream yields for text as the agent says it: the text to show, then the bubbles now complete."""
    return [*([Delta(text)] if text else []), *(typist.stamp(bubble) for bubble in bubbles)]


def _said_stream(agent: Agent, extras: Extras) -> SaidStream:
    names = _names(agent, extras)
    return SaidStream(agent.max_bubbles, lambda bubble: spoken(bubble, names), lambda s: may_grow_unspoken(s, names))


async def stream_reply(
    services: Services,
    agent: Agent,
    messages: Sequence[ChatMessage],
    context_ids: Sequence[str] = (),
    extras: Extras = Extras(),
) -> AsyncGenerator[Delta | ChatMessage | Usage]:
    """Yield text deltas as they arrive, each bubble once it is complete, then usage."""
    plan = await plan_prompt(services, agent, messages, context_ids, extras)
    provider, prompt = plan.provider, plan.prompt
    said, typist, sent = _said_stream(agent, extras), _typist(agent, prompt.now, messages), 0
    thoughts, quiet_since = Thoughts(), None
    with _provider_call(services, provider, prompt) as call:
        async with contextlib.aclosing(provider.stream(prompt)) as items:  # closes the upstream if we stop early
            async for item in items:
                if isinstance(item, Usage):
                    call.usage = item
                    continue
                answer = thoughts.feed(item)
                if not answer:  # a reasoning model thinking: an empty delta opens the stream, then keeps it alive
                    if quiet_since is None or time.monotonic() - quiet_since >= THINKING_KEEPALIVE_SECONDS:
                        quiet_since = time.monotonic()
                        yield Delta("")
                    continue
                for out in _shown(typist, *said.feed(answer)):
                    sent += isinstance(out, ChatMessage)
                    yield out
    for out in (*_shown(typist, *said.feed(thoughts.finish())), *_shown(typist, *said.finish())):
        sent += isinstance(out, ChatMessage)
        yield out
    if not sent:
        raise _empty(provider)
    assert call.usage is not None, "providers end every stream with usage"
    yield call.usage
