"""An agent's picture: kept from a PNG card or a CHARX, served with its type and ETag, replaced, removed, carried
by the PNG export, gone with the agent; CHARX bounds (zip bombs, encryption); on both engines."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import httpx
import pytest

from novaro_lite.config.settings import SchedulerSettings, Settings
from novaro_lite.domain.png import text_chunks, with_text, without_text
from tests.fakes.cards import card_png, charx, chunk, picture, risu_charx_card, v1_card, v3_card
from tests.problems import assert_problem

pytestmark = pytest.mark.anyio
FACE, OTHER = picture((10, 120, 200)), picture((250, 10, 10))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        scheduler=SchedulerSettings(enabled=False),
        avatar_max_bytes=64 * 1024,
    )


def png_card(image: bytes, card: object) -> bytes:
    """A PNG card: `image` with the card as a ccv3 chunk and a tool's own chunk beside it."""
    return with_text(image, [("risuai", "x" * 5000), ("ccv3", chunk(card))])


async def imported(client: httpx.AsyncClient, auth: dict[str, str], body: bytes) -> str:
    response = await client.post("/api/v1/agents/import", content=body, headers=auth)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_png_cards_picture_is_kept_served_and_carried_by_the_export(client, auth):
    response = await client.post("/api/v1/agents/import", content=png_card(FACE, v3_card()), headers=auth)
    agent = response.json()["id"]
    assert response.json()["hasAvatar"] is True
    assert (await client.get(f"/api/v1/agents/{agent}", headers=auth)).json()["hasAvatar"] is True
    response = await client.get(f"/api/v1/agents/{agent}/avatar", headers=auth)
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content == FACE  # the picture alone: the card's and the tool's text chunks left out
    assert response.headers["cache-control"] == "private, no-cache" and response.headers["etag"].startswith('"')
    etag = response.headers["etag"]
    for held, status in (
        (etag, 304),
        ("*", 304),
        (f'"other", W/{etag}', 304),
        ('"other"', 200),
        (etag[:-2] + '"', 200),
    ):
        again = await client.get(f"/api/v1/agents/{agent}/avatar", headers=auth | {"If-None-Match": held})
        assert again.status_code == status and (again.content == b"") == (status == 304), held
    exported = (await client.get(f"/api/v1/agents/{agent}/card?format=png", headers=auth)).content
    assert without_text(exported) == FACE and set(text_chunks(exported)) == {"chara", "ccv3"}


async def test_a_png_without_its_end_is_kept_whole_and_one_without_a_header_is_refused(client, auth):
    agent = await imported(client, auth, card_png([("chara", chunk(v1_card()))]))
    cut = FACE[: FACE.rindex(b"IEND") - 4]  # no IEND chunk: browsers show it; our export needs one
    assert (await client.put(f"/api/v1/agents/{agent}/avatar", content=cut, headers=auth)).status_code == 204
    exported = await client.get(f"/api/v1/agents/{agent}/card?format=png", headers=auth)
    assert exported.status_code == 200 and without_text(exported.content) == FACE
    for headless in (FACE[:8], FACE[:8] + b"\0\0\0\0IEND\xaeB`\x82"):
        refused = await client.put(f"/api/v1/agents/{agent}/avatar", content=headless, headers=auth)
        assert_problem(refused, 422, "IHDR")
    text = b"chara\0" + chunk(v1_card()).encode()
    card_alone = (
        FACE[:8] + struct.pack(">I", len(text)) + b"tEXt" + text + struct.pack(">I", zlib.crc32(b"tEXt" + text))
    )
    problem = assert_problem(await client.post("/api/v1/agents/import", content=card_alone, headers=auth), 422, "IHDR")
    assert problem["errors"][0]["loc"] == ["body"]


