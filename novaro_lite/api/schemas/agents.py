"""Wire models of /api/v1/agents: the persona's fields, their limits, and how they map to the domain."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic.json_schema import SkipJsonSchema

from novaro_lite.api.schemas.characters import CharacterCreate, CharacterOut, CharacterPatch
from novaro_lite.api.schemas.paging import PageOut
from novaro_lite.api.schemas.wire import Name, WireModel
from novaro_lite.domain import agents as rules
from novaro_lite.domain.agents import ActiveHours, Agent, AgentFields, Presence, ResponseBand

Persona = Annotated[str, Field(max_length=rules.PERSONA_MAX)]
Location = Annotated[str, Field(max_length=rules.LOCATION_MAX)]
TimeZone = Annotated[
    str,
    Field(json_schema_extra={"enum": sorted(rules.available_timezones())}, examples=["Europe/Berlin"]),
    AfterValidator(rules.check_timezone),
]
Language = Annotated[str, Field(pattern=rules.LANGUAGE_PATTERN, max_length=35, examples=["en", "pt-BR"])]
ModelName = Annotated[
    str, Field(pattern=rules.MODEL_PATTERN, max_length=rules.MODEL_MAX, examples=["openai/gpt-4o-mini"])
]
ContextIds = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=100)]],
    Field(
        max_length=rules.MAX_CONTEXTS,
        description="Contexts (by id) the agent knows in every conversation, in this order.",
    ),
]
MaxBubbles = Annotated[int, Field(ge=1, le=rules.MAX_BUBBLES, description="Most chat bubbles in one reply.")]
ClockTime = Annotated[str, Field(pattern=rules.CLOCK_PATTERN, examples=["08:00"])]


class ActiveHoursModel(WireModel):
    """Daily waking hours, local time. `end` before `start` crosses midnight; equal means never asleep."""

    start: ClockTime = "08:00"
    end: ClockTime = "23:00"


class ResponseBandModel(WireModel):
    up_to_seconds: int = Field(
        gt=0, le=rules.MAX_BAND_SECONDS, description="Upper edge of the band in seconds (at most 7 days); bands ascend."
    )
    probability: float = Field(gt=0, le=1)


def _check_bands(bands: list[ResponseBandModel]) -> list[ResponseBandModel]:
    rules.check_response_times([ResponseBand(band.up_to_seconds, band.probability) for band in bands])
    return bands


ResponseTimes = Annotated[
    list[ResponseBandModel],
    Field(min_length=1, max_length=rules.MAX_BANDS, description="Bands ascending; probabilities sum to 1."),
    AfterValidator(_check_bands),
]


class PresenceModel(WireModel):
    """After a reply in a conversation the agent stays online there for an exponential session with this mean;
    a message meanwhile gets `onlineResponseTimes`. Disabled: every message gets the response-time table."""

    enabled: bool = True
    mean_session_minutes: float = Field(10.0, ge=rules.MIN_SESSION_MINUTES, le=rules.MAX_SESSION_MINUTES)


TypingSpeed = Annotated[
    int,
    Field(
        ge=rules.MIN_TYPING_WPM,
        le=rules.MAX_TYPING_WPM,
        description="Words a minute (±20% per reply) at which async replies are typed before delivery (a word"
        " is five characters; a Chinese, Japanese or Korean character counts as three); null: delivered at the"
        " due time.",
    ),
]
OnlineResponseTimes = Annotated[
    list[ResponseBandModel],
    Field(
        min_length=1,
        max_length=rules.MAX_BANDS,
        description="Delays inside a conversation session; null: 60% under 30 s, 30% under 2 min, 10% under 5 min.",
    ),
    AfterValidator(_check_bands),
]


def _domain_value(name: str, value: Any) -> Any:
    if isinstance(value, ActiveHoursModel):
        return ActiveHours(value.start, value.end)
    if isinstance(value, PresenceModel):
        return Presence(value.enabled, value.mean_session_minutes)
    if name in ("response_times", "online_response_times") and value is not None:
        return tuple(ResponseBand(band.up_to_seconds, band.probability) for band in value)
    if name == "context_ids":
        return tuple(dict.fromkeys(value))  # each context once, in the order given
    if isinstance(value, list):
        return tuple(value)  # domain dataclasses are frozen: lists become tuples
    return value


class AgentCreate(CharacterCreate):
    name: Name
    persona: Persona = ""
    location: Location | None = None
    timezone: TimeZone = "UTC"
    language: Language = "en"
    active_hours: ActiveHoursModel = ActiveHoursModel()
    response_times: ResponseTimes | None = None
    model: ModelName | None = None
    max_bubbles: MaxBubbles = 3
    context_ids: ContextIds = []
    presence: PresenceModel = PresenceModel()
    online_response_times: OnlineResponseTimes | None = None
    typing_speed_wpm: TypingSpeed | None = 40

    def to_fields(self) -> AgentFields:
        return AgentFields(**{name: _domain_value(name, getattr(self, name)) for name in type(self).model_fields})


class AgentPatch(CharacterPatch):
    """Only the fields present change; `null` clears `location`, `responseTimes`, `model`, `nickname`,
    `onlineResponseTimes` (the default online table) and `typingSpeedWpm` (no typing time)."""

    CLEARABLE = frozenset(
        {"location", "response_times", "model", "nickname", "online_response_times", "typing_speed_wpm"}
    )

    name: Name | SkipJsonSchema[None] = None
    persona: Persona | SkipJsonSchema[None] = None
    location: Location | None = None
    timezone: TimeZone | SkipJsonSchema[None] = None
    language: Language | SkipJsonSchema[None] = None
    active_hours: ActiveHoursModel | SkipJsonSchema[None] = None
    response_times: ResponseTimes | None = None
    model: ModelName | None = None
    max_bubbles: MaxBubbles | SkipJsonSchema[None] = None
    context_ids: ContextIds | SkipJsonSchema[None] = None
    presence: PresenceModel | SkipJsonSchema[None] = None
    online_response_times: OnlineResponseTimes | None = None
    typing_speed_wpm: TypingSpeed | None = None

    def changes(self) -> dict[str, Any]:
        return {name: _domain_value(name, value) for name, value in super().changes().items()}


class AgentOut(CharacterOut):
    id: str
    name: str
    persona: str
    location: str | None
    timezone: str
    language: str
    active_hours: ActiveHoursModel
    response_times: list[ResponseBandModel] | None
    model: str | None
    max_bubbles: int
    context_ids: list[str]
    presence: PresenceModel
    online_response_times: list[ResponseBandModel] | None
    typing_speed_wpm: int | None
    has_avatar: bool = Field(description="Whether it has a picture, at /api/v1/agents/{id}/avatar.")
    created_at: int
    updated_at: int

    @classmethod
    def of(cls, agent: Agent) -> AgentOut:
        bands = agent.response_times
        return cls(
            id=agent.id,
            name=agent.name,
            persona=agent.persona,
            location=agent.location,
            timezone=agent.timezone,
            language=agent.language,
            active_hours=ActiveHoursModel(start=agent.active_hours.start, end=agent.active_hours.end),
            response_times=_bands_out(bands),
            model=agent.model,
            max_bubbles=agent.max_bubbles,
            context_ids=list(agent.context_ids),
            presence=PresenceModel(
                enabled=agent.presence.enabled, mean_session_minutes=agent.presence.mean_session_minutes
            ),
            online_response_times=_bands_out(agent.online_response_times),
            typing_speed_wpm=agent.typing_speed_wpm,
            has_avatar=agent.has_avatar,
            created_at=agent.created_at,
            updated_at=agent.updated_at,
            **CharacterOut.fields_of(agent),
        )


def _bands_out(bands: tuple[ResponseBand, ...] | None) -> list[ResponseBandModel] | None:
    if bands is None:
        return None
    return [ResponseBandModel(up_to_seconds=band.up_to_seconds, probability=band.probability) for band in bands]


class AgentPage(PageOut):
    data: list[AgentOut]
