"""Real Character Cards from a local collection: each imports and exports as strict JSON.

Not part of the suite (the file name keeps pytest from collecting it): the cards themselves are never part of
the repository, since their licences do not allow it. Run it on a folder of cards (*.json, *.png, *.charx,
searched recursively) with `NOVARO_REAL_CARDS=DIR pytest tests/api/real_cards.py`. The committed tests build
synthetic cards with the same quirks (tests/fakes/cards.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from novaro_lite.domain.png import without_text

pytestmark = pytest.mark.anyio
COLLECTION = os.environ.get("NOVARO_REAL_CARDS")
if not COLLECTION:
    pytest.exit("set NOVARO_REAL_CARDS to a folder of Character Cards to run tests/api/real_cards.py", returncode=4)
CARDS = sorted(path for path in Path(COLLECTION).rglob("*") if path.suffix.lower() in {".json", ".png", ".charx"})


@pytest.mark.parametrize("path", CARDS, ids=[path.name for path in CARDS])
async def test_a_real_card_imports_and_exports(client: httpx.AsyncClient, auth: dict[str, str], path: Path) -> None:
    response = await client.post("/api/v1/agents/import", content=path.read_bytes(), headers=auth)
    assert response.status_code == 201, response.text[:600]
    agent = response.json()
    for query in ("", "?spec=v2"):
        exported = await client.get(f"/api/v1/agents/{agent['id']}/card{query}", headers=auth)
        assert exported.status_code == 200, exported.text[:600]
        json.loads(exported.content, parse_constant=lambda name: pytest.fail(f"{name} in the export"))
    exported = await client.get(f"/api/v1/agents/{agent['id']}/card?format=png", headers=auth)
    if path.suffix.lower() == ".png":  # the face comes back: the export is the card's own picture
        assert without_text(exported.content) == without_text(path.read_bytes())
        avatar = await client.get(f"/api/v1/agents/{agent['id']}/avatar", headers=auth)
        assert avatar.content == without_text(path.read_bytes())
