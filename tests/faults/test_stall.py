"""An answer that arrived while the event loop was stalled is an answer, not a timeout (in process).

The receiver runs in a thread of its own and answers within 0.2 s; this test's loop is blocked (time.sleep) past
the webhook timeout while the answer sits in the socket. tests/faults/test_pause.py does the same to a real
server with SIGSTOP.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from novaro_lite.config.settings import Settings, WebhookSettings
from novaro_lite.domain.webhooks import Webhook, new_secret
from novaro_lite.outbound.client import build_http_client
from novaro_lite.outbound.playground import Playground
from novaro_lite.outbound.webhook_sender import WebhookSender
from tests.fakes.receiver import Answer, Receiver
from tests.fakes.serve import serve_in_thread

pytestmark = pytest.mark.anyio
TIMEOUT = 0.5


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()
    with serve_in_thread(receiver.app()) as url:
        yield receiver, f"{url}/hook"


async def post(hook_url: str, *, stall: float) -> tuple[int | None, str | None, float]:
    settings = Settings(webhooks=WebhookSettings(allow_private_networks=True, timeout_seconds=TIMEOUT))
    webhook = Webhook("wh_1", "acme", hook_url, "", True, None, new_secret(), None, None, 0, 0)
    async with build_http_client(policy=settings.webhooks.policy) as client:
        sender = WebhookSender(client, settings.webhooks, time.time, Playground())
        began = time.monotonic()
        sending = asyncio.create_task(sender.post(webhook, "msg_1", b"{}"))
        await asyncio.sleep(0.05)  # the request goes out
        time.sleep(stall)  # the loop is blocked, as in a frozen process, while the receiver answers
        answer = await sending
        return answer.status_code, answer.error, time.monotonic() - began


async def test_an_answer_that_came_while_the_loop_stalled_past_the_timeout_counts(receiver):
    receiver_, hook_url = receiver
    receiver_.answer(then=Answer(sleep=0.2))  # it answers while the loop is blocked, well within the timeout
    status, error, _ = await post(hook_url, stall=TIMEOUT * 4)
    assert (status, error) == (200, None)
    assert len(receiver_.receipts) == 1


async def test_a_receiver_that_does_not_answer_still_times_out_on_time(receiver):
    receiver_, hook_url = receiver
    receiver_.answer(then=Answer(sleep=10))
    status, error, took = await post(hook_url, stall=0)
    assert (status, error) == (None, "The receiver did not answer in time.")
    assert took < TIMEOUT + 1.5
