"""Draw Mains Monitor's brand images into custom_components/mains_monitor/brand/.

A developer tool, not a runtime requirement: Home Assistant only reads the PNG files this writes.
It needs Pillow, which neither the integration nor the test suite installs; use a throwaway
virtual environment:

    python3 -m venv /tmp/brandvenv && /tmp/brandvenv/bin/pip install pillow
    /tmp/brandvenv/bin/python scripts/draw_brand.py [--font PATH]

The motif is a meter dial reading the mains: an amber sine wave inside a navy bezel, under a
scale. The dark_ variants swap navy for light strokes, for dark themes. The logos add the words
"Mains Monitor" in DejaVu Sans Bold (Debian's fonts-dejavu-core).

Home Assistant (2026.3 and newer) serves these files from the integration's brand/ folder, before
anything on its brands CDN. The rules are the brands repository's: PNG with a transparent
background, trimmed; icons 256x256 and 512x512 (@2x); logos landscape with the shortest side
128-256 px (256-512 px for @2x).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
import math
from pathlib import Path
import struct
import zlib

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
BRAND = ROOT / "custom_components" / "mains_monitor" / "brand"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")

# The mark is drawn UNIT px wide, this many times the 512 px of the @2x icon, then scaled down:
# Pillow draws without anti-aliasing, and the downscale smooths the edges. All coordinates below
# are fractions of UNIT.
SUPERSAMPLE = 4
UNIT = 512 * SUPERSAMPLE

Colour = tuple[int, int, int]
Point = tuple[float, float]


@dataclass(frozen=True)
class Theme:
    """The colours of one variant."""

    prefix: str  # file name prefix: "" or "dark_"
    stroke: Colour  # bezel, scale and lettering
    wave: Colour  # the mains sine wave


LIGHT = Theme(prefix="", stroke=(22, 50, 79), wave=(245, 158, 11))
DARK = Theme(prefix="dark_", stroke=(230, 237, 245), wave=(251, 191, 36))


@dataclass(frozen=True)
class Art:
    """A drawing as two coverage masks (mode L), one per colour; the two never overlap.

    Scaling masks rather than colour images keeps each pixel's colour exact, with only its
    opacity anti-aliased: smaller files, and no colour fringes.
    """

    stroke: Image.Image
    wave: Image.Image

    @classmethod
    def blank(cls, width: int, height: int) -> Art:
        """An empty drawing."""
        return cls(
            Image.new("L", (width, height), 0), Image.new("L", (width, height), 0)
        )

    @property
    def size(self) -> tuple[int, int]:
        """Width and height in pixels."""
        return self.stroke.size

    def trimmed(self) -> Art:
        """Cropped to what is drawn: the brands rules want no empty margin."""
        boxes = [
            box
            for box in (self.stroke.getbbox(), self.wave.getbbox())
            if box is not None
        ]
        if not boxes:
            msg = "nothing drawn"
            raise ValueError(msg)
        box = (
            min(box[0] for box in boxes),
            min(box[1] for box in boxes),
            max(box[2] for box in boxes),
            max(box[3] for box in boxes),
        )
        return Art(self.stroke.crop(box), self.wave.crop(box))

    def resized(self, width: int, height: int) -> Art:
        """Scaled to width x height."""
        return Art(
            *(
                mask.resize((width, height), Image.Resampling.LANCZOS)
                for mask in (self.stroke, self.wave)
            )
        )

    def placed(self, width: int, height: int, x: int, y: int) -> Art:
        """On a larger empty canvas, with its top left corner at (x, y)."""
        canvas = Art.blank(width, height)
        canvas.stroke.paste(self.stroke, (x, y))
        canvas.wave.paste(self.wave, (x, y))
        return canvas

    def coloured(self, theme: Theme) -> Image.Image:
        """The RGBA image in a theme's colours, on a transparent background."""
        image = Image.new("RGBA", self.size, (0, 0, 0, 0))
        for mask, colour in ((self.stroke, theme.stroke), (self.wave, theme.wave)):
            layer = Image.new("RGBA", self.size, (*colour, 0))
            layer.putalpha(mask)
            image.alpha_composite(layer)
        # Fully transparent pixels all alike (black) compress best.
        return Image.composite(
            image, Image.new("RGBA", self.size, (0, 0, 0, 0)), image.getchannel("A")
        )


def _disc(draw: ImageDraw.ImageDraw, x: float, y: float, radius: float) -> None:
    """Fill a circle: the round cap of a stroke."""
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)


def _bar(draw: ImageDraw.ImageDraw, start: Point, end: Point, width: float) -> None:
    """A straight stroke with round caps."""
    draw.line([start, end], fill=255, width=round(width))
    for x, y in (start, end):
        _disc(draw, x, y, width / 2)


