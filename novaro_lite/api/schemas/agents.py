"""Pydantic models: the wire format (camelCase) that validates requests and documents the API.

The same models feed /openapi.json, so what is validated is what is documented. Domain rules come
from novaro_lite.domain; these models only translate between JSON and domain dataclasses.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from novaro_lite.api.schemas.characters import CharacterCreate, CharacterOut, CharacterPatch
from novaro_lite.api.schemas.wire import PatchModel as PatchModel, WireModel as WireModel  # re-exported
from novaro_lite.domain import agents as rules
from novaro_lite.domain.agents import ActiveHours, Agent, AgentFields, Presence, ResponseBand
from novaro_lite.domain.messages import ChatMessage, Usage
from novaro_lite.domain.tokens import Token

# problems (documented here; built by novaro_lite.errors)


class FieldError(WireModel):
    loc: list[str | int] = Field(description="Where the bad value is: `body`, `query` or `path`, then the field path.")
    msg: str


class Problem(WireModel):
    """An RFC 9457 problem: every error the API returns has this shape."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


# auth and health


class TokenInfo(WireModel):
    id: str
    name: str
    account: str
    expires_at: int | None = Field(description="Unix seconds; null when the token does not expire.")

    @classmethod
    def of(cls, token: Token) -> TokenInfo:
        return cls(id=token.id, name=token.name, account=token.account, expires_at=token.expires_at)


class Health(WireModel):
    status: Literal["ok", "unavailable"]
    version: str
    database: Literal["ok", "unavailable"]


class Readiness(WireModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"] = Field(description="Whether a write transaction commits.")
    scheduler: Literal["running", "stopped", "disabled"] = Field(
        description="The delivery scheduler; `disabled` when [scheduler] enabled = false, which is still ready."
    )


# agents

Name = Annotated[str, Field(min_length=1, max_length=rules.NAME_MAX)]
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
    Field(max_length=20, description="Contexts (by id) the agent knows in every conversation, in this order."),
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
        description="Words a minute (±20% per reply) at which async replies are typed before delivery; "
        "null: delivered at the due time.",
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
            created_at=agent.created_at,
            updated_at=agent.updated_at,
            **CharacterOut.fields_of(agent),
        )


def _bands_out(bands: tuple[ResponseBand, ...] | None) -> list[ResponseBandModel] | None:
    if bands is None:
        return None
    return [ResponseBandModel(up_to_seconds=band.up_to_seconds, probability=band.probability) for band in bands]


class AgentPage(WireModel):
    data: list[AgentOut]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last page.")


class PageQuery(WireModel):
    model_config = ConfigDict(extra="ignore", strict=False)  # query values arrive as strings

    limit: int = Field(50, ge=1, le=200, description="Items per page.")
    cursor: str | None = Field(None, max_length=100, description="`nextCursor` from the previous page.")


# messages

CONTENT_MAX = 20_000


class MessageIn(WireModel):
    role: Literal["user", "assistant"]
    content: str = Field(min_length=1, max_length=CONTENT_MAX)
    created_at: int | None = Field(
        None, ge=0, le=rules.LATEST_TIMESTAMP, description="When it was sent, unix seconds; shown to the model."
    )

    def to_domain(self) -> ChatMessage:
        return ChatMessage(self.role, self.content, self.created_at)


class MessagesRequest(WireModel):
    agent_id: str = Field(min_length=1, max_length=100)
    messages: list[MessageIn] = Field(min_length=1, max_length=200, description="The conversation, oldest first.")
    context_ids: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=20)
    stream: bool = Field(False, description="Answer text/event-stream: delta, message, done (or error) events.")


class MessageOut(WireModel):
    role: Literal["user", "assistant"]
    content: str
    created_at: int

    @classmethod
    def of(cls, message: ChatMessage) -> MessageOut:
        return cls(role=message.role, content=message.content, created_at=message.created_at or 0)


class UsageOut(WireModel):
    provider: str
    model: str
    prompt_tokens: int
    completion_tokens: int

    @classmethod
    def of(cls, usage: Usage) -> UsageOut:
        return cls(
            provider=usage.provider,
            model=usage.model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
        )


class MessagesResponse(WireModel):
    id: str
    agent_id: str
    messages: list[MessageOut]
    usage: UsageOut


# batch generation


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
