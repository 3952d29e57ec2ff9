"""Draw the add-in's icons: a Fluent-blue rounded square with a white window and its side pane.

``python -m manifest.icons [DIRECTORY]`` (re)writes ``icon-{16,32,64,80,128}.png`` into
``addin/static/icons/`` (or DIRECTORY). Standard library only: the PNG is written with zlib and
struct, and each pixel is the average of 4x4 samples of the glyph, so edges are anti-aliased at
every size. The output is deterministic: the tests compare the served files with a fresh drawing.
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

SIZES = (16, 32, 64, 80, 128)
ICON_DIRECTORY = Path(__file__).resolve().parent.parent / "addin" / "static" / "icons"

BRAND = (0x0F, 0x6C, 0xBD)  # Fluent brand blue, #0f6cbd
WHITE = (0xFF, 0xFF, 0xFF)
_SAMPLES = 4  # per axis, per pixel

# The glyph on the unit square, y downwards.
_TILE_RADIUS = 0.2
_WINDOW = (0.17, 0.24, 0.83, 0.76)  # left, top, right, bottom
_WINDOW_RADIUS = 0.07
_STROKE = 0.08
_PANE_LEFT = 0.56  # the side pane fills the window from here to its right edge


def _in_rounded_rect(
    x: float, y: float, box: tuple[float, float, float, float], radius: float
) -> bool:
    left, top, right, bottom = box
    if not (left <= x <= right and top <= y <= bottom):
        return False
    # Distance to the rectangle shrunk by the radius, outside the corners only.
    dx = max(left + radius - x, 0.0, x - (right - radius))
    dy = max(top + radius - y, 0.0, y - (bottom - radius))
    return dx * dx + dy * dy <= radius * radius


def _colour_at(x: float, y: float) -> tuple[int, int, int] | None:
    """The glyph's colour at a point of the unit square, or None where it is transparent."""
    if not _in_rounded_rect(x, y, (0.0, 0.0, 1.0, 1.0), _TILE_RADIUS):
        return None
    if not _in_rounded_rect(x, y, _WINDOW, _WINDOW_RADIUS):
        return BRAND
    left, top, right, bottom = _WINDOW
    inner = (left + _STROKE, top + _STROKE, right - _STROKE, bottom - _STROKE)
    inside = _in_rounded_rect(x, y, inner, max(_WINDOW_RADIUS - _STROKE, 0.0))
    return WHITE if not inside or x >= _PANE_LEFT else BRAND


def render(size: int) -> bytes:
    """The PNG file of the icon at ``size`` x ``size`` pixels (RGBA, straight alpha)."""
    rows = []
    step = 1.0 / (size * _SAMPLES)
    for row in range(size):
        line = bytearray([0])  # PNG filter type 0 (None) for each scanline
        for column in range(size):
            red = green = blue = covered = 0
            for sy in range(_SAMPLES):
                y = (row * _SAMPLES + sy + 0.5) * step
                for sx in range(_SAMPLES):
                    colour = _colour_at((column * _SAMPLES + sx + 0.5) * step, y)
                    if colour is not None:
                        red, green, blue = red + colour[0], green + colour[1], blue + colour[2]
                        covered += 1
            if covered:
                line += bytes(
                    (
                        round(red / covered),
                        round(green / covered),
                        round(blue / covered),
                        round(255 * covered / _SAMPLES**2),
                    )
                )
            else:
                line += bytes(4)
        rows.append(bytes(line))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_icons(directory: Path = ICON_DIRECTORY) -> list[Path]:
    """Write every icon size into ``directory``; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for size in SIZES:
        path = directory / f"icon-{size}.png"
        path.write_bytes(render(size))
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_icons(Path(sys.argv[1]) if len(sys.argv) > 1 else ICON_DIRECTORY):
        print(written_path)
