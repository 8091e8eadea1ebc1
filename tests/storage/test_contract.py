"""The store contract on both engines: data survives reopening, processes share it, group commit isolates failures."""

from __future__ import annotations

import asyncio
import gc
import itertools
import time
from pathlib import Path

import pytest

from novaro_lite.domain.agents import AgentFields
from novaro_lite.domain.avatars import Avatar
from novaro_lite.domain.tokens import hash_token
from novaro_lite.errors import NotFoundError, ValidationError
from novaro_lite.storage.paging import Listing
from novaro_lite.storage.store import Storage

pytestmark = pytest.mark.anyio


async def test_storage_reopens_without_migrating_again(target: Path | str):
    path = target
    async with Storage.open(path, time.time) as storage:
        agent = await storage.agents.create("acme", AgentFields(name="Kept"))
    async with Storage.open(path, time.time) as storage:
        assert (await storage.agents.get("acme", agent.id)).name == "Kept"


async def test_two_processes_share_the_database_while_one_writes(target: Path | str):
    path = target
    async with Storage.open(path, time.time) as server, Storage.open(path, time.time) as cli:
        created, secret = await cli.tokens.create("from-cli", "acme", None)
        assert await server.tokens.find(hash_token(secret)) == created
        await cli.tokens.revoke(created.id)
        found = await server.tokens.find(hash_token(secret))
        assert found is not None and found.revoked_at is not None


async def test_group_commit_writes_concurrent_rows_and_reports_rowcounts(target: Path | str):
    async with Storage.open(target, time.time) as storage:
        database = storage.database
        await database.write(("CREATE TABLE t (n INTEGER)", ()))
        await asyncio.gather(*(database.insert("INSERT INTO t (n) VALUES (?)", (n,)) for n in range(100)))
        counts = await asyncio.gather(
            *(database.write(("UPDATE t SET n = n + 1000 WHERE n = ?", (n,))) for n in (1, 2, -1))
        )
        assert counts == [[1], [1], [0]]
        rows = await database.all("SELECT count(*), min(n) FROM t", ())
        assert (rows[0][0], rows[0][1]) == (100, 0)


async def test_group_commit_failure_fails_only_the_writer_whose_row_is_refused(target: Path | str):
    async with Storage.open(target, time.time) as storage:
        database = storage.database
        await database.write(("CREATE TABLE t (n INTEGER UNIQUE)", ()))
        results = await asyncio.gather(
            *(database.insert("INSERT INTO t (n) VALUES (?)", (n,)) for n in range(50)),
            database.insert("INSERT INTO t (n) VALUES (?)", (10**20,)),  # too large for the column: refused
            database.insert("INSERT INTO t (n) VALUES (?)", (7,)),  # a duplicate of a row in the same batch
            database.write(("UPDATE t SET n = n + 1000 WHERE n = ?", (3,))),
            return_exceptions=True,
        )
        assert results[:50] == [None] * 50
        assert isinstance(results[50], Exception) and "unique" in str(results[51]).lower()
        assert results[52] == [1]
        rows = await database.all("SELECT count(*), max(n) FROM t", ())
        assert (rows[0][0], rows[0][1]) == (50, 1003)


async def test_a_cancelled_writer_whose_row_fails_leaves_no_unretrieved_exception(target: Path | str):
    async with Storage.open(target, time.time) as storage:
        database = storage.database
        await database.write(("CREATE TABLE t (n INTEGER)", ()))
        loop = asyncio.get_running_loop()
        unhandled: list[dict[str, object]] = []
        loop.set_exception_handler(lambda _, context: unhandled.append(context))
        try:
            caller = asyncio.create_task(database.insert("INSERT INTO t (n) VALUES (?)", (10**20,)))
            await asyncio.sleep(0)
            caller.cancel()
            with pytest.raises(asyncio.CancelledError):
                await caller
            await database.insert("INSERT INTO t (n) VALUES (?)", (1,))  # the batch after it
            gc.collect()
        finally:
            loop.set_exception_handler(None)
        assert unhandled == []


async def test_lists_search_names_count_matches_and_page_both_ways(target: Path | str):
    async with Storage.open(target, time.time) as storage:
        names = ["Ada", "adam", "Bea", "50% Ada", "Ad_x", "Zoë Ada"]
        for name in names:
            await storage.agents.create("acme", AgentFields(name=name))
        await storage.agents.create("other", AgentFields(name="Ada elsewhere"))

        everything = await storage.agents.list("acme", Listing(50))
        assert [a.name for a in everything.items] == names and everything.total == 6

        found = await storage.agents.list("acme", Listing(2, q="ADA"))
        assert [a.name for a in found.items] == ["Ada", "adam"] and found.total == 4
        rest = await storage.agents.list("acme", Listing(2, found.next_cursor, q="ADA"))
        assert [a.name for a in rest.items] == ["50% Ada", "Zoë Ada"] and rest.next_cursor is None

        newest = await storage.agents.list("acme", Listing(4, newest=True))
        assert [a.name for a in newest.items] == ["Zoë Ada", "Ad_x", "50% Ada", "Bea"]
        older = await storage.agents.list("acme", Listing(4, newest.next_cursor, newest=True))
        assert [a.name for a in older.items] == ["adam", "Ada"] and older.total == 6

        # % and _ are taken as themselves, not as LIKE's wildcards.
        assert [a.name for a in (await storage.agents.list("acme", Listing(50, q="0%"))).items] == ["50% Ada"]
        assert [a.name for a in (await storage.agents.list("acme", Listing(50, q="d_"))).items] == ["Ad_x"]


