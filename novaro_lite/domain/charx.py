"""CHARX in: the V3 spec's zip (`card.json` at its root, assets beside it), or a JPEG with that zip appended
(RisuAI's "CHARX-JPEG"). Only the card and its picture are read, never written anywhere, within bounds.

A zip states each entry's size in its central directory, and Python's reader never inflates an entry past
its stated size (nor accepts one whose CRC fails), so checking the stated sizes bounds the work: how many
entries, how many bytes in all, and how far any large entry inflates (a zip bomb's ratio is in the
thousands; deflated text and pictures rarely pass 20).
https://github.com/kwaroran/character-card-spec-v3/blob/main/SPEC_V3.md#charx
"""

from __future__ import annotations

import io
import lzma
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

from novaro_lite.domain.avatars import Avatar, media_type_of
from novaro_lite.domain.cards import MAX_CARD_BYTES, CardError, parse_json

CARD = "card.json"
MAX_ENTRIES = 1_000
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # what the entries inflate to, all together
MAX_RATIO = 100  # inflated / deflated, for an entry past RATIO_FROM bytes
RATIO_FROM = 1024 * 1024
URI_SCHEMES = ("embeded://", "embedded://")  # the spec's spelling, and the one people expect
_ZIP = b"PK\x03\x04"
_JPEG = b"\xff\xd8\xff"
_END_OF_DIRECTORY = b"PK\x05\x06"


def is_charx(data: bytes) -> bool:
    """Whether the bytes are a zip, or a JPEG that a zip follows (its end record is near the end of the file)."""
    return data.startswith(_ZIP) or (data.startswith(_JPEG) and _END_OF_DIRECTORY in data[-66_000:])


def _open(data: bytes) -> zipfile.ZipFile:
    where = ["body"]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:  # a zip version it cannot read
        raise CardError(where, f"the CHARX is not a readable zip: {exc}") from None
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise CardError(where, f"the CHARX has {len(entries)} entries; at most {MAX_ENTRIES} are read")
    total = sum(entry.file_size for entry in entries)
    if total > MAX_TOTAL_BYTES:
        raise CardError(where, f"the CHARX inflates to {total} bytes; at most {MAX_TOTAL_BYTES}")
    for entry in entries:
        if entry.flag_bits & 0x1:
            raise CardError(where, f"the CHARX entry {entry.filename!r} is encrypted")
        if entry.file_size > RATIO_FROM and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise CardError(where, f"the CHARX entry {entry.filename!r} inflates more than {MAX_RATIO} times")
    return archive


def _read(archive: zipfile.ZipFile, name: str, limit: int, loc: list[str | int], what: str) -> bytes:
    size = archive.getinfo(name).file_size
    if size > limit:
        raise CardError(loc, f"{what} is {size} bytes; the limit is {limit} bytes")
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise CardError(loc, f"{what} cannot be read from the CHARX: {exc}") from None


def _icon(assets: Any, names: set[str]) -> tuple[int, str] | None:
    """The asset to show as the agent's picture: the `icon` named `main`, else the first icon, among those the
    zip holds (an icon elsewhere, or `ccdefault:`, has no picture here)."""
    icons: list[tuple[int, str, Any]] = []
    for index, asset in enumerate(assets if isinstance(assets, list) else []):
        if not isinstance(asset, Mapping) or asset.get("type") != "icon" or not isinstance(asset.get("uri"), str):
            continue
        path = next((asset["uri"][len(s) :] for s in URI_SCHEMES if asset["uri"].startswith(s)), None)
        if path in names:
            icons.append((index, path, asset.get("name")))
    chosen = next((icon for icon in icons if icon[2] == "main"), icons[0] if icons else None)
    return None if chosen is None else (chosen[0], chosen[1])


def read_charx(data: bytes, picture_limit: int) -> tuple[Any, Avatar | None]:
    """The card JSON a CHARX holds (errors located under "card.json") and its picture, if it has one we keep
    (PNG, JPEG or WebP). Raises CardError for a zip past the bounds, no card.json, or a picture past the limit."""
    with _open(data) as archive:
        names = set(archive.namelist())
        if CARD not in names:
            raise CardError(["body"], f"the CHARX has no {CARD} at its root")
        doc = parse_json(_read(archive, CARD, MAX_CARD_BYTES, [CARD], CARD), CARD)
        data_object = doc.get("data") if isinstance(doc, dict) else None
        icon = _icon(data_object.get("assets") if isinstance(data_object, dict) else None, names)
        if icon is None:
            return doc, None
        index, path = icon
        image = _read(archive, path, picture_limit, [CARD, "data", "assets", index], f"the picture {path!r}")
    media_type = media_type_of(image)
    return doc, None if media_type is None else Avatar(media_type, image)
