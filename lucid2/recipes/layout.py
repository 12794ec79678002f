"""Labeled image grids for the recipes (the figures, the dataset examples): a grid of images
with a title, column titles, row titles and captions.

Drawn with Pillow's default font, so a reader can tell what each cell shows
without the JSON beside it. Cells are square; each image is scaled to fit its
cell (enlarged with nearest-neighbour sampling, so pixel-level artifacts stay
visible, as in the article's enlarged renders) and centered on white.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from lucid2.misc.io import to_pil
from lucid2.optvis import checks

FONT_SIZE = 12
TITLE_FONT_SIZE = 14
GAP = 6  # pixels between cells
PADDING = 4  # pixels around text
MAX_ROW_TITLE_WIDTH = 160
MIN_CELL_SIZE = 112  # room for titles such as "pre_softmax[k]" on one line
WHITE = (255, 255, 255)
TEXT_COLOR = (20, 20, 20)
CAPTION_COLOR = (90, 90, 90)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow < 10.1 or no FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _text_width(draw: ImageDraw.ImageDraw, text: str, font) -> int:
    left, _, right, _ = draw.textbbox((0, 0), text, font=font)
    return int(right - left)  # whole pixels (Pillow types the box as floats)


def _line_height(draw: ImageDraw.ImageDraw, font) -> int:
    _, top, _, bottom = draw.textbbox((0, 0), "Ag|", font=font)
    return int(bottom - top) + 2  # whole pixels (Pillow types the box as floats)


def text_width(text: str, size: int = FONT_SIZE) -> int:
    """Width in pixels of one line of ``text`` in the figures' font at ``size``."""
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    return _text_width(draw, text, _font(size))


def wrap_text(text: str, width: int, font=None) -> list[str]:
    """Greedy word wrap of ``text`` into lines at most ``width`` pixels wide (newlines kept).

    A word wider than ``width`` is broken between characters.
    """
    font = font if font is not None else _font(FONT_SIZE)
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if _text_width(draw, candidate, font) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            for char in word:
                if current and _text_width(draw, current + char, font) > width:
                    lines.append(current)
                    current = ""
                current += char
        lines.append(current)
    return lines


