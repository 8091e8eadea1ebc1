"""Wire models of /api/v1/agents/generate: a batch of agents written by the model."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from novaro_lite.api.schemas.agents import (
    ActiveHoursModel,
    AgentOut,
    ContextIds,
    Language,
    Location,
    MaxBubbles,
    ModelName,
    OnlineResponseTimes,
    Persona,
    PresenceModel,
    ResponseTimes,
    TimeZone,
    TypingSpeed,
)
from novaro_lite.api.schemas.wire import WireModel


class AgentDefaults(WireModel):
    """Fields decided for every generated agent (they override what the model writes)."""

    persona: Persona | None = None
    location: Location | None = None
    timezone: TimeZone | None = None
    language: Language | None = None
    active_hours: ActiveHoursModel | None = None
    response_times: ResponseTimes | None = None
    model: ModelName | None = None
    max_bubbles: MaxBubbles | None = None
    context_ids: ContextIds | None = None
    presence: PresenceModel | None = None
    online_response_times: OnlineResponseTimes | None = None
    typing_speed_wpm: TypingSpeed | None = None


class GenerateAgents(WireModel):
    count: int = Field(ge=1, le=50, description="How many agents to create (all or none).")
    description: str = Field(min_length=1, max_length=4000, description="What kind of people to create.")
    data: Any = Field(None, description="Your own material the personas should reflect: text or JSON.")
    defaults: AgentDefaults = AgentDefaults()
    model: ModelName | None = Field(None, description="The model that writes them (default: the server's).")


class GeneratedAgents(WireModel):
    agents: list[AgentOut]