def draw_mark() -> Art:
    """The square mark on a UNIT x UNIT canvas."""
    art = Art.blank(UNIT, UNIT)
    stroke = ImageDraw.Draw(art.stroke)
    centre = UNIT / 2

    # Bezel: a full ring.
    inner = UNIT / 2 - 0.075 * UNIT
    stroke.ellipse((0, 0, UNIT - 1, UNIT - 1), fill=255)
    stroke.ellipse(
        (centre - inner, centre - inner, centre + inner, centre + inner), fill=0
    )

    # Scale: ticks along the upper third of the dial, longer at the ends and in the middle.
    ticks = 7
    tick_outer = inner - 0.045 * UNIT
    for index in range(ticks):
        angle = math.radians(210 + index * 120 / (ticks - 1))
        major = index in {0, ticks // 2, ticks - 1}
        length = (0.11 if major else 0.07) * UNIT
        width = (0.036 if major else 0.028) * UNIT
        start, end = (
            (centre + radius * math.cos(angle), centre + radius * math.sin(angle))
            for radius in (tick_outer - length, tick_outer)
        )
        _bar(stroke, start, end, width)

    # The mains: one period of a sine wave across the dial, a little below the middle. Drawn as
    # the outline of the stroke (the curve offset both ways along its normal) with round caps:
    # Pillow's wide polylines come out ragged on a curve.
    wave = ImageDraw.Draw(art.wave)
    half_span = 0.3 * UNIT
    amplitude = 0.125 * UNIT
    baseline = centre + 0.08 * UNIT
    half_width = 0.0425 * UNIT
    steps = 400
    left: list[Point] = []
    right: list[Point] = []
    for step in range(steps + 1):
        phase = 2 * math.pi * step / steps
        x = centre - half_span + 2 * half_span * step / steps
        y = baseline - amplitude * math.sin(phase)
        # The tangent per unit of phase is (dx, dy); the normal is it turned a quarter.
        dx, dy = half_span / math.pi, -amplitude * math.cos(phase)
        norm = math.hypot(dx, dy)
        nx, ny = -dy / norm, dx / norm
        left.append((x + half_width * nx, y + half_width * ny))
        right.append((x - half_width * nx, y - half_width * ny))
    wave.polygon([*left, *reversed(right)], fill=255)
    for x in (centre - half_span, centre + half_span):
        _disc(wave, x, baseline, half_width)
    return art


def fit_square(art: Art, size: int) -> Art:
    """Scale a trimmed drawing into a size x size square, centred."""
    scale = size / max(art.size)
    width, height = (max(1, round(side * scale)) for side in art.size)
    return art.resized(width, height).placed(
        size, size, (size - width) // 2, (size - height) // 2
    )


def draw_logo(mark: Art, font_path: Path) -> Art:
    """The trimmed mark followed by the words "Mains Monitor", trimmed."""
    font = ImageFont.truetype(str(font_path), round(0.5 * UNIT))
    text = "Mains Monitor"
    left, top, right, bottom = (round(edge) for edge in font.getbbox(text))
    gap = round(0.14 * UNIT)
    width = mark.size[0] + gap + (right - left)
    height = max(mark.size[1], bottom - top)
    logo = mark.placed(width, height, 0, (height - mark.size[1]) // 2)
    # Centre the letters on the mark: "Mains Monitor" has no descenders.
    ImageDraw.Draw(logo.stroke).text(
        (mark.size[0] + gap - left, (height - (bottom - top)) // 2 - top),
        text,
        font=font,
        fill=255,
    )
    return logo.trimmed()


def png(image: Image.Image) -> bytes:
    """Encode an RGBA image as a PNG, compressed as small as zlib makes it.

    Pillow's own encoder (even with optimize=True) picks a filter for each row; for flat artwork
    with anti-aliased edges, no filtering at all compresses about a third smaller, and Pillow
    offers no way to ask for that. So the few chunks are written here.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data))
        )

    width, height = image.size
    raw = image.tobytes()
    stride = 4 * width
    # Filter type 0 (none) before each row.
    rows = b"".join(
        b"\0" + raw[row * stride : (row + 1) * stride] for row in range(height)
    )
    # Width, height, 8 bits a sample, colour type 6 (RGBA), deflate, the one filter method,
    # not interlaced.
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(rows, 9)),
            chunk(b"IEND", b""),
        )
    )


def save(image: Image.Image, name: str) -> None:
    """Write one RGBA PNG into the brand folder and report it."""
    path = BRAND / name
    path.write_bytes(png(image))
    print(f"{name}: {image.width}x{image.height} px, {path.stat().st_size} bytes")


def main(argv: Sequence[str] | None = None) -> None:
    """Draw all eight brand images."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--font", type=Path, default=FONT, help="TrueType font for the logo"
    )
    args = parser.parse_args(argv)
    BRAND.mkdir(parents=True, exist_ok=True)
    mark = draw_mark().trimmed()
    logo = draw_logo(mark, args.font)
    # The logo at the largest height allowed; its @2x exactly twice as wide and high.
    logo_width = round(logo.size[0] * 256 / logo.size[1])
    images = {
        "icon.png": fit_square(mark, 256),
        "icon@2x.png": fit_square(mark, 512),
        "logo.png": logo.resized(logo_width, 256),
        "logo@2x.png": logo.resized(2 * logo_width, 512),
    }
    for theme in (LIGHT, DARK):
        for name, art in images.items():
            save(art.coloured(theme), theme.prefix + name)


if __name__ == "__main__":
    main()
