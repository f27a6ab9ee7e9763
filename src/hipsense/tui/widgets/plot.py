"""A braille plot of the last seconds of one angle (2×4 dots per cell, no dependencies)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from hipsense.events import FloatArray

# Bit of each dot in a braille cell, by (row, column).
_DOT_WEIGHTS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]])
LABEL_WIDTH = 5
LABEL_STYLE = Style.parse("grey62")
TRACE_STYLE = Style.parse("cyan")


@dataclass(frozen=True, eq=False)
class PlotData:
    """Samples to draw; ``eq=False`` so every new instance triggers a redraw."""

    t_s: FloatArray
    values_deg: FloatArray
    window_s: float
    low_deg: float
    high_deg: float
    target_deg: float | None = None


def braille_rows(data: PlotData, width: int, height: int) -> list[str]:
    """Rasterise ``data`` into ``height`` rows of ``width`` braille cells."""
    cols, rows = 2 * width, 4 * height
    grid = np.zeros((rows, cols), dtype=bool)
    if data.target_deg is not None:
        grid[_row(data, data.target_deg, rows), ::4] = True
    if data.t_s.size:
        t0 = data.t_s[-1] - data.window_s
        x = ((data.t_s - t0) / data.window_s * (cols - 1)).round().astype(int)
        inside = (x >= 0) & np.isfinite(data.values_deg)  # NaN: invalid or lost samples
        _draw(grid, x[inside], _row(data, data.values_deg[inside], rows))
    return _cells(grid, width, height)


def _row(data: PlotData, value_deg: float | FloatArray, rows: int) -> np.ndarray:
    span = max(data.high_deg - data.low_deg, 1e-9)
    frac = (data.high_deg - np.asarray(value_deg)) / span
    return np.asarray(np.clip(np.round(frac * (rows - 1)), 0, rows - 1), dtype=int)


def _draw(grid: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """Each column spans its samples' range, joined to the previous column's last sample."""
    if x.size == 0:
        return
    # A run of samples in one column fills from its lowest to its highest row, the sample
    # before the run included (that joins it to the previous column).
    starts = np.flatnonzero(np.concatenate(([True], x[1:] != x[:-1])))
    lo, hi = np.minimum.reduceat(y, starts), np.maximum.reduceat(y, starts)
    joined = y[starts[1:] - 1]
    lo[1:] = np.minimum(lo[1:], joined)
    hi[1:] = np.maximum(hi[1:], joined)
    # +1 where a span starts and -1 below where it ends; the running sum down a column fills it.
    edges = np.zeros((grid.shape[0] + 1, grid.shape[1]), dtype=np.int64)
    np.add.at(edges, (lo, x[starts]), 1)
    np.add.at(edges, (hi + 1, x[starts]), -1)
    grid |= np.cumsum(edges[:-1], axis=0) > 0


def _cells(grid: np.ndarray, width: int, height: int) -> list[str]:
    cells = grid.reshape(height, 4, width, 2).astype(np.int64)
    codes = np.einsum("hywx,yx->hw", cells, _DOT_WEIGHTS) + 0x2800
    return ["".join(map(chr, row)) for row in codes.tolist()]


class AnglePlot(Widget):
    """The last ~10 s of the primary angle, with the scale on the left and the target dotted.

    Drawn line by line (Strips, no Rich text layout): it changes on every frame.
    """

    DEFAULT_CSS = """
    AnglePlot { height: 1fr; min-height: 2; width: 1fr; }
    """

    data: reactive[PlotData | None] = reactive(None)

    def __init__(self) -> None:
        super().__init__()
        self._drawn: tuple[PlotData | None, int, int] | None = None
        self._lines: list[Strip] = []

    def render_line(self, y: int) -> Strip:
        lines = self._current_lines()
        return lines[y] if y < len(lines) else Strip.blank(self.size.width)

    def _current_lines(self) -> list[Strip]:
        key = (self.data, self.size.width, self.size.height)
        if key != self._drawn:
            lines = plot_lines(self.data, *key[1:])
            base = self.rich_style  # the widget's background under the trace
            self._drawn, self._lines = key, [line.apply_style(base) for line in lines]
        return self._lines


def plot_lines(data: PlotData | None, width: int, height: int) -> list[Strip]:
    """The plot as ``height`` strips of ``width`` cells (blank when there is no room)."""
    plot_width = width - LABEL_WIDTH
    if data is None or plot_width < 4 or height < 1:
        return [Strip.blank(width)] * max(height, 0)
    rows = braille_rows(data, plot_width, height)
    labels = [""] * height
    labels[0] = f"{data.high_deg:.0f}°"
    labels[-1] = f"{data.low_deg:.0f}°" if height > 1 else labels[0]
    return [
        Strip(
            [
                Segment(label.rjust(LABEL_WIDTH - 1) + " ", LABEL_STYLE),
                Segment(row, TRACE_STYLE),
            ],
            width,
        )
        for label, row in zip(labels, rows, strict=True)
    ]
