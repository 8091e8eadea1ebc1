"""Sending one signed POST to a webhook: target check, Standard Webhooks headers, a bounded answer.

Used by delivery (replies and events) and by the test ping. A webhook with the playground URL is handed
to the in-process receiver (outbound/playground.py) instead. A WebhookSender holds only what it uses: the
webhooks' HTTP client, the [webhooks] settings and the clock. The whole call, DNS and a slow receiver
included, is bounded by [webhooks] timeout_seconds of time this process was running (deadline.py: a frozen
process does not turn an answer into a timeout), and at most RESPONSE_BODY_LIMIT bytes of the answer are
read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import httpx

from novaro_lite import __version__
from novaro_lite.config.settings import WebhookSettings
from novaro_lite.domain.requests import RESPONSE_BODY_LIMIT
from novaro_lite.domain.webhooks import Webhook, signature_header
from novaro_lite.outbound.client import REPLAYABLE
from novaro_lite.outbound.deadline import running_timeout
from novaro_lite.outbound.playground import PLAYGROUND_URL, Playground
from novaro_lite.outbound.retry_after import retry_after_seconds
from novaro_lite.outbound.targets import TargetRefusedError, UnresolvedHostError, check_target


@dataclasses.dataclass(frozen=True)
class Answer:
    """What the receiver answered, or why there was no answer (`error`, with `status_code` None)."""

    status_code: int | None
    body: str | None
    retry_after: float | None
    error: str | None

    @property
    def is_success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclasses.dataclass(frozen=True)
class WebhookSender:
    http: httpx.AsyncClient  # the webhooks' client: it connects only where the target policy allows
    settings: WebhookSettings
    clock: Callable[[], float]
    playground: Playground  # where a webhook with the playground URL is delivered, in memory

    async def post(self, webhook: Webhook, message_id: str, body: bytes) -> Answer:
        """Check the target again (DNS may have changed), then POST `body` with Standard Webhooks headers.

        Raises TargetRefusedError when the policy refuses the target; every other failure is an Answer, a host
        name that does not resolve (now) included.
        """
        if webhook.url == PLAYGROUND_URL:
            if self.playground.deliver(webhook.account, body):
                return Answer(202, None, None, None)
            return Answer(503, "No dashboard page of this account listens to the playground receiver now.", None, None)
        try:
            async with running_timeout(self.settings.timeout_seconds):
                await check_target(webhook.url, self.settings.policy)
                return await self._send(webhook, message_id, body)
        except (TimeoutError, httpx.TimeoutException):
            return Answer(None, None, None, "The receiver did not answer in time.")
        except UnresolvedHostError:  # not the URL, which may hold the receiver's secret: answers may be logged
            return Answer(None, None, None, "The receiver's host name did not resolve to an address (DNS).")
        except TargetRefusedError:
            raise
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, ValueError, OSError) as exc:
            # Whatever the client could not do is this delivery's failure, recorded like any other.
            return Answer(None, None, None, f"The receiver could not be reached ({type(exc).__name__}).")

    async def _send(self, webhook: Webhook, message_id: str, body: bytes) -> Answer:
        timestamp = int(self.clock())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"novaro-lite/{__version__}",
            # Only the first RESPONSE_BODY_LIMIT bytes are kept; a compressed answer gains nothing and
            # costs memory (the transport inflates one that comes anyway in small steps).
            "Accept-Encoding": "identity",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(webhook.signing_secrets(timestamp), message_id, timestamp, body),
        }
        # Replayable: a receiver tells a repeat by its webhook-id (a stale kept-alive connection is retried).
        extensions = {REPLAYABLE: True}
        async with self.http.stream(
            "POST", webhook.url, content=body, headers=headers, extensions=extensions
        ) as response:
            head = b""
            async for chunk in response.aiter_bytes():
                head += chunk[: RESPONSE_BODY_LIMIT - len(head)]
                if len(head) >= RESPONSE_BODY_LIMIT:
                    break
        # NUL as U+FFFD: the attempt log keeps this text, and PostgreSQL's text cannot hold NUL.
        text = head.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
        asked = retry_after_seconds(response.headers.get("retry-after"), self.clock())
        return Answer(response.status_code, text, asked, None)
