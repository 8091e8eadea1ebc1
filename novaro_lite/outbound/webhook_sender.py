"""Sending one signed POST to a webhook: target check, Standard Webhooks headers, a bounded answer.

Used by delivery and by the test ping. The whole call, DNS and a slow receiver included, is bounded by
[webhooks] timeout_seconds, and at most RESPONSE_BODY_LIMIT bytes of the answer are read.
"""

from __future__ import annotations

import asyncio
import dataclasses

import httpx

from novaro_lite import __version__
from novaro_lite.domain.requests import RESPONSE_BODY_LIMIT
from novaro_lite.domain.webhooks import Webhook, signature_header
from novaro_lite.outbound.targets import TargetRefusedError, check_target
from novaro_lite.providers.http import retry_after
from novaro_lite.services import Services


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


async def post_signed(services: Services, webhook: Webhook, message_id: str, body: bytes) -> Answer:
    """Check the target again (DNS may have changed), then POST `body` with Standard Webhooks headers.

    Raises TargetRefusedError when the policy refuses the target; every other failure is an Answer.
    """
    settings = services.settings.webhooks
    try:
        async with asyncio.timeout(settings.timeout_seconds):
            await check_target(webhook.url, settings.policy)
            timestamp = int(services.clock())
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
            async with services.webhook_http.stream("POST", webhook.url, content=body, headers=headers) as response:
                head = b""
                async for chunk in response.aiter_bytes():
                    head += chunk[: RESPONSE_BODY_LIMIT - len(head)]
                    if len(head) >= RESPONSE_BODY_LIMIT:
                        break
            text = head.decode("utf-8", errors="replace")
            return Answer(response.status_code, text, retry_after(response), None)
    except (TimeoutError, httpx.TimeoutException):
        return Answer(None, None, None, "The receiver did not answer in time.")
    except TargetRefusedError:
        raise
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, ValueError, OSError) as exc:
        # Whatever the client could not do is this delivery's failure, recorded like any other.
        return Answer(None, None, None, f"The receiver could not be reached ({type(exc).__name__}).")
