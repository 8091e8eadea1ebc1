"""Group storage on both engines: members in order, PATCH, delete, and agents leaving their groups."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from novaro_lite.domain.agents import AgentFields
from novaro_lite.domain.groups import GroupFields, Member
from novaro_lite.errors import NotFoundError
from novaro_lite.storage.paging import Listing
from novaro_lite.storage.store import Storage

pytestmark = pytest.mark.anyio


async def test_groups_keep_members_in_order_and_belong_to_their_account(target: Path | str):
    async with Storage.open(target, time.time) as storage:
        lena, marco = [await storage.agents.create("acme", AgentFields(name=name)) for name in ("Lena", "Marco")]
        members = (Member(marco.id, 80), Member(lena.id, 10))
        group = await storage.groups.create("acme", GroupFields("Flatmates", members, "list", 3))
        assert await storage.groups.get("acme", group.id) == group
        assert (await storage.groups.list("acme", Listing(10))).items == [group]
        assert (await storage.groups.list("other", Listing(10))).items == []
        with pytest.raises(NotFoundError):
            await storage.groups.get("other", group.id)
        assert await storage.groups.unknown_agents("acme", [lena.id, "agt_x"]) == ["agt_x"]
        assert await storage.groups.unknown_agents("other", [lena.id]) == [lena.id]


async def test_a_group_patch_changes_only_given_fields_and_replaces_members(target: Path | str):
    async with Storage.open(target, time.time) as storage:
        lena, marco, june = [await storage.agents.create("acme", AgentFields(name=n)) for n in ("L", "M", "J")]
        group = await storage.groups.create("acme", GroupFields("Flat", (Member(lena.id), Member(marco.id))))
        renamed = await storage.groups.update("acme", group.id, {"name": "Flatmates"})
        assert (renamed.name, renamed.members, renamed.strategy) == ("Flatmates", group.members, "natural")
        reseated = await storage.groups.update("acme", group.id, {"members": (Member(june.id, 5), Member(lena.id))})
        assert (
            (await storage.groups.get("acme", group.id)).members
            == reseated.members
            == (
                Member(june.id, 5),
                Member(lena.id),
            )
        )
        with pytest.raises(NotFoundError):
            await storage.groups.update("other", group.id, {"name": "x"})


async def test_deleting_an_agent_removes_it_from_its_groups_and_deleting_a_group_keeps_agents(target: Path | str):
    async with Storage.open(target, time.time) as storage:
        lena, marco = [await storage.agents.create("acme", AgentFields(name=name)) for name in ("Lena", "Marco")]
        group = await storage.groups.create("acme", GroupFields("Flat", (Member(lena.id), Member(marco.id))))
        await storage.agents.delete("acme", marco.id)
        left = await storage.groups.get("acme", group.id)
        assert left.members == (Member(lena.id),) and left.notice() is not None
        await storage.groups.delete("acme", group.id)
        with pytest.raises(NotFoundError):
            await storage.groups.delete("acme", group.id)
        assert (await storage.agents.get("acme", lena.id)).name == "Lena"
