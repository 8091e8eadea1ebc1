"""What follows one delivery attempt: delivered, retried at a time, paused or failed, and why.

attempt.py reports what one attempt found as one of the `Found` values; `decide` turns it into a Decision
with no I/O: no database, no network, no clock but the `now` it is given. The retry schedule's jitter is
drawn from the `rng` it is given; the agent's sleep comes in as a function (delivery/attempt.py makes it
from domain/arrival.py).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable

from novaro_lite.config.settings import DeliverySettings
from novaro_lite.domain.messages import ChatMessage
from novaro_lite.domain.requests import MessageRequest, retry_wait
from novaro_lite.outbound.webhook_sender import Answer
from novaro_lite.storage.queue import Counter, Outcome

UNEXPECTED = "The server hit an unexpected error while delivering; it has been logged."
GONE = "The receiver answered 410 Gone; the webhook is disabled, its requests paused until it is enabled."


@dataclasses.dataclass(frozen=True)
class Paused:
    """The webhook was disabled before anything was tried: the request waits, with its content, until it is
    enabled again."""


@dataclasses.dataclass(frozen=True)
class Refused:
    """Retrying cannot help: the agent or webhook is gone, or the target is refused."""

    reason: str


@dataclasses.dataclass(frozen=True)
class GenerationFailed:
    """The model failed; `asked` is how long it asked us to wait (Retry-After), if it was busy."""

    detail: str
    asked: float | None = None


@dataclasses.dataclass(frozen=True)
class Answered:
    """The reply was POSTed: the receiver's answer (or why none came), the reason if this failure disabled the
    webhook (it has only failed for [webhooks] disable_after_hours), and the reply itself (a group's next
    turn answers it)."""

    answer: Answer
    disabled_for: str | None = None
    reply: tuple[ChatMessage, ...] = ()


@dataclasses.dataclass(frozen=True)
class Crashed:
    """An unexpected error (a bug or a broken database), already logged."""

    counter: Counter  # the budget of the phase it broke in: generating spends the model's own
    answer: Answer | None = None  # the receiver's answer, when it broke after the POST


Found = Paused | Refused | GenerationFailed | Answered | Crashed


@dataclasses.dataclass(frozen=True)
class Decision:
    """What to record: the request's next state, the attempt's error and answer, the budget it used."""

    outcome: Outcome
    error: str | None = None
    retry_at: float | None = None  # the unix time it is due again, for a retry
    counter: Counter | None = "attempts"  # None: nothing was tried, so no attempt is logged (a pause)
    status_code: int | None = None
    response_body: str | None = None


def decide(
    request: MessageRequest,
    found: Found,
    *,
    now: float,
    settings: DeliverySettings,
    rng: random.Random,
    wake: Callable[[float], float] = lambda at: at,
) -> Decision:
    """Decide what follows what one attempt at `request` found, at the unix time `now`.

    `wake` moves a retry's time out of the agent's sleep (the identity when its timing is not humanlike).
    """
    match found:
        case Paused():
            return Decision("paused", counter=None)
        case Refused(reason):
            return Decision("failed", reason)
        case GenerationFailed(detail, asked):
            error = f"Generating the reply failed: {detail}"
            return _retry(
                request, Decision("retry", error, counter="generation_failures"), asked, now, settings, rng, wake
            )
        case Crashed(counter, answer):
            return _retry(request, _answered("retry", UNEXPECTED, answer, counter), None, now, settings, rng, wake)
        case Answered(answer, disabled_for):
            if answer.is_success:
                return _answered("delivered", None, answer)
            if answer.status_code == 410:
                return _answered("paused", GONE, answer)
            if disabled_for is not None:
                error = f"The webhook is now disabled ({disabled_for}); its requests are paused until it is enabled."
                return _answered("paused", error, answer)
            error = answer.error or f"The receiver answered HTTP {answer.status_code}."
            asked = answer.retry_after if answer.status_code in (429, 503) else None
            return _retry(request, _answered("retry", error, answer), asked, now, settings, rng, wake)


def _answered(outcome: Outcome, error: str | None, answer: Answer | None, counter: Counter = "attempts") -> Decision:
    if answer is None:
        return Decision(outcome, error, counter=counter)
    return Decision(outcome, error, None, counter, answer.status_code, answer.body)


def _retry(
    request: MessageRequest,
    retry: Decision,
    asked: float | None,
    now: float,
    settings: DeliverySettings,
    rng: random.Random,
    wake: Callable[[float], float],
) -> Decision:
    """Schedule `retry` by the retry schedule of its budget (honouring `asked`), never in the agent's sleep,
    or fail it once that is used up."""
    made = (request.generation_failures if retry.counter == "generation_failures" else request.attempts) + 1
    wait = retry_wait(made, settings.retry_schedule, settings.retry_jitter, rng, asked)
    if wait is None:
        return dataclasses.replace(retry, outcome="failed", error=f"{retry.error} No retries left.")
    return dataclasses.replace(retry, retry_at=wake(now + wait / settings.time_scale))
