"""Wire models of Character Card import and export (documentation and the export query)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from novaro_lite.api.schemas.wire import WireModel
from novaro_lite.domain.cards import SPEC_V2, SPEC_V3


class Card(BaseModel):
    """A Character Card V2 or V3 (snake_case, as the specs write it); fields beyond these are kept as they are."""

    model_config = ConfigDict(extra="allow", title="CharacterCard")

    spec: Literal["chara_card_v2", "chara_card_v3"] = Field(examples=[SPEC_V3, SPEC_V2])
    spec_version: str = Field(examples=["3.0", "2.0"])
    data: dict[str, Any] = Field(
        description="name, description, personality, scenario, first_mes, mes_example, alternate_greetings, "
        "system_prompt, post_history_instructions, tags, creator, creator_notes, character_version, nickname, "
        "character_book, extensions, …"
    )


class CardQuery(WireModel):
    model_config = ConfigDict(extra="ignore", strict=False)  # query values arrive as strings

    format: Literal["json", "png"] = Field("json", description="`png`: an image carrying the card in tEXt chunks.")
    spec: Literal["v3", "v2"] = Field("v3", description="The card version of a JSON export (a PNG carries both).")


class CardContext(WireModel):
    name: str
    keys: list[str] = Field(description="Empty: always in the prompt.")


class CardPreview(WireModel):
    """What importing the card would create, without creating it."""

    spec: str | None = Field(description="chara_card_v2 or chara_card_v3; null for a V1 card.")
    name: str
    persona: str = Field(description="description, personality and scenario, as the agent's persona.")
    greeting: str
    creator: str
    tags: list[str]
    contexts: list[CardContext] = Field(description="The contexts its lorebook becomes, in prompt order.")
    unused_entries: int = Field(
        description="Lorebook entries kept with the agent (and exported) that never enter a prompt: disabled, "
        "without content, or with no key that can match as written."
    )
    has_picture: bool = Field(description="Whether the agent gets the card's picture (a PNG card, a CHARX icon).")
