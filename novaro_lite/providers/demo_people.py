"""The demo model's personas: varied, valid and deterministic, built from the request alone (offline)."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

# (city, country, IANA zone, language)
PLACES = (
    ("Lisbon", "Portugal", "Europe/Lisbon", "pt-PT"),
    ("Berlin", "Germany", "Europe/Berlin", "de"),
    ("Madrid", "Spain", "Europe/Madrid", "es"),
    ("Lyon", "France", "Europe/Paris", "fr"),
    ("Milan", "Italy", "Europe/Rome", "it"),
    ("Utrecht", "Netherlands", "Europe/Amsterdam", "nl"),
    ("Krakow", "Poland", "Europe/Warsaw", "pl"),
    ("Stockholm", "Sweden", "Europe/Stockholm", "sv"),
    ("Dublin", "Ireland", "Europe/Dublin", "en"),
    ("Manchester", "United Kingdom", "Europe/London", "en"),
    ("Toronto", "Canada", "America/Toronto", "en"),
    ("Chicago", "United States", "America/Chicago", "en"),
    ("Austin", "United States", "America/Chicago", "en"),
    ("Denver", "United States", "America/Denver", "en"),
    ("Seattle", "United States", "America/Los_Angeles", "en"),
    ("Mexico City", "Mexico", "America/Mexico_City", "es"),
    ("São Paulo", "Brazil", "America/Sao_Paulo", "pt-BR"),
    ("Buenos Aires", "Argentina", "America/Argentina/Buenos_Aires", "es"),
    ("Cape Town", "South Africa", "Africa/Johannesburg", "en"),
    ("Nairobi", "Kenya", "Africa/Nairobi", "en"),
    ("Istanbul", "Turkey", "Europe/Istanbul", "tr"),
    ("Mumbai", "India", "Asia/Kolkata", "en"),
    ("Singapore", "Singapore", "Asia/Singapore", "en"),
    ("Tokyo", "Japan", "Asia/Tokyo", "ja"),
    ("Seoul", "South Korea", "Asia/Seoul", "ko"),
    ("Sydney", "Australia", "Australia/Sydney", "en"),
    ("Auckland", "New Zealand", "Pacific/Auckland", "en"),
)
FIRST_NAMES = (
    "Ana",
    "Ben",
    "Chloé",
    "Dara",
    "Elif",
    "Femi",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kavya",
    "Leo",
    "Mia",
    "Nora",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Vera",
    "Wen",
    "Ximena",
    "Yuki",
    "Zoe",
    "Aiko",
    "Bruno",
    "Carmen",
    "Dmitri",
    "Esme",
    "Felix",
    "Gael",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lina",
    "Mateo",
    "Nia",
    "Oskar",
    "Paula",
    "Rafa",
    "Sofia",
    "Tomás",
    "Valeria",
    "Wiktor",
    "Yara",
)
SURNAME_INITIALS = "ABCDEFGHIJKLMNOPRSTVWZ"
OCCUPATIONS = (
    "a nurse on rotating shifts",
    "a secondary-school teacher",
    "a freelance graphic designer",
    "a baker",
    "a software tester",
    "a bike courier",
    "a retired engineer",
    "a university student",
    "a barista",
    "a small-shop owner",
    "a physiotherapist",
    "a sound technician",
    "a gardener",
    "an accountant",
)
TRAITS = (
    "warm and curious",
    "dry-humoured and direct",
    "upbeat and chatty",
    "thoughtful and a little shy",
    "practical and punctual",
    "playful, with lots of emoji",
    "calm and precise",
)
RHYTHMS = (("06:30", "22:00"), ("08:00", "23:00"), ("09:30", "01:00"), ("07:00", "23:30"))


def _data_items(data: Any) -> list[str]:
    """The requester's material as short items, one per line or list entry, to spread over the personas."""
    if data is None:
        return []
    if isinstance(data, list):
        return [json.dumps(item, ensure_ascii=False) if not isinstance(item, str) else item for item in data]
    if isinstance(data, dict):
        return [f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in data.items()]
    return [line.strip() for line in str(data).splitlines() if line.strip()]


def demo_agents(request: dict[str, Any]) -> str:
    """Answer a batch request (domain/agent_batches.py) with `count` personas as a JSON array."""
    seed = hashlib.sha256(json.dumps(request, sort_keys=True, ensure_ascii=False).encode()).digest()
    rng = random.Random(seed)
    items, taken = _data_items(request.get("data")), {name.casefold() for name in request.get("avoidNames", [])}
    description = str(request.get("description", "")).strip().rstrip(".")
    people = []
    for index in range(int(request.get("count", 1))):
        item = items[index % len(items)] if items else ""
        mentioned = [place for place in PLACES if place[0].casefold() in item.casefold()]
        city, country, zone, language = mentioned[0] if mentioned else rng.choice(PLACES)
        name = rng.choice(FIRST_NAMES) + " " + rng.choice(SURNAME_INITIALS) + "."
        while name.casefold() in taken:
            name = rng.choice(FIRST_NAMES) + " " + rng.choice(SURNAME_INITIALS) + "."
        taken.add(name.casefold())
        start, end = rng.choice(RHYTHMS)
        who = f"one of these people: {description}" if description else rng.choice(OCCUPATIONS)
        persona = f"You are {name.split()[0]}, {rng.choice(TRAITS)}, living in {city}. You are {who}."
        if item:
            persona += f" Your background, from the requester's data: {item[:300]}."
        people.append(
            {
                "name": name,
                "persona": persona,
                "location": f"{city}, {country}",
                "timezone": zone,
                "language": language,
                "activeHours": {"start": start, "end": end},
            }
        )
    return json.dumps(people, ensure_ascii=False)
