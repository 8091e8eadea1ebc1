"""The playground receiver: a webhook target inside the server, read by the account's open dashboard pages.

A webhook whose URL is PLAYGROUND_URL is not POSTed to: WebhookSender hands each signed body (reply, read,
typing, test ping) to `Playground.deliver`, which passes it to every page of the webhook's account that
listens now (GET /api/v1/playground/events) and answers as a receiver would: 202 when a page took it, 503
when none listens, so the delivery is retried like any other. No address is resolved or connected to, so
[webhooks] allow_private_networks plays no part.

Bodies live only in the listening pages' queues, in this process's memory; nothing is written anywhere.
Everything is bounded: PAGES_PER_ACCOUNT listeners per account and PAGES in all, QUEUE_SIZE bodies waiting
per page (a page that falls behind is closed, and reconnects), and a stream ends after STREAM_SECONDS.
A page reaches only its own account's deliveries, and only those made by the process it is connected to.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Iterator

PLAYGROUND_URL = "novaro-lite:playground"
PAGES_PER_ACCOUNT = 8
PAGES = 256
QUEUE_SIZE = 64
STREAM_SECONDS = 15 * 60
KEEPALIVE_SECONDS = 20


class PlaygroundBusyError(Exception):
    """Too many pages listen already (for this account, or in all)."""


# A listening page's queue: signed bodies, then None when the page fell behind and its stream must end.
Inbox = asyncio.Queue[bytes | None]


@dataclasses.dataclass
class Playground:
    _pages: dict[str, set[Inbox]] = dataclasses.field(default_factory=dict)

    @property
    def listening(self) -> int:
        return sum(len(pages) for pages in self._pages.values())

    def deliver(self, account: str, body: bytes) -> bool:
        """Give `body` to every page of `account` listening now; False when none is."""
        pages = self._pages.get(account, set())
        for inbox in list(pages):
            if inbox.qsize() >= QUEUE_SIZE:  # it does not read: close it rather than hold more
                pages.discard(inbox)
                inbox.put_nowait(None)
            else:
                inbox.put_nowait(body)
        return bool(pages)

    def refusal(self, account: str) -> str | None:
        """Why another page of `account` may not listen now, or None if it may."""
        if len(self._pages.get(account, ())) >= PAGES_PER_ACCOUNT or self.listening >= PAGES:
            return (
                f"Too many pages listen to the playground receiver already (at most {PAGES_PER_ACCOUNT} per"
                " account); close another dashboard tab."
            )
        return None

    @contextlib.contextmanager
    def listen(self, account: str) -> Iterator[Inbox]:
        """A page's inbox for as long as the block runs; PlaygroundBusyError past the limits."""
        if (reason := self.refusal(account)) is not None:
            raise PlaygroundBusyError(reason)
        inbox: Inbox = asyncio.Queue(QUEUE_SIZE + 1)  # one more for the closing None
        pages = self._pages.setdefault(account, set())
        pages.add(inbox)
        try:
            yield inbox
        finally:
            pages.discard(inbox)
            if not pages:
                self._pages.pop(account, None)
