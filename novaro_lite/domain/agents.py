"""Agents: the persona dataclasses and the rules every agent must satisfy, whoever creates it."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from functools import cache, lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

NAME_MAX = 100
PERSONA_MAX = 20_000
LOCATION_MAX = 200
MODEL_MAX = 200
MAX_BANDS = 12
MAX_BAND_SECONDS = 7 * 86400  # the published table ends at 24 h; a week is as slow as a reply may be drawn
CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"  # ASCII digits only: \d matches any script's digits
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
MODEL_PATTERN = r"^[A-Za-z0-9_.-]+(/\S+)?$"  # a provider name from the config, then optionally /model-id
MAX_BUBBLES = 10
MAX_CONTEXTS = 1000  # contexts an agent knows: a card's whole lorebook (SillyTavern's books run to hundreds)
# Character fields (the ones Character Cards carry; see domain/cards.py). Every one is bounded.
TEXT_MAX = 20_000  # greeting, example messages, system prompt, post-history instructions, creator notes
SHORT_MAX = 200  # creator, character version, nickname, one tag
NOTES_MAX = 200_000  # creator notes: for people, never in the prompt; cards often carry long ones
MAX_GREETINGS = 50
MAX_TAGS = 100
MIN_TYPING_WPM, MAX_TYPING_WPM = 5, 300
MIN_SESSION_MINUTES, MAX_SESSION_MINUTES = 0.1, 24 * 60
LATEST_TIMESTAMP = 253_402_128_000  # 9999-12-30T00:00Z: still a valid date in every time zone (UTC+14 too)


@dataclasses.dataclass(frozen=True)
class ActiveHours:
    """Daily waking hours in the agent's local time; `end` before `start` crosses midnight."""

    start: str = "08:00"
    end: str = "23:00"


@dataclasses.dataclass(frozen=True)
class ResponseBand:
    """One band of the response-time table: replies up to `up_to_seconds` with this probability."""

    up_to_seconds: int
    probability: float


@dataclasses.dataclass(frozen=True)
class Presence:
    """After a delivered reply the agent stays online in that conversation for an exponential session."""

    enabled: bool = True
    mean_session_minutes: float = 10.0


@dataclasses.dataclass(frozen=True)
class AgentFields:
    """What a client may set on an agent."""

    name: str
    persona: str = ""
    location: str | None = None
    timezone: str = "UTC"
    language: str = "en"
    active_hours: ActiveHours = ActiveHours()
    response_times: tuple[ResponseBand, ...] | None = None
    model: str | None = None
    max_bubbles: int = 3
    context_ids: tuple[str, ...] = ()
    # Character fields: what the persona prompt adds (domain/persona.py) and what a card keeps.
    greeting: str = ""
    alternate_greetings: tuple[str, ...] = ()
    example_messages: str = ""
    system_prompt: str = ""
    post_history_instructions: str = ""
    nickname: str | None = None
    tags: tuple[str, ...] = ()
    creator: str = ""
    creator_notes: str = ""
    character_version: str = ""
    # What an imported card held beyond these fields (unknown fields, extensions, inert lorebook entries),
    # so that exporting it loses nothing. JSON-compatible; set only by a card import, and read from storage
    # only for an export (AgentStore.with_card_extras): None on an agent read to answer a chat.
    card_extras: dict[str, Any] | None = None
    presence: Presence = Presence()
    online_response_times: tuple[ResponseBand, ...] | None = None  # None: conversations.ONLINE_RESPONSE_TIMES
    typing_speed_wpm: int | None = 40  # None: a reply is delivered at its due time, not typed


@dataclasses.dataclass(frozen=True, kw_only=True)
class Agent(AgentFields):
    id: str
    account: str
    created_at: int
    updated_at: int
    has_avatar: bool = False  # whether it has a picture (the picture itself is read only to be served)


def field_values(fields: AgentFields) -> dict[str, Any]:
    """Return the client-settable fields of an agent (or of AgentFields) by name, unconverted."""
    return {field.name: getattr(fields, field.name) for field in dataclasses.fields(AgentFields)}


@lru_cache(maxsize=1)
def available_timezones() -> frozenset[str]:
    """The IANA zone names of the tzdata package: the same list on every machine, whatever the host has.

    "Factory" is a placeholder zone, not a place; host-only names such as "localtime" are not in the list.
    """
    names = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return frozenset(names) - {"Factory"}


@cache
def time_zone(name: str) -> ZoneInfo:
    """The time zone `name` as the tzdata package has it, the one list available_timezones() accepts from.

    zoneinfo reads the host's /usr/share/zoneinfo first, which may be older (a zone whose rules changed since
    is then an hour off on one machine and not on the next); a name the package lacks is read as zoneinfo would.
    """
    path = resources.files("tzdata") / "zoneinfo"
    for part in name.split("/"):  # one part at a time: a frozen build's resource paths join one at a time
        path = path / part
    try:
        with path.open("rb") as data:
            return ZoneInfo.from_file(data, key=name)
    except (OSError, ValueError):
        return ZoneInfo(name)


def check_timezone(name: str) -> str:
    """Return `name` if it is an IANA time zone name, else raise ValueError."""
    if name not in available_timezones():
        raise ValueError(f"{name!r} is not an IANA time zone name (for example 'Europe/Berlin')")
    return name


def check_response_times(bands: Sequence[ResponseBand]) -> tuple[ResponseBand, ...]:
    """Check bands ascend strictly, probabilities are positive and sum to 1; return them as a tuple."""
    if not 1 <= len(bands) <= MAX_BANDS:
        raise ValueError(f"give between 1 and {MAX_BANDS} bands")
    previous = 0
    for band in bands:
        if band.up_to_seconds <= previous:
            raise ValueError("upToSeconds must be positive and strictly ascending")
        if band.up_to_seconds > MAX_BAND_SECONDS:
            raise ValueError(f"upToSeconds may be at most {MAX_BAND_SECONDS} (7 days)")
        if not 0 < band.probability <= 1:
            raise ValueError("each probability must be greater than 0 and at most 1")
        previous = band.up_to_seconds
    total = math.fsum(band.probability for band in bands)
    if abs(total - 1) > 1e-6:
        raise ValueError(f"probabilities must sum to 1, not {total:g}")
    return tuple(bands)
