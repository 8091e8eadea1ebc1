"""Wire models of /api/v1/groups."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, JsonValue, field_validator
from pydantic.json_schema import SkipJsonSchema

from novaro_lite.api.schemas.paging import PageOut
from novaro_lite.api.schemas.wire import PatchModel, WireModel
from novaro_lite.domain import groups as rules
from novaro_lite.domain.groups import Group, Member, Strategy

GroupName = Annotated[str, Field(min_length=1, max_length=rules.NAME_MAX, examples=["Flatmates"])]
MaxAgentTurns = Annotated[
    int,
    Field(
        ge=1,
        le=rules.MAX_AGENT_TURNS,
        description="How many agent messages one user message may lead to, agents answering each other included.",
    ),
]
STRATEGY_HELP = (
    "natural: agents named in the last message first, then by talkativeness, then a seeded draw, nobody twice in"
    " a row; list: in member order; manual: the caller names who answers (`speakers`)."
)
EXAMPLE: dict[str, JsonValue] = {
    "name": "Flatmates",
    "members": [
        {"agentId": "agt_01jqz8w1m3k5d7f9h1k3m5p7r9", "talkativeness": 80},
        {"agentId": "agt_01jqz8w4t6v8x0z2b4d6f8h0k2"},
    ],
    "strategy": "natural",
    "maxAgentTurns": 2,
}


class MemberIn(WireModel):
    agent_id: str = Field(min_length=1, max_length=100)
    talkativeness: int = Field(
        rules.DEFAULT_TALKATIVENESS, ge=0, le=100, description="How eagerly it speaks when nobody named it (0: never)."
    )

    def to_domain(self) -> Member:
        return Member(self.agent_id, self.talkativeness)


Members = Annotated[list[MemberIn], Field(min_length=rules.MIN_MEMBERS, max_length=rules.MAX_MEMBERS)]


def _distinct(members: list[MemberIn] | None) -> list[MemberIn] | None:
    ids = [member.agent_id for member in members or ()]
    if len(set(ids)) != len(ids):
        raise ValueError("each agent may be a member once")
    return members


class GroupCreate(WireModel):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    name: GroupName
    members: Members = Field(description=f"{rules.MIN_MEMBERS} to {rules.MAX_MEMBERS} agents of your account.")
    strategy: Strategy = Field("natural", description=STRATEGY_HELP)
    max_agent_turns: MaxAgentTurns = rules.DEFAULT_MAX_AGENT_TURNS

    check_members = field_validator("members")(_distinct)

    def fields(self) -> rules.GroupFields:
        members = tuple(member.to_domain() for member in self.members)
        return rules.GroupFields(self.name, members, self.strategy, self.max_agent_turns)


class GroupPatch(PatchModel):
    """Only the fields present change; `members` replaces the whole list."""

    name: GroupName | SkipJsonSchema[None] = None
    members: Members | SkipJsonSchema[None] = None
    strategy: Strategy | SkipJsonSchema[None] = None
    max_agent_turns: MaxAgentTurns | SkipJsonSchema[None] = None

    check_members = field_validator("members")(_distinct)

    def changes(self) -> dict[str, Any]:
        changes = super().changes()
        if self.members is not None:
            changes["members"] = tuple(member.to_domain() for member in self.members)
        return changes


class MemberOut(WireModel):
    agent_id: str
    talkativeness: int


class GroupOut(WireModel):
    id: str
    name: str
    members: list[MemberOut]
    strategy: Strategy
    max_agent_turns: int
    notice: str | None = Field(description="Set when members were deleted: fewer than two are left.")
    created_at: int
    updated_at: int

    @classmethod
    def of(cls, group: Group) -> GroupOut:
        return cls(
            id=group.id,
            name=group.name,
            members=[MemberOut(agent_id=m.agent_id, talkativeness=m.talkativeness) for m in group.members],
            strategy=group.strategy,
            max_agent_turns=group.max_agent_turns,
            notice=group.notice(),
            created_at=group.created_at,
            updated_at=group.updated_at,
        )


class GroupPage(PageOut):
    data: list[GroupOut]