async def test_every_list_searches_and_counts(target: Path | str):
    ticking = itertools.count(1_800_000_000).__next__  # tokens have no seq: their ids order them to the second
    async with Storage.open(target, ticking) as storage:
        await storage.contexts.create("acme", "Harbour town", "…")
        await storage.contexts.create("acme", "Mountains", "…")
        await storage.webhooks.create("acme", "https://a.example/hook", "Shop bot", True)
        await storage.webhooks.create("acme", "https://b.example/hook", "Other", True)
        first, _ = await storage.tokens.create("laptop", "acme", None)
        second, _ = await storage.tokens.create("Phone", "acme", None)
        third, _ = await storage.tokens.create("old phone", "acme", None)
        await storage.tokens.revoke(third.id)

        contexts = await storage.contexts.list("acme", Listing(50, q="harb"))
        assert [c.name for c in contexts.items] == ["Harbour town"] and contexts.total == 1
        webhooks = await storage.webhooks.list("acme", Listing(50, q="shop"))  # the description
        assert [w.url for w in webhooks.items] == ["https://a.example/hook"]
        assert (await storage.webhooks.list("acme", Listing(50, q="B.EXAMPLE"))).total == 1  # the URL

        tokens = await storage.tokens.list_active("acme", Listing(1, newest=True))
        assert [t.id for t in tokens.items] == [second.id] and tokens.total == 2  # the revoked one is left out
        tokens = await storage.tokens.list_active("acme", Listing(1, tokens.next_cursor, newest=True))
        assert [t.id for t in tokens.items] == [first.id] and tokens.next_cursor is None
        assert (await storage.tokens.list_active("acme", Listing(50, q="phone"))).total == 1


async def test_a_cursor_of_another_kind_of_list_is_refused(target: Path | str):
    async with Storage.open(target, time.time) as storage:
        for name in ("a", "b"):
            await storage.tokens.create(name, "acme", None)
            await storage.contexts.create("acme", name, "…")
        token_cursor = (await storage.tokens.list_active("acme", Listing(1))).next_cursor
        context_cursor = (await storage.contexts.list("acme", Listing(1))).next_cursor
        with pytest.raises(ValidationError):
            await storage.contexts.list("acme", Listing(1, token_cursor))
        with pytest.raises(ValidationError):
            await storage.tokens.list_active("acme", Listing(1, context_cursor))


async def test_an_agents_picture_is_kept_by_account_replaced_and_goes_with_the_agent(target: Path | str):
    png, jpeg = Avatar("image/png", b"\x89PNG\r\n\x1a\n\x00\xff" * 10), Avatar("image/jpeg", b"\xff\xd8\xff\x00" * 9)
    async with Storage.open(target, time.time) as storage:
        agent = (await storage.agents.create_many("acme", [AgentFields(name="Pic")], avatars=[png]))[0]
        bare = await storage.agents.create("acme", AgentFields(name="Bare"))
        assert await storage.avatars.get("acme", agent.id) == png  # every byte, NUL and 0xff included
        assert await storage.avatars.get("acme", bare.id) is None
        with pytest.raises(NotFoundError):
            await storage.avatars.get("other", agent.id)
        with pytest.raises(NotFoundError):
            await storage.avatars.put("other", agent.id, jpeg)
        await storage.avatars.put("acme", agent.id, jpeg)
    async with Storage.open(target, time.time) as storage:
        assert await storage.avatars.get("acme", agent.id) == jpeg
        listed = await storage.agents.list("acme", Listing(10))  # the list says who has one, as `get` does
        assert [(found.name, found.has_avatar) for found in listed.items] == [("Pic", True), ("Bare", False)]
        assert (await storage.agents.get("acme", agent.id)).has_avatar
        assert await storage.avatars.delete("acme", bare.id) is False
        assert await storage.avatars.delete("acme", agent.id) is True
        assert await storage.avatars.get("acme", agent.id) is None
        await storage.avatars.put("acme", agent.id, png)
        await storage.agents.delete("acme", agent.id)
        rows = await storage.database.all("SELECT agent_id FROM agent_avatars", ())
        assert rows == []  # deleting the agent deleted its picture


async def test_an_agents_thousand_contexts_are_read_in_order(target: Path | str):
    """An agent may know 1,000 contexts (a card's whole lorebook): read in queries of at most 500 ids, since
    SQLite before 3.32 binds at most 999 parameters; one other account's id is left out."""
    async with Storage.open(target, time.time) as storage:
        made = [await storage.contexts.create("acme", f"lore {n}", "…") for n in range(1001)]
        other = await storage.contexts.create("other", "theirs", "…")
        wanted = [context.id for context in reversed(made)]
        found = await storage.contexts.get_many("acme", [*wanted[:600], other.id, *wanted[600:]])
        assert [context.id for context in found] == wanted
