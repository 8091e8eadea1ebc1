"""A webhook receiver that knows which process sent each delivery, for tests of several servers.

Every server posts to the same URLs, with the same headers, so nothing in a delivery says who sent it. The
operating system knows: the receiver looks up its peer's socket in /proc/net/tcp and finds the process
holding that socket among the servers' open files (Linux only, same user). It does so once per connection,
while the connection is open, so a port reused later by another process cannot be misread. aiohttp serves
it rather than uvicorn because its requests expose their connection (uvicorn's ASGI scope does not).

It records each delivery (webhook id, path, body, sender), holds it for a while before answering 200, and
counts the deliveries it holds at once per path (one path a webhook), so a per-webhook limit shared by
several processes can be checked from the outside.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from aiohttp import web

LOOPBACK_HEX = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it


@dataclasses.dataclass
class Receipt:
    webhook_id: str
    path: str
    body: bytes
    sender: int | None  # pid of the server process that opened the connection; None if it could not be found
    at: float  # time.monotonic() on arrival
    answered_at: float | None = None  # time.monotonic() once the handler answered (before the bytes are written)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def socket_inode(local_port: int, remote_port: int) -> int | None:
    """The inode of the IPv4 loopback socket from `local_port` to `remote_port`, if it is open."""
    # One search of the whole table, not a Python loop over its lines: the receiver does this for each new
    # connection on its event loop, and a loaded machine under coverage made the loop fall seconds behind.
    with open("/proc/net/tcp") as table:
        text = table.read()
    start = text.find(f" {LOOPBACK_HEX}:{local_port:04X} {LOOPBACK_HEX}:{remote_port:04X} ")
    if start < 0:
        return None
    end = text.find("\n", start)
    return int(text[start : end if end >= 0 else len(text)].split()[8])


def socket_owners(pids: Sequence[int]) -> dict[int, int]:
    """Socket inode -> pid, for every socket the processes `pids` hold open."""
    owners: dict[int, int] = {}
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(FileNotFoundError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        owners[int(target[8:-1])] = pid
    return owners


class Witness:
    """Records deliveries and who sent them; `hold` draws how long each is held before the 200."""

    def __init__(self, hold: Callable[[], float] = lambda: 0.0) -> None:
        self.hold = hold
        self.senders: Sequence[int] = ()  # the pids to look for; set once the servers run
        self.receipts: list[Receipt] = []
        self.most_open: collections.Counter[str] = collections.Counter()  # path -> most held at once
        self._open: collections.Counter[str] = collections.Counter()
        self._by_connection: dict[object, int | None] = {}
        self._owners: dict[int, int] = {}  # socket inode -> server pid, as last read from /proc
        self._lock = threading.Lock()
        self.port = 0

    @staticmethod
    def holding(low: float, high: float, seed: int = 13) -> Callable[[], float]:
        draw = random.Random(seed)
        return lambda: draw.uniform(low, high)

    def sender(self, request: web.Request) -> int | None:
        connection = request.transport
        if connection not in self._by_connection:
            peer = connection.get_extra_info("peername") if connection else None
            inode = socket_inode(peer[1], self.port) if peer else None
            if inode is not None and inode not in self._owners:  # a socket opened since the last look
                self._owners = socket_owners(self.senders)
            self._by_connection[connection] = self._owners.get(inode or -1)
        return self._by_connection[connection]

    async def hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        receipt = Receipt(request.headers["webhook-id"], request.path, body, self.sender(request), time.monotonic())
        with self._lock:
            self.receipts.append(receipt)
            self._open[request.path] += 1
            self.most_open[request.path] = max(self.most_open[request.path], self._open[request.path])
        try:
            await asyncio.sleep(self.hold())
            return web.Response(text="ok")
        finally:
            with self._lock:
                self._open[request.path] -= 1
                receipt.answered_at = time.monotonic()

    def held_by_sender(self) -> collections.Counter[int | None]:
        """How many deliveries of each sender the receiver is holding, unanswered, now."""
        with self._lock:
            return collections.Counter(r.sender for r in self.receipts if r.answered_at is None)

    def snapshot(self) -> list[Receipt]:
        with self._lock:
            return list(self.receipts)


@contextlib.contextmanager
def witnessing(witness: Witness) -> Iterator[str]:
    """Serve `witness` on 127.0.0.1 and a free port in a thread of its own; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    witness.port = sock.getsockname()[1]
    app = web.Application()
    app.router.add_post("/hook/{n}", witness.hook)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.SockSite(runner, sock, backlog=1024).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{witness.port}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.run_until_complete(runner.cleanup())
        loop.close()
        sock.close()
