"""PNG chunks, standard library only: read the tEXt chunks of a PNG, take its text out, put text in, and write
a small PNG that has some.

Character Cards travel inside PNG images as base64 text in `tEXt` chunks (`chara` for V2, `ccv3` for V3).
https://www.w3.org/TR/png-3/#11tEXt
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Sequence

SIGNATURE = b"\x89PNG\r\n\x1a\n"
MEDIA_TYPE = "image/png"
TEXT_KINDS = frozenset({b"tEXt", b"zTXt", b"iTXt"})


class PNGError(ValueError):
    """The bytes are not a well-formed PNG."""


def is_png(data: bytes) -> bool:
    return data.startswith(SIGNATURE)


def _chunks(data: bytes) -> Iterator[tuple[bytes, bytes, bytes]]:
    """Each chunk of a PNG up to IEND: its type, its body and all its bytes, checking every chunk's CRC."""
    if not is_png(data):
        raise PNGError("it does not start with the PNG signature")
    at = len(SIGNATURE)
    while at < len(data):
        if at + 8 > len(data):
            raise PNGError(f"it is truncated inside a chunk header at byte {at}")
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        end = at + 8 + length
        if end + 4 > len(data):
            raise PNGError(f"it is truncated inside the {kind.decode('latin-1')!r} chunk at byte {at}")
        body = data[at + 8 : end]
        (crc,) = struct.unpack(">I", data[end : end + 4])
        if zlib.crc32(kind + body) != crc:
            raise PNGError(f"the {kind.decode('latin-1')!r} chunk at byte {at} fails its CRC check")
        yield kind, body, data[at : end + 4]
        if kind == b"IEND":
            return
        at = end + 4


def text_chunks(data: bytes) -> dict[str, str]:
    """Return the tEXt chunks of a PNG by keyword (the first of each), checking every chunk's CRC."""
    found: dict[str, str] = {}
    for kind, body, _ in _chunks(data):
        if kind == b"tEXt":
            keyword, separator, text = body.partition(b"\0")
            if separator:
                found.setdefault(keyword.decode("latin-1"), text.decode("latin-1"))
    return found


def without_text(data: bytes) -> bytes:
    """The PNG's picture alone: its text chunks (a card's, or a tool's megabytes of its own) left out, and ended
    by IEND even when it came without one. Raises PNGError unless it starts with its IHDR header."""
    kept = [whole for kind, _, whole in _chunks(data) if kind not in TEXT_KINDS]
    if not kept or kept[0][4:8] != b"IHDR":
        raise PNGError("it does not start with an IHDR chunk, so it holds no picture")
    return SIGNATURE + b"".join(_ended(kept))


def with_text(data: bytes, texts: Sequence[tuple[str, str]]) -> bytes:
    """The PNG with its text chunks replaced by `texts` (tEXt, latin-1), written just before IEND."""
    chunks = _ended([whole for kind, _, whole in _chunks(data) if kind not in TEXT_KINDS])
    added = [_chunk(b"tEXt", key.encode("latin-1") + b"\0" + text.encode("latin-1")) for key, text in texts]
    return SIGNATURE + b"".join(chunks[:-1] + added + chunks[-1:])


def _ended(chunks: list[bytes]) -> list[bytes]:
    """The chunks, with an IEND after them if they lack one (a picture stored before this was checked, say)."""
    return chunks if chunks and chunks[-1][4:8] == b"IEND" else [*chunks, _chunk(b"IEND", b"")]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def tiny_png(rgb: tuple[int, int, int], texts: Sequence[tuple[str, str]] = (), size: int = 64) -> bytes:
    """A size × size PNG of one colour, carrying `texts` as tEXt chunks (latin-1 keywords and text)."""
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    row = b"\0" + bytes(rgb) * size  # filter type 0, then the pixels
    chunks = [_chunk(b"IHDR", header)]
    chunks += [_chunk(b"tEXt", key.encode("latin-1") + b"\0" + text.encode("latin-1")) for key, text in texts]
    chunks += [_chunk(b"IDAT", zlib.compress(row * size)), _chunk(b"IEND", b"")]
    return SIGNATURE + b"".join(chunks)