async def test_a_picture_is_replaced_and_removed_through_the_api(client, auth):
    agent = await imported(client, auth, card_png([("chara", chunk(v1_card()))]))
    for image, media_type in ((JPEG, "image/jpeg"), (WEBP, "image/webp"), (png_card(OTHER, v1_card()), "image/png")):
        response = await client.put(f"/api/v1/agents/{agent}/avatar", content=image, headers=auth)
        assert response.status_code == 204, response.text
        served = await client.get(f"/api/v1/agents/{agent}/avatar", headers=auth)
        assert served.headers["content-type"] == media_type and served.headers["etag"] == response.headers["etag"]
    assert served.content == OTHER  # a PNG put through the API loses its stale card chunks too
    assert (await client.delete(f"/api/v1/agents/{agent}/avatar", headers=auth)).status_code == 204
    assert (await client.get(f"/api/v1/agents/{agent}", headers=auth)).json()["hasAvatar"] is False
    assert_problem(await client.get(f"/api/v1/agents/{agent}/avatar", headers=auth), 404, "no picture")
    # Taking it away again changes nothing and says so the same way.
    assert (await client.delete(f"/api/v1/agents/{agent}/avatar", headers=auth)).status_code == 204
    exported = (await client.get(f"/api/v1/agents/{agent}/card?format=png", headers=auth)).content
    assert without_text(exported) != OTHER  # without a picture, the plain one


async def test_a_jpeg_picture_leaves_the_png_export_plain(client, auth):
    agent = await imported(client, auth, charx(v3_card(), {}))
    await client.put(f"/api/v1/agents/{agent}/avatar", content=JPEG, headers=auth)
    exported = await client.get(f"/api/v1/agents/{agent}/card?format=png", headers=auth)
    assert exported.status_code == 200 and set(text_chunks(exported.content)) == {"chara", "ccv3"}


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        (b"GIF89a" + b"\x00" * 40, 422, "PNG, JPEG or WebP"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, 422, "malformed"),
        (b"\xff\xd8\xff" + b"\x00" * 70_000, 413, "65536"),
    ],
)
async def test_a_bad_or_large_picture_is_refused(client, auth, body, status, detail):
    agent = await imported(client, auth, png_card(FACE, v3_card()))
    assert_problem(await client.put(f"/api/v1/agents/{agent}/avatar", content=body, headers=auth), status, detail)
    assert (await client.get(f"/api/v1/agents/{agent}/avatar", headers=auth)).content == FACE


async def test_pictures_belong_to_their_account_and_go_with_the_agent(client, auth, services):
    agent = await imported(client, auth, png_card(FACE, v3_card()))
    other = {"Authorization": f"Bearer {(await services.storage.tokens.create('o', 'someone-else', None))[1]}"}
    assert_problem(await client.get(f"/api/v1/agents/{agent}/avatar", headers=other), 404)
    assert_problem(await client.put(f"/api/v1/agents/{agent}/avatar", content=JPEG, headers=other), 404)
    assert_problem(await client.delete(f"/api/v1/agents/{agent}/avatar", headers=other), 404)
    assert (await client.delete(f"/api/v1/agents/{agent}", headers=auth)).status_code == 204
    assert await services.storage.database.all("SELECT agent_id FROM agent_avatars", ()) == []
    assert_problem(await client.get(f"/api/v1/agents/{agent}/avatar", headers=auth), 404, "no agent")


async def test_a_png_card_whose_picture_passes_the_limit_is_422(client, auth):
    card = png_card(FACE, v3_card())
    huge = card[:33] + _private_chunk(70_000) + card[33:]  # after IHDR: a large ancillary chunk, part of the picture
    problem = assert_problem(await client.post("/api/v1/agents/import", content=huge, headers=auth), 422, "65536")
    assert problem["errors"][0]["loc"] == ["body"]


def _private_chunk(size: int) -> bytes:
    body = b"\x00" * size
    return struct.pack(">I", size) + b"prVt" + body + struct.pack(">I", zlib.crc32(b"prVt" + body))


MAIN = "embeded://assets/icon/image/5.png"


