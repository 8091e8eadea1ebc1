"""Agent storage: personas by account, listed in creation order."""

from __future__ import annotations

import builtins
import dataclasses
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from novaro_lite.domain import text as text_rule
from novaro_lite.domain.agents import ActiveHours, Agent, AgentFields, Presence, ResponseBand, field_values
from novaro_lite.domain.avatars import Avatar
from novaro_lite.domain.contexts import Context
from novaro_lite.domain.ids import new_id
from novaro_lite.errors import NotFoundError
from novaro_lite.storage.avatars import put_avatar
from novaro_lite.storage.contexts import INSERT as INSERT_CONTEXT, context_row
from novaro_lite.storage.database import Database, Row, Transaction
from novaro_lite.storage.paging import Listing, Page, select_page

CHARACTER_TEXT = (
    "greeting",
    "example_messages",
    "system_prompt",
    "post_history_instructions",
    "nickname",
    "creator",
    "creator_notes",
    "character_version",
)
CHARACTER_LISTS = ("alternate_greetings", "tags")  # stored as JSON arrays
COLUMNS = (
    "id",
    "account",
    "name",
    "persona",
    "location",
    "timezone",
    "language",
    "active_start",
    "active_end",
    "response_times",
    "model",
    "max_bubbles",
    "presence_enabled",
    "mean_session_minutes",
    "online_response_times",
    "typing_speed_wpm",
    "created_at",
    "updated_at",
    *CHARACTER_TEXT,
    *CHARACTER_LISTS,
)
# An imported card's extras can be large (lorebook entries, extensions): they are written with the agent but
# read only for an export, never on the hot path of a reply, and an update leaves them as they are.
INSERT_COLUMNS = (*COLUMNS, "card_extras")
_HAS_AVATAR = "EXISTS (SELECT 1 FROM agent_avatars WHERE agent_id = agents.id) AS has_avatar"
_SELECT = f"SELECT seq, {', '.join(COLUMNS)}, {_HAS_AVATAR} FROM agents"


def _bands_json(bands: tuple[ResponseBand, ...] | None) -> str | None:
    return None if bands is None else json.dumps([[band.up_to_seconds, band.probability] for band in bands])


def _bands(raw: str | None) -> tuple[ResponseBand, ...] | None:
    return None if raw is None else tuple(ResponseBand(up, p) for up, p in json.loads(raw))


def _row(agent: Agent) -> tuple[Any, ...]:
    return (
        agent.id,
        agent.account,
        agent.name,
        agent.persona,
        agent.location,
        agent.timezone,
        agent.language,
        agent.active_hours.start,
        agent.active_hours.end,
        _bands_json(agent.response_times),
        agent.model,
        agent.max_bubbles,
        agent.presence.enabled,
        agent.presence.mean_session_minutes,
        _bands_json(agent.online_response_times),
        agent.typing_speed_wpm,
        agent.created_at,
        agent.updated_at,
        *(getattr(agent, name) for name in CHARACTER_TEXT),
        *(json.dumps(getattr(agent, name), ensure_ascii=False) for name in CHARACTER_LISTS),
    )


def _agent(row: Row, context_ids: tuple[str, ...]) -> Agent:
    return Agent(
        id=row["id"],
        account=row["account"],
        name=row["name"],
        persona=row["persona"],
        location=row["location"],
        timezone=row["timezone"],
        language=row["language"],
        active_hours=ActiveHours(row["active_start"], row["active_end"]),
        response_times=_bands(row["response_times"]),
        model=row["model"],
        max_bubbles=row["max_bubbles"],
        presence=Presence(bool(row["presence_enabled"]), row["mean_session_minutes"]),
        online_response_times=_bands(row["online_response_times"]),
        typing_speed_wpm=row["typing_speed_wpm"],
        context_ids=context_ids,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        has_avatar=bool(row["has_avatar"]),
        **{name: row[name] for name in CHARACTER_TEXT},
        alternate_greetings=tuple(json.loads(row["alternate_greetings"])),
        tags=tuple(json.loads(row["tags"])),
    )


Read = Callable[[str, tuple[Any, ...]], Awaitable[list[Row]]]
_LINKS = "SELECT agent_id, context_id FROM agent_contexts WHERE agent_id IN ({}) ORDER BY agent_id, position"


def _not_found(agent_id: str) -> NotFoundError:
    return NotFoundError(f"There is no agent with id {agent_id!r}.")


class AgentStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def _agents(self, rows: list[Row], read: Read | None = None) -> list[Agent]:
        """The agents of these rows, with their contexts' ids (read by `read`: a transaction's, or the reader)."""
        if not rows:
            return []
        links: dict[str, list[str]] = {}
        agent_ids = tuple(row["id"] for row in rows)
        for link in await (read or self._db.read)(_LINKS.format(", ".join("?" * len(agent_ids))), agent_ids):
            links.setdefault(link[0], []).append(link[1])
        return [_agent(row, tuple(links.get(row["id"], ()))) for row in rows]

    @staticmethod
    async def _link(tx: Transaction, agent: Agent) -> None:
        await tx.execute("DELETE FROM agent_contexts WHERE agent_id = ?", (agent.id,))
        await tx.executemany(
            "INSERT INTO agent_contexts (agent_id, context_id, position) VALUES (?, ?, ?)",
            [(agent.id, context_id, position) for position, context_id in enumerate(agent.context_ids)],
        )

    async def create(self, account: str, fields: AgentFields) -> Agent:
        return (await self.create_many(account, [fields]))[0]

    async def create_many(
        self,
        account: str,
        batch: list[AgentFields],
        contexts: Sequence[Context] = (),
        avatars: Sequence[Avatar | None] = (),
    ) -> list[Agent]:
        """Create all the agents (and new `contexts` they may use, and their pictures: `avatars[i]` is the
        i-th agent's, if any) in one transaction: all of them or none."""
        now = self._db.now()
        pictures = [*avatars, *[None] * (len(batch) - len(avatars))]
        agents = [
            Agent(
                **field_values(fields),
                id=new_id("agt", now),
                account=account,
                created_at=now,
                updated_at=now,
                has_avatar=picture is not None,
            )
            for fields, picture in zip(batch, pictures, strict=True)
        ]
        async with self._db.transaction() as tx:
            await tx.executemany(INSERT_CONTEXT, [context_row(context) for context in contexts])
            for agent in agents:
                await tx.execute(
                    f"INSERT INTO agents ({', '.join(INSERT_COLUMNS)}) VALUES ({', '.join('?' * len(INSERT_COLUMNS))})",
                    (*_row(agent), None if agent.card_extras is None else text_rule.dumps(agent.card_extras)),
                )
                await self._link(tx, agent)
            for agent, picture in zip(agents, pictures, strict=True):
                if picture is not None:
                    await put_avatar(tx, agent.id, picture, now)
        return agents

    async def get(self, account: str, agent_id: str) -> Agent:
        row = await self._db.one(f"{_SELECT} WHERE account = ? AND id = ?", (account, agent_id))
        if row is None:
            raise _not_found(agent_id)
        return (await self._agents([row]))[0]

    async def list(self, account: str, listing: Listing) -> Page[Agent]:
        """A page of the account's agents whose name contains `listing.q`, in creation order."""
        found = await select_page(
            self._db,
            "agents",
            f"{', '.join(COLUMNS)}, {_HAS_AVATAR}",
            "account = ?",
            (account,),
            listing,
            lambda row: row,
        )
        return Page(await self._agents(found.items), found.next_cursor, found.total)

    async def every(self, account: str) -> builtins.list[Agent]:
        """All the account's agents, oldest first, read a page at a time."""
        found = await self.list(account, Listing(200))
        agents = found.items
        while found.next_cursor:
            found = await self.list(account, Listing(200, found.next_cursor))
            agents += found.items
        return agents

    async def update(self, account: str, agent_id: str, changes: dict[str, Any]) -> Agent:
        """Apply `changes` (AgentFields names to new values) to an agent and return the result; none writes nothing."""
        if not changes:
            return await self.get(account, agent_id)
        async with self._db.transaction() as tx:
            await tx.lock(f"agent:{agent_id}")  # the agent as it is now: a concurrent PATCH's fields are kept
            found = await self._agents(
                await tx.fetch(f"{_SELECT} WHERE account = ? AND id = ?", (account, agent_id)), tx.fetch
            )
            if not found:
                raise _not_found(agent_id)
            agent = dataclasses.replace(found[0], **changes, updated_at=self._db.now())
            await tx.execute(
                f"UPDATE agents SET {', '.join(f'{column} = ?' for column in COLUMNS)} WHERE id = ?",
                (*_row(agent), agent.id),
            )
            if "context_ids" in changes:
                await self._link(tx, agent)
        return agent

    async def with_card_extras(self, agent: Agent) -> Agent:
        """The agent with the extras its imported card had (agents read for replies leave them out)."""
        row = await self._db.one("SELECT card_extras FROM agents WHERE id = ?", (agent.id,))
        extras = None if row is None or row["card_extras"] is None else json.loads(row["card_extras"])
        return dataclasses.replace(agent, card_extras=extras)

    async def named(self, account: str, name: str) -> Sequence[Agent]:
        """The account's agents called exactly `name` (at most two: enough to tell unique from ambiguous)."""
        rows = await self._db.read(f"{_SELECT} WHERE account = ? AND name = ? ORDER BY seq LIMIT 2", (account, name))
        return await self._agents(rows)

    async def delete(self, account: str, agent_id: str) -> None:
        async with self._db.transaction() as tx:
            deleted = await tx.execute("DELETE FROM agents WHERE account = ? AND id = ?", (account, agent_id))
            if deleted:  # presence is the agent's metadata: it goes with it
                await tx.execute("DELETE FROM presence WHERE agent_id = ?", (agent_id,))
        if not deleted:
            raise _not_found(agent_id)
