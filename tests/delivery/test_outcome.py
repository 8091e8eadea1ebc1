"""What follows one attempt, decided without a database or a network: every branch of outcome.decide."""

from __future__ import annotations

import random

import pytest

from novaro_lite.config.settings import DeliverySettings
from novaro_lite.delivery.outcome import (
    GONE,
    UNEXPECTED,
    Answered,
    Crashed,
    Decision,
    Found,
    GenerationFailed,
    Paused,
    Refused,
    decide,
)
from novaro_lite.domain.requests import MessageRequest
from novaro_lite.outbound.webhook_sender import Answer

NOW = 1_000_000.0
SETTINGS = DeliverySettings(retry_schedule=(5, 300), retry_jitter=0)


def request(attempts: int = 0, generation_failures: int = 0) -> MessageRequest:
    return MessageRequest(
        id="req_1", account="acme", agent_id="agt_1", webhook_id="whk_1", reference="order-42",
        status="delivering", scheduled_for=0, attempts=attempts, last_error=None, last_status_code=None,
        delivered_at=None, created_at=0, updated_at=0, messages=(), context_ids=(), reply=None,
        generation_failures=generation_failures,
    )  # fmt: skip


def decided(found: Found, settings: DeliverySettings = SETTINGS, **made: int) -> Decision:
    return decide(request(**made), found, now=NOW, settings=settings, rng=random.Random(0))


def test_a_webhook_disabled_before_the_attempt_pauses_without_logging_an_attempt():
    assert decided(Paused()) == Decision("paused", counter=None)


def test_a_refused_attempt_fails_at_once_whatever_budget_is_left():
    assert decided(Refused("The agent was deleted.")) == Decision("failed", "The agent was deleted.")


def test_a_2xx_is_delivered_with_the_answer_logged():
    assert decided(Answered(Answer(204, "ok", None, None))) == Decision(
        "delivered", status_code=204, response_body="ok"
    )


def test_410_gone_pauses_the_request():
    assert decided(Answered(Answer(410, "gone", None, None))) == Decision(
        "paused", GONE, status_code=410, response_body="gone"
    )


def test_a_failure_that_disabled_the_webhook_pauses_the_request_and_says_why():
    decision = decided(Answered(Answer(500, "", None, None), disabled_for="every delivery failed for 72 h"))
    assert decision.outcome == "paused" and decision.retry_at is None and decision.status_code == 500
    assert decision.error == (
        "The webhook is now disabled (every delivery failed for 72 h); its requests are paused until it is enabled."
    )


def test_a_failed_answer_is_retried_by_the_schedule():
    assert decided(Answered(Answer(500, "boom", None, None))) == Decision(
        "retry", "The receiver answered HTTP 500.", NOW + 5, "attempts", 500, "boom"
    )
    assert decided(Answered(Answer(500, "boom", None, None)), attempts=1).retry_at == NOW + 300


def test_no_answer_is_retried_with_the_reason_there_was_none():
    decision = decided(Answered(Answer(None, None, None, "The receiver did not answer in time.")))
    assert decision == Decision("retry", "The receiver did not answer in time.", NOW + 5)


@pytest.mark.parametrize(("status", "retry_at"), [(429, NOW + 42), (503, NOW + 42), (500, NOW + 5)])
def test_retry_after_lengthens_the_wait_only_on_429_and_503(status, retry_at):
    assert decided(Answered(Answer(status, "", 42.0, None))).retry_at == retry_at


def test_retry_after_never_shortens_the_wait_nor_passes_the_longest():
    assert decided(Answered(Answer(503, "", 0.0, None))).retry_at == NOW + 5
    assert decided(Answered(Answer(503, "", 86400.0, None))).retry_at == NOW + 300


def test_a_used_up_schedule_fails_the_request():
    assert decided(Answered(Answer(500, "boom", None, None)), attempts=2) == Decision(
        "failed", "The receiver answered HTTP 500. No retries left.", None, "attempts", 500, "boom"
    )


def test_the_wait_is_divided_by_the_time_scale():
    fast = DeliverySettings(retry_schedule=(60,), retry_jitter=0, time_scale=60)
    assert decided(Answered(Answer(500, "", None, None)), fast).retry_at == NOW + 1


def test_a_failed_generation_spends_the_models_budget_not_the_webhooks():
    assert decided(GenerationFailed("HTTP 500"), attempts=2) == Decision(
        "retry", "Generating the reply failed: HTTP 500", NOW + 5, "generation_failures"
    )
    assert decided(GenerationFailed("HTTP 500"), generation_failures=2) == Decision(
        "failed", "Generating the reply failed: HTTP 500 No retries left.", None, "generation_failures"
    )


def test_a_busy_model_is_retried_no_sooner_than_it_asked():
    assert decided(GenerationFailed("rate limiting", asked=120)).retry_at == NOW + 120


def test_an_unexpected_error_is_retried_in_the_budget_of_its_phase():
    assert decided(Crashed("generation_failures"), attempts=2) == Decision(
        "retry", UNEXPECTED, NOW + 5, "generation_failures"
    )
    assert decided(Crashed("attempts"), attempts=2) == Decision(
        "failed", f"{UNEXPECTED} No retries left.", None, "attempts"
    )


def test_an_unexpected_error_after_the_post_keeps_the_receivers_answer():
    assert decided(Crashed("attempts", Answer(200, "ok", None, None))) == Decision(
        "retry", UNEXPECTED, NOW + 5, "attempts", 200, "ok"
    )
