"""Wire models of an agent's character fields: greeting, example messages, card metadata and the like.

Agent models in api/schemas/agents.py inherit these; domain/cards.py maps them to and from Character Cards.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from novaro_lite.api.schemas.wire import PatchModel, WireModel
from novaro_lite.domain import agents as rules
from novaro_lite.domain.agents import Agent

Text = Annotated[str, Field(max_length=rules.TEXT_MAX)]
Short = Annotated[str, Field(max_length=rules.SHORT_MAX)]
Nickname = Annotated[str, Field(min_length=1, max_length=rules.SHORT_MAX)]
Greetings = Annotated[list[Text], Field(max_length=rules.MAX_GREETINGS)]
Tags = Annotated[list[Short], Field(max_length=rules.MAX_TAGS)]
Notes = Annotated[str, Field(max_length=rules.NOTES_MAX)]

CHARACTER_FIELDS = (
    "greeting",
    "alternate_greetings",
    "example_messages",
    "system_prompt",
    "post_history_instructions",
    "nickname",
    "tags",
    "creator",
    "creator_notes",
    "character_version",
)


class CharacterCreate(WireModel):
    greeting: Text = Field("", description="The agent's first message in a new chat; the prompt uses it for tone.")
    alternate_greetings: Greetings = Field([], description="Other first messages a client may offer.")
    example_messages: Text = Field("", description="Example chats showing how the agent writes (card mes_example).")
    system_prompt: Text = Field(
        "", description="Put before the built-in prompt, or around it where it says {{original}}."
    )
    post_history_instructions: Text = Field("", description="Put at the very end of the system prompt.")
    nickname: Nickname | None = Field(None, description="What people call the agent; replaces {{char}} in texts.")
    tags: Tags = []
    creator: Short = ""
    creator_notes: Notes = Field("", description="Notes for people, never shown to the model.")
    character_version: Short = ""


class CharacterPatch(PatchModel):
    CLEARABLE = frozenset({"nickname"})

    greeting: Text | SkipJsonSchema[None] = None
    alternate_greetings: Greetings | SkipJsonSchema[None] = None
    example_messages: Text | SkipJsonSchema[None] = None
    system_prompt: Text | SkipJsonSchema[None] = None
    post_history_instructions: Text | SkipJsonSchema[None] = None
    nickname: Nickname | None = None
    tags: Tags | SkipJsonSchema[None] = None
    creator: Short | SkipJsonSchema[None] = None
    creator_notes: Notes | SkipJsonSchema[None] = None
    character_version: Short | SkipJsonSchema[None] = None


class CharacterOut(WireModel):
    greeting: str
    alternate_greetings: list[str]
    example_messages: str
    system_prompt: str
    post_history_instructions: str
    nickname: str | None
    tags: list[str]
    creator: str
    creator_notes: str
    character_version: str

    @staticmethod
    def fields_of(agent: Agent) -> dict[str, Any]:
        values = {name: getattr(agent, name) for name in CHARACTER_FIELDS}
        return {name: list(value) if isinstance(value, tuple) else value for name, value in values.items()}
