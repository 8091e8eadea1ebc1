from __future__ import annotations

import struct
import zlib

import pytest

from novaro_lite.domain.png import PNGError, is_png, text_chunks, tiny_png


def test_tiny_png_is_a_valid_image_carrying_its_text_chunks():
    image = tiny_png((1, 2, 3), [("chara", "abc"), ("ccv3", "def"), ("chara", "second is ignored")], size=4)
    assert is_png(image) and text_chunks(image) == {"chara": "abc", "ccv3": "def"}
    width, height, depth, colour = struct.unpack(">IIBB", image[16:26])
    assert (width, height, depth, colour) == (4, 4, 8, 2)
    idat = image.index(b"IDAT")
    length = struct.unpack(">I", image[idat - 4 : idat])[0]
    assert zlib.decompress(image[idat + 4 : idat + 4 + length]) == (b"\0" + bytes((1, 2, 3)) * 4) * 4


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GIF89a", "signature"),
        (tiny_png((0, 0, 0))[:12], "truncated inside a chunk header"),
        (tiny_png((0, 0, 0))[:30], "truncated inside the 'IHDR' chunk"),
        (tiny_png((0, 0, 0))[:29] + b"\0" + tiny_png((0, 0, 0))[30:], "fails its CRC check"),
    ],
)
def test_malformed_pngs_say_why(data, reason):
    with pytest.raises(PNGError, match=reason):
        text_chunks(data)


def test_a_picture_is_kept_only_with_its_header_and_always_ends_with_iend():
    from novaro_lite.domain.png import with_text, without_text

    whole = tiny_png((5, 6, 7), [("chara", "old")], size=2)
    iend = whole.rindex(b"IEND") - 4
    headless = whole[:8] + whole[whole.index(b"IDAT") - 4 :]
    with pytest.raises(PNGError, match="IHDR"):
        without_text(whole[:8])  # the signature alone
    with pytest.raises(PNGError, match="IHDR"):
        without_text(headless)
    kept = without_text(whole[:iend])  # no IEND: one is added, so what is stored is a whole PNG
    assert kept.endswith(b"IEND\xaeB`\x82") and text_chunks(kept) == {}
    assert text_chunks(with_text(whole[:iend], [("chara", "new")])) == {"chara": "new"}