def _fit(image: np.ndarray, cell: int) -> Image.Image:
    pil = to_pil(image).convert("RGB")
    scale = cell / max(pil.width, pil.height)
    size = (max(1, round(pil.width * scale)), max(1, round(pil.height * scale)))
    if size != pil.size:
        resample = Image.Resampling.NEAREST if scale > 1 else Image.Resampling.LANCZOS
        pil = pil.resize(size, resample=resample)
    canvas = Image.new("RGB", (cell, cell), WHITE)
    canvas.paste(pil, ((cell - pil.width) // 2, (cell - pil.height) // 2))
    return canvas


def _check_shape(name: str, rows: Sequence[Sequence], n_rows: int, n_cols: int) -> None:
    if len(rows) != n_rows or any(len(row) != n_cols for row in rows):
        raise ValueError(f"{name} must have {n_rows} rows of {n_cols} entries, like the cells.")


@dataclasses.dataclass(frozen=True)
class _GridLayout:
    """Where everything of a labeled grid goes: wrapped text and sizes in pixels."""

    cell_size: int
    line: int  # height of a line of text
    title_line: int  # height of a line of the title
    title_lines: list[str]
    column_lines: list[list[str]]  # per column
    row_lines: list[list[str]]  # per row
    caption_lines: list[list[list[str]]]  # per row and column
    caption_heights: list[int]  # per row
    left: int  # width of the row titles
    top: int  # height of the title
    header: int  # height of the column titles
    width: int
    height: int

    def column_x(self, column: int) -> int:
        return self.left + GAP + column * (self.cell_size + GAP)


def _checked_rows(cells, column_titles, row_titles, captions,
                  cell_size: int | None) -> tuple[list[list], int]:
    """The rows of cells, and the cell size (the default one when None)."""
    rows = [list(row) for row in cells]
    if not rows or not rows[0]:
        raise ValueError("cells must hold at least one row with at least one cell.")
    n_rows, n_cols = len(rows), len(rows[0])
    _check_shape("cells", rows, n_rows, n_cols)
    images = [image for row in rows for image in row if image is not None]
    if not images:
        raise ValueError("cells must hold at least one image.")
    if column_titles and len(column_titles) != n_cols:
        raise ValueError(f"column_titles must have {n_cols} entries, got {len(column_titles)}.")
    if row_titles and len(row_titles) != n_rows:
        raise ValueError(f"row_titles must have {n_rows} entries, got {len(row_titles)}.")
    if captions is not None:
        _check_shape("captions", captions, n_rows, n_cols)
    if cell_size is None:
        return rows, max(MIN_CELL_SIZE, max(max(np.shape(i)[:2]) for i in images))
    return rows, checks.positive_int("cell_size", cell_size)


def _grid_layout(n_rows: int, n_cols: int, column_titles, row_titles, captions,
                 title: str | None, cell_size: int, font, title_font) -> _GridLayout:
    """Wraps the text to its room and sizes the canvas around the cells."""
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    line = _line_height(measure, font)
    title_line = _line_height(measure, title_font)
    row_lines = [wrap_text(t, MAX_ROW_TITLE_WIDTH, font) for t in row_titles]
    left = 0
    if row_lines:
        widest = max(_text_width(measure, text, font) for lines in row_lines for text in lines)
        left = widest + 2 * PADDING
    column_lines = [wrap_text(t, cell_size, font) for t in column_titles]
    header = max((len(lines) for lines in column_lines), default=0) * line
    header += 2 * PADDING if column_lines else 0
    caption_lines = [[wrap_text(c, cell_size, font) if c else [] for c in row]
                     for row in (captions or [[None] * n_cols] * n_rows)]
    caption_heights = [max(len(c) for c in row) * line + (PADDING if any(row) else 0)
                       for row in caption_lines]
    width = left + n_cols * cell_size + (n_cols + 1) * GAP
    title_lines = wrap_text(title, width - 2 * PADDING, title_font) if title else []
    top = len(title_lines) * title_line + (2 * PADDING if title_lines else 0)
    height = top + header + sum(cell_size + h + GAP for h in caption_heights) + GAP
    return _GridLayout(cell_size=cell_size, line=line, title_line=title_line,
                       title_lines=title_lines, column_lines=column_lines, row_lines=row_lines,
                       caption_lines=caption_lines, caption_heights=caption_heights, left=left,
                       top=top, header=header, width=width, height=height)


def _draw_grid(rows: list[list], layout: _GridLayout, font, title_font) -> np.ndarray:
    """Draws the title, the column titles, then each row: its title, cells and captions."""
    canvas = Image.new("RGB", (layout.width, layout.height), WHITE)
    draw = ImageDraw.Draw(canvas)
    cell, line = layout.cell_size, layout.line
    for i, text in enumerate(layout.title_lines):
        draw.text((PADDING, PADDING + i * layout.title_line), text, fill=TEXT_COLOR,
                  font=title_font)
    for c, lines in enumerate(layout.column_lines):
        for i, text in enumerate(lines):
            offset = (cell - _text_width(draw, text, font)) // 2
            draw.text((layout.column_x(c) + offset, layout.top + PADDING + i * line), text,
                      fill=TEXT_COLOR, font=font)
    y = layout.top + layout.header + GAP
    for r, row in enumerate(rows):
        if layout.row_lines:
            block = len(layout.row_lines[r]) * line
            for i, text in enumerate(layout.row_lines[r]):
                draw.text((PADDING, y + (cell - block) // 2 + i * line), text,
                          fill=TEXT_COLOR, font=font)
        for c, image in enumerate(row):
            x = layout.column_x(c)
            if image is not None:
                canvas.paste(_fit(image, cell), (x, y))
            for i, text in enumerate(layout.caption_lines[r][c]):
                offset = (cell - _text_width(draw, text, font)) // 2
                draw.text((x + offset, y + cell + 2 + i * line), text, fill=CAPTION_COLOR,
                          font=font)
        y += cell + layout.caption_heights[r] + GAP
    return np.asarray(canvas, dtype=np.uint8)


def labeled_grid(cells: Sequence[Sequence[np.ndarray | None]], *,
                 column_titles: Sequence[str] = (), row_titles: Sequence[str] = (),
                 captions: Sequence[Sequence[str | None]] | None = None,
                 title: str | None = None, cell_size: int | None = None) -> np.ndarray:
    """Lays out images in a labeled grid; returns a uint8 (H, W, 3) image.

    Args:
      cells: rows of images (H, W, 3 or 4) in [0, 1] or uint8, or None for an
        empty cell; every row has the same length.
      column_titles: one title per column (or none), drawn above the grid.
      row_titles: one title per row (or none), drawn on the left.
      captions: text under each cell (same shape as ``cells``; None for none).
      title: a line (or several) across the top.
      cell_size: side of the square cells in pixels; default: the largest
        image side, at least ``MIN_CELL_SIZE``.
    """
    rows, cell_size = _checked_rows(cells, column_titles, row_titles, captions, cell_size)
    font, title_font = _font(FONT_SIZE), _font(TITLE_FONT_SIZE)
    layout = _grid_layout(len(rows), len(rows[0]), column_titles, row_titles, captions, title,
                          cell_size, font, title_font)
    return _draw_grid(rows, layout, font, title_font)


def line_plot(curves: dict[str, Sequence[float]], *, title: str = "", x_label: str = "step",
              y_label: str = "objective", size: tuple[int, int] = (480, 320)) -> np.ndarray:
    """A small line chart of ``curves`` (name -> values at steps 1, 2, ...) as uint8 (H, W, 3).

    Non-finite values are skipped. The legend lists the names in their colors.
    """
    palette = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
               (140, 86, 75))
    if not curves:
        raise ValueError("curves must name at least one curve.")
    values = [np.asarray(v, dtype=np.float64) for v in curves.values()]
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.array([])
    width, height = size
    font = _font(FONT_SIZE)
    canvas = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(canvas)
    line = _line_height(draw, font)
    margin_left, margin_right = 56, 12
    margin_top = PADDING + (line if title else 0) + len(curves) * line + PADDING
    margin_bottom = 2 * line + PADDING
    x0, x1 = margin_left, width - margin_right
    y0, y1 = margin_top, height - margin_bottom
    if title:
        draw.text((PADDING, PADDING), title, fill=TEXT_COLOR, font=font)
    draw.rectangle((x0, y0, x1, y1), outline=CAPTION_COLOR)
    n_max = max((len(v) for v in values), default=1)
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if high == low:
        low, high = low - 1.0, high + 1.0
    for label_value, y in ((high, y0), (low, y1)):
        draw.text((PADDING, y - line // 2), f"{label_value:.3g}", fill=CAPTION_COLOR, font=font)
    draw.text((x0, y1 + PADDING), "1", fill=CAPTION_COLOR, font=font)
    draw.text((x1 - _text_width(draw, str(n_max), font), y1 + PADDING), str(n_max),
              fill=CAPTION_COLOR, font=font)
    draw.text(((x0 + x1) // 2 - _text_width(draw, x_label, font) // 2, y1 + PADDING + line),
              x_label, fill=CAPTION_COLOR, font=font)
    label = Image.new("RGB", (_text_width(draw, y_label, font) + 2, line), WHITE)
    ImageDraw.Draw(label).text((0, 0), y_label, fill=CAPTION_COLOR, font=font)
    label = label.rotate(90, expand=True)  # reads bottom to top, beside the axis
    canvas.paste(label, (PADDING, max(y0, (y0 + y1 - label.height) // 2)))
    legend_top = PADDING + (line if title else 0)
    for i, (name, curve) in enumerate(zip(curves, values, strict=True)):
        color = palette[i % len(palette)]
        draw.line((x0, legend_top + i * line + line // 2, x0 + 20, legend_top + i * line
                   + line // 2), fill=color, width=3)
        draw.text((x0 + 26, legend_top + i * line), name, fill=TEXT_COLOR, font=font)
        points = [(x0 + (x1 - x0) * (step / max(n_max - 1, 1)),
                   y1 - (y1 - y0) * (value - low) / (high - low))
                  for step, value in enumerate(curve) if np.isfinite(value)]
        if len(points) > 1:
            draw.line(points, fill=color, width=2)
        elif points:
            draw.ellipse((points[0][0] - 2, points[0][1] - 2, points[0][0] + 2,
                          points[0][1] + 2), fill=color)
    return np.asarray(canvas, dtype=np.uint8)
