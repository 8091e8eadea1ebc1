"""Group commit: writes that arrive while a batch is being committed go into the next batch, in one transaction.

A burst of accepted requests then costs a few trips to the database, not one transaction each. Both engines
use it; each supplies how to commit a Batch (SQLite: the whole transaction in one trip to its writer thread;
PostgreSQL: in one round trip, a call to a function on the server, postgres/batches.py), whose errors say
when the database itself failed (UnavailableError: it is locked, gone or full), which fails every write of
the batch alike. Any other error fails only the write that caused it: the batch is committed again write by
write, so a row the database refuses costs no other caller (another account, say) its write.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from novaro_lite.errors import UnavailableError
from novaro_lite.storage.database import Statement

GATHER_SECONDS = 0.001  # how long a batch gathers writes under concurrent writes (PostgreSQL's commit_delay idea)


@dataclasses.dataclass
class Write:
    """One writer's part of a group commit."""

    inserts: tuple[Statement, ...] = ()
    statements: tuple[Statement, ...] = ()
    purges: bool = False  # it erases content: once committed, the engine must hear of it (content_purged)
    done: asyncio.Future[list[int]] = dataclasses.field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


def _consume(done: asyncio.Future[list[int]]) -> None:
    """Mark a write's outcome as read, so a failure nobody waits for is not logged as never retrieved."""
    if not done.cancelled():
        done.exception()


@dataclasses.dataclass(frozen=True)
class Batch:
    """What one transaction of the group commit runs: first `inserts` (each statement's rows together, in
    arrival order), then each write's statements in turn; its result is each write's rowcounts."""

    inserts: dict[str, list[tuple[Any, ...]]]
    writes: list[tuple[Statement, ...]]

    @classmethod
    def of(cls, writes: list[Write]) -> Batch:
        inserts: dict[str, list[tuple[Any, ...]]] = {}
        for write in writes:
            for sql, params in write.inserts:
                inserts.setdefault(sql, []).append(params)
        return cls(inserts, [write.statements for write in writes])


class GroupCommit:
    def __init__(self, commit: Callable[[Batch], Awaitable[list[list[int]]]], on_purged: Callable[[], None]) -> None:
        self._commit_batch = commit
        self._on_purged = on_purged
        self._queue: list[Write] = []
        self._flusher: asyncio.Task[None] | None = None
        self._concurrent = False  # the last batch held more than one write: gather before the next

    async def insert(self, sql: str, params: tuple[Any, ...]) -> None:
        """Insert one row, committed when this returns."""
        await self._submit(Write(inserts=((sql, params),)))

    async def write(self, *statements: Statement, purges: bool = False) -> list[int]:
        """Run statements in order and return their rowcounts. Within a batch, every write's inserts run before
        any write's statements (each insert statement's rows together)."""
        return await self._submit(Write(statements=statements, purges=purges))

    async def _submit(self, write: Write) -> list[int]:
        self._queue.append(write)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        try:
            return await asyncio.shield(write.done)  # a caller that gives up does not take the batch down with it
        except asyncio.CancelledError:
            write.done.add_done_callback(_consume)  # nobody else reads this write's outcome
            raise

    async def _flush(self) -> None:
        while self._queue:
            batch: list[Write] = []
            try:
                # Under concurrent writes, gather for a millisecond first: a commit in one trip ends so soon that
                # batches would otherwise shrink to a few writes each, every one a transaction and a WAL append
                # (docs/benchmarks.md). A lone writer (the last batch held one write) is not kept waiting.
                if self._concurrent:
                    await asyncio.sleep(GATHER_SECONDS)
                batch, self._queue = self._queue, []
                self._concurrent = len(batch) > 1
                try:
                    results: list[list[int] | BaseException] = list(await self._commit(batch))
                except UnavailableError as exc:  # locked, busy, gone, full: the same for every write
                    results = [exc] * len(batch)
                except Exception as exc:
                    results = [exc] if len(batch) == 1 else [await self._commit_one(write) for write in batch]
            except BaseException:  # cancelled (the loop is closing): nothing more of ours will be answered
                for write in (*batch, *self._queue):
                    write.done.cancel()
                self._queue = []
                raise
            for write, result in zip(batch, results, strict=True):
                if write.purges and not isinstance(result, BaseException):
                    self._on_purged()
                if write.done.done():
                    continue
                if isinstance(result, BaseException):
                    write.done.set_exception(result)
                else:
                    write.done.set_result(result)

    async def _commit(self, batch: list[Write]) -> list[list[int]]:
        """Write the batch in one transaction; return each write's statement rowcounts."""
        return await self._commit_batch(Batch.of(batch))

    async def _commit_one(self, write: Write) -> list[int] | Exception:
        try:
            (rowcounts,) = await self._commit([write])
        except Exception as exc:  # this write's own failure: its caller hears why
            return exc
        return rowcounts
