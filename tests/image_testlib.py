"""Image files for the loader tests: 16-bit copies of a photo and files Pillow cannot load."""

from __future__ import annotations

import io
import pathlib
import struct
import zlib

import numpy as np
from PIL import Image

UINT8_TO_UINT16 = 257  # 255 * 257 == 65535: the same gray in 16 bits
# A PNG header this size is a decompression bomb (400 M pixels > 2 x PIL.Image.MAX_IMAGE_PIXELS).
BOMB_SIDE = 20000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TRUNCATED_FRACTION = 0.5


def write_gray_pngs(source, folder) -> tuple[pathlib.Path, pathlib.Path]:
    """``source`` in gray as an 8-bit and as a 16-bit PNG (same values): (gray8, gray16)."""
    folder = pathlib.Path(folder)
    with Image.open(source) as pil:
        gray = np.asarray(pil.convert("L"))
    gray8, gray16 = folder / "gray8.png", folder / "gray16.png"
    Image.fromarray(gray).save(gray8)
    Image.fromarray(gray.astype(np.uint16) * UINT8_TO_UINT16).save(gray16)
    with Image.open(gray16) as pil:
        assert pil.mode == "I;16", pil.mode  # what a 16-bit gray PNG opens as
    return gray8, gray16


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def decompression_bomb_png(path, side: int = BOMB_SIDE) -> pathlib.Path:
    """A tiny PNG whose header claims side x side 1-bit pixels (never decoded in full)."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit gray
    data = (PNG_SIGNATURE + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(b"\0" * 16)) + _png_chunk(b"IEND", b""))
    path = pathlib.Path(path)
    path.write_bytes(data)
    return path


def truncated_jpeg_bytes(seed: int = 0, side: int = 96) -> bytes:
    """The first half of a JPEG of noise: the header reads, the pixel data ends early."""
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=95)
    data = buffer.getvalue()
    return data[:int(len(data) * TRUNCATED_FRACTION)]


def write_bad_images(folder) -> dict[str, pathlib.Path]:
    """Files no loader may accept, by kind: text, empty, truncated JPEG, decompression bomb."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {"text": folder / "text.png", "empty": folder / "empty.png",
             "truncated": folder / "truncated.jpg"}
    files["text"].write_text("this is not an image\n")
    files["empty"].write_bytes(b"")
    files["truncated"].write_bytes(truncated_jpeg_bytes())
    files["bomb"] = decompression_bomb_png(folder / "bomb.png")
    return files
