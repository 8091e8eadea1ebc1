"""The playground receiver: deliveries reach the listening pages of their account only, in memory, bounded."""

from __future__ import annotations

import httpx
import pytest

from novaro_lite.config.settings import WebhookSettings
from novaro_lite.domain.webhooks import Webhook
from novaro_lite.outbound import playground as receiver
from novaro_lite.outbound.playground import PLAYGROUND_URL, Playground, PlaygroundBusyError
from novaro_lite.outbound.targets import check_target
from novaro_lite.outbound.webhook_sender import WebhookSender

pytestmark = pytest.mark.anyio


def _webhook(account: str, url: str = PLAYGROUND_URL) -> Webhook:
    return Webhook(
        id="wh_1", account=account, url=url, description="", enabled=True, disabled_reason=None,
        secret="whsec_" + "A" * 43 + "=", previous_secret=None, previous_secret_until=None, created_at=0, updated_at=0,
    )  # fmt: skip


def _no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"the playground receiver must not call {request.url}")


async def test_playground_delivers_to_the_accounts_pages_only_without_any_network():
    hub = Playground()
    async with httpx.AsyncClient(transport=httpx.MockTransport(_no_network)) as http:
        sender = WebhookSender(http, WebhookSettings(), lambda: 1_000.0, hub)
        assert (await sender.post(_webhook("alice"), "req_1", b"{}")).status_code == 503  # nobody listens yet
        with hub.listen("alice") as mine, hub.listen("bob") as theirs:
            answer = await sender.post(_webhook("alice"), "req_1", b'{"id":"req_1"}')
            assert answer.is_success and answer.status_code == 202
            assert mine.get_nowait() == b'{"id":"req_1"}' and theirs.empty()
        assert hub.listening == 0  # a page that left leaves nothing behind


async def test_playground_url_needs_no_private_network_permission():
    await check_target(PLAYGROUND_URL, WebhookSettings(allow_private_networks=False).policy)


async def test_playground_bounds_its_pages_and_closes_one_that_does_not_read(monkeypatch):
    monkeypatch.setattr(receiver, "QUEUE_SIZE", 2)
    hub = Playground()
    with hub.listen("alice") as inbox:
        for n in range(3):
            hub.deliver("alice", str(n).encode())
        assert [inbox.get_nowait() for _ in range(3)] == [b"0", b"1", None]  # the third closes it
        assert hub.deliver("alice", b"3") is False and hub.listening == 0
    pages = [hub.listen("carol") for _ in range(receiver.PAGES_PER_ACCOUNT)]
    for page in pages:
        page.__enter__()
    with pytest.raises(PlaygroundBusyError, match="close another dashboard tab"):
        hub.listen("carol").__enter__()
    with hub.listen("dave"):  # another account still may
        pass
    for page in pages:
        page.__exit__(None, None, None)
    assert hub.listening == 0
