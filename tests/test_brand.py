"""The brand images: every file Home Assistant serves, at the size the brands rules ask.

Home Assistant (2026.3 and newer) serves a custom integration's own brand/ folder through its
brands integration (homeassistant/components/brands/), which allows exactly these eight names.
The image rules are the home-assistant/brands repository's: PNG, transparent background, trimmed;
icons square, 256 px and 512 px for @2x; logos landscape, shortest side 128-256 px (@2x 256-512).

The PNG files are read with the standard library: the suite does not install Pillow.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
import struct
import zlib

import pytest

BRAND = Path(__file__).parent.parent / "custom_components" / "mains_monitor" / "brand"
SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Colour types with an alpha channel: grey + alpha, RGB + alpha.
ALPHA_COLOUR_TYPES = {4: 2, 6: 4}  # colour type: bytes a pixel at 8 bits a sample
ICONS = ("icon.png", "icon@2x.png", "dark_icon.png", "dark_icon@2x.png")
LOGOS = ("logo.png", "logo@2x.png", "dark_logo.png", "dark_logo@2x.png")
# Small enough that HACS downloads stay light.
MAX_BYTES = 128 * 1024


# These tests read files and need no Home Assistant.
pytestmark = pytest.mark.without_hass


@dataclass(frozen=True)
class Png:
    """What the tests need of a PNG file: its header and the opacity of every pixel."""

    width: int
    height: int
    bit_depth: int
    colour_type: int
    interlace: int
    alpha: tuple[bytes, ...]  # one row of alpha values per row of the image

    def opaque_edges(self) -> dict[str, bool]:
        """For each edge, whether anything visible touches it."""
        return {
            "top": any(self.alpha[0]),
            "bottom": any(self.alpha[-1]),
            "left": any(row[0] for row in self.alpha),
            "right": any(row[-1] for row in self.alpha),
        }


def _paeth(left: int, up: int, up_left: int) -> int:
    """The PNG Paeth predictor."""
    estimate = left + up - up_left
    distance_left, distance_up, distance_up_left = (
        abs(estimate - left),
        abs(estimate - up),
        abs(estimate - up_left),
    )
    if distance_left <= distance_up and distance_left <= distance_up_left:
        return left
    if distance_up <= distance_up_left:
        return up
    return up_left


def _unfilter(kind: int, line: bytes, prior: bytes, step: int) -> bytes:
    """Undo one row's filter (PNG specification, section 9)."""
    if kind == 0:
        return line
    if kind == 2:
        return bytes((a + b) & 0xFF for a, b in zip(line, prior, strict=True))
    row = bytearray(line)
    for index, value in enumerate(line):
        left = row[index - step] if index >= step else 0
        if kind == 1:
            row[index] = (value + left) & 0xFF
        elif kind == 3:
            row[index] = (value + (left + prior[index]) // 2) & 0xFF
        elif kind == 4:
            up_left = prior[index - step] if index >= step else 0
            row[index] = (value + _paeth(left, prior[index], up_left)) & 0xFF
        else:
            pytest.fail(f"unknown PNG filter type {kind}")
    return bytes(row)


@cache
def read_png(name: str) -> Png:
    """Parse one brand image: IHDR for the header, IDAT for the alpha channel."""
    data = (BRAND / name).read_bytes()
    assert data.startswith(SIGNATURE), f"{name} is no PNG file"
    position = len(SIGNATURE)
    chunks: list[tuple[bytes, bytes]] = []
    while position < len(data):
        (length,) = struct.unpack_from(">I", data, position)
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack_from(">I", data, position + 8 + length)
        assert zlib.crc32(kind + body) == crc, f"{name}: bad CRC in {kind!r}"
        chunks.append((kind, body))
        position += 12 + length
    assert chunks[0][0] == b"IHDR", f"{name}: IHDR is not the first chunk"
    assert chunks[-1][0] == b"IEND", f"{name}: IEND is not the last chunk"
    width, height, bit_depth, colour_type, _, _, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1]
    )
    alpha: tuple[bytes, ...] = ()
    step = ALPHA_COLOUR_TYPES.get(colour_type)
    if step is not None and bit_depth == 8 and interlace == 0:
        pixels = zlib.decompress(
            b"".join(body for kind, body in chunks if kind == b"IDAT")
        )
        stride = width * step
        assert len(pixels) == height * (stride + 1), (
            f"{name}: wrong amount of image data"
        )
        rows: list[bytes] = []
        prior = bytes(stride)
        for row in range(height):
            start = row * (stride + 1)
            prior = _unfilter(
                pixels[start], pixels[start + 1 : start + 1 + stride], prior, step
            )
            rows.append(prior[step - 1 :: step])
        alpha = tuple(rows)
    return Png(width, height, bit_depth, colour_type, interlace, alpha)


def test_brand_folder_holds_the_eight_images() -> None:
    """Exactly the names Home Assistant's brands integration serves; nothing else."""
    assert sorted(path.name for path in BRAND.iterdir()) == sorted(ICONS + LOGOS)


@pytest.mark.parametrize("name", ICONS + LOGOS)
def test_image_is_a_small_png_with_alpha(name: str) -> None:
    """8-bit, not interlaced (the tests read it), with an alpha channel, and small."""
    image = read_png(name)
    assert image.colour_type in ALPHA_COLOUR_TYPES
    assert image.bit_depth == 8
    assert image.interlace == 0
    assert (BRAND / name).stat().st_size <= MAX_BYTES


@pytest.mark.parametrize("name", ICONS)
def test_icon_is_square_at_its_size(name: str) -> None:
    """256 x 256, or 512 x 512 for @2x."""
    size = 512 if "@2x" in name else 256
    image = read_png(name)
    assert (image.width, image.height) == (size, size)


@pytest.mark.parametrize("name", LOGOS)
def test_logo_is_landscape_at_its_size(name: str) -> None:
    """Landscape, the shortest side within the allowed range; @2x exactly twice the plain one."""
    image = read_png(name)
    shortest = min(image.width, image.height)
    low, high = (256, 512) if "@2x" in name else (128, 256)
    assert image.width > image.height
    assert low <= shortest <= high
    if "@2x" in name:
        plain = read_png(name.replace("@2x", ""))
        assert (image.width, image.height) == (2 * plain.width, 2 * plain.height)


@pytest.mark.parametrize("name", ICONS + LOGOS)
def test_background_is_transparent_and_trimmed(name: str) -> None:
    """Clear corners, and the drawing reaches the edges: no empty margin around it."""
    image = read_png(name)
    corners = (
        image.alpha[0][0],
        image.alpha[0][-1],
        image.alpha[-1][0],
        image.alpha[-1][-1],
    )
    assert corners == (0, 0, 0, 0)
    edges = image.opaque_edges()
    if name in LOGOS:
        assert all(edges.values()), edges
    else:
        # Scaled to fit its square: the drawing spans it in at least one direction.
        assert (edges["top"] and edges["bottom"]) or (
            edges["left"] and edges["right"]
        ), edges


@pytest.mark.parametrize(
    "name", [name for name in ICONS + LOGOS if name.startswith("dark_")]
)
def test_dark_variant_differs(name: str) -> None:
    """A dark_ image is drawn for dark themes, not a copy of the light one, at the same size."""
    dark, light = read_png(name), read_png(name.removeprefix("dark_"))
    assert (dark.width, dark.height) == (light.width, light.height)
    assert (BRAND / name).read_bytes() != (
        BRAND / name.removeprefix("dark_")
    ).read_bytes()