@pytest.mark.parametrize("jpeg_prefix", [b"", JPEG], ids=["zip", "jpeg-then-zip"])
async def test_a_charx_imports_with_its_main_icon(client, auth, jpeg_prefix):
    card = risu_charx_card([("iconx", "embeded://assets/icon/image/1.png"), ("main", MAIN)])
    files = {"assets/icon/image/1.png": OTHER, "assets/icon/image/5.png": FACE, "assets/background/image/2.png": OTHER,
             "x_meta/1.json": b'{"type": "PNG"}'}  # fmt: skip
    agent = await imported(client, auth, charx(card, files, jpeg_prefix=jpeg_prefix))
    assert (await client.get(f"/api/v1/agents/{agent}/avatar", headers=auth)).content == FACE
    exported = (await client.get(f"/api/v1/agents/{agent}/card", headers=auth)).json()
    assert exported["data"]["assets"] == card["data"]["assets"]  # kept for the round trip


async def test_a_charx_without_main_takes_the_first_icon_it_holds_and_ccdefault_gives_none(client, auth):
    card = risu_charx_card([("a", "ccdefault:"), ("b", "embeded://missing.png"), ("c", "embeded://c.png")])
    agent = await imported(client, auth, charx(card, {"c.png": FACE}))
    assert (await client.get(f"/api/v1/agents/{agent}/avatar", headers=auth)).content == FACE
    agent = await imported(client, auth, charx(risu_charx_card([("main", "ccdefault:")]), {}))
    assert_problem(await client.get(f"/api/v1/agents/{agent}/avatar", headers=auth), 404, "no picture")


def _bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("card.json", b"{}")
        archive.writestr("assets/zeros.bin", b"\x00" * 20_000_000)  # 20 MB deflate to about 20 KB
    return buffer.getvalue()


def _many() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(1_001):
            archive.writestr(f"x/{n}", b"")
    return buffer.getvalue()


def _corrupt_deflate() -> bytes:
    raw = bytearray(charx(v3_card(), {}))
    name = raw.index(b"card.json")  # the local header's name, then the deflated data
    raw[name + len(b"card.json")] = 0x07  # a deflate block of the reserved type 3: zlib refuses it
    return bytes(raw)


def _bad_lzma() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_LZMA) as archive:
        archive.writestr("card.json", json.dumps(v3_card()))
    raw = bytearray(buffer.getvalue())
    properties = raw.index(b"card.json") + len(b"card.json") + 4  # after LZMA's version and size bytes
    raw[properties] = 0xFF  # properties no LZMA decoder accepts
    return bytes(raw)


def _from_the_future() -> bytes:
    raw = bytearray(charx(v3_card(), {}))
    raw[raw.index(b"PK\x01\x02") + 6] = 100  # "version needed to extract": 10.0, which zipfile cannot read
    return bytes(raw)


def _encrypted() -> bytes:
    raw = bytearray(charx(v3_card(), {}))
    for at in (0, raw.index(b"PK\x01\x02")):  # set the encrypted flag in the local and the central header
        flag = at + (6 if at == 0 else 8)
        raw[flag] |= 1
    return bytes(raw)


@pytest.mark.parametrize(
    ("body", "detail", "where"),
    [
        (_bomb(), "inflates more than 100 times", ["body"]),
        (_many(), "at most 1000", ["body"]),
        (_encrypted(), "encrypted", ["body"]),
        (_from_the_future(), "not a readable zip", ["body"]),
        (_corrupt_deflate(), "cannot be read from the CHARX", ["body", "card.json"]),
        (_bad_lzma(), "cannot be read from the CHARX", ["body", "card.json"]),
        (charx(v3_card(), {}).replace(b"card.json", b"card.jsno"), "no card.json", ["body"]),
        (b"PK\x03\x04 broken", "not a readable zip", ["body"]),
        (charx({"spec": "chara_card_v3", "data": {"name": "A\u0000"}}, {}), "NUL",
         ["body", "card.json", "data", "name"]),
        (charx(risu_charx_card([("main", MAIN)]), {MAIN[10:]: b"\x00" * 70_000}), "65536",
         ["body", "card.json", "data", "assets", 1]),
    ],
)  # fmt: skip
async def test_a_bad_charx_is_a_422_naming_what_is_wrong(client, auth, body, detail, where):
    problem = assert_problem(await client.post("/api/v1/agents/import", content=body, headers=auth), 422, detail)
    assert problem["errors"][0]["loc"] == where
    assert (await client.get("/api/v1/agents", headers=auth)).json()["data"] == []
