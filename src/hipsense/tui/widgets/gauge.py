"""A horizontal gauge: the current angle, the session's best and the target line."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget


def gauge_top_deg(*values: float | None, floor: float = 120.0) -> float:
    """Full scale: at least ``floor``, rounded up to 15° above the largest value shown."""
    largest = max((v for v in values if v is not None), default=0.0)
    return max(floor, 15.0 * (int(largest * 1.1 // 15.0) + 1))


class Gauge(Widget):
    """Two rows: the bar (target as ┃, extra lines as │) and a scale with the best as ▲."""

    DEFAULT_CSS = """
    Gauge { height: 2; width: 1fr; }
    """

    value_deg: reactive[float | None] = reactive(None)
    best_deg: reactive[float | None] = reactive(None)
    target_deg: reactive[float | None] = reactive(None)
    lines_deg: reactive[tuple[float, ...]] = reactive(())
    top_deg: reactive[float] = reactive(120.0)

    def _column(self, value: float, width: int) -> int:
        return min(width - 1, max(0, round(value / self.top_deg * (width - 1))))

    def render(self) -> Text:
        width = max(8, self.size.width)
        fill = 0
        if self.value_deg is not None and self.value_deg > 0:
            fill = self._column(self.value_deg, width) + 1
        bar = Text("█" * fill, style="cyan") + Text("░" * (width - fill), style="grey42")
        for line in self.lines_deg:
            col = self._column(line, width)
            bar = bar[:col] + Text("│", style="yellow") + bar[col + 1 :]
        if self.target_deg is not None:
            col = self._column(self.target_deg, width)
            bar = bar[:col] + Text("┃", style="bold magenta") + bar[col + 1 :]
        return Text("\n").join([bar, self._scale(width)])

    def _scale(self, width: int) -> Text:
        cells = [" "] * width
        top = f"{self.top_deg:.0f}°"
        cells[:2] = list("0°")
        cells[width - len(top) :] = list(top)
        scale = Text("".join(cells), style="grey62")
        if self.best_deg is not None and self.best_deg > 0:
            col = self._column(self.best_deg, width)
            scale = scale[:col] + Text("▲", style="bold green") + scale[col + 1 :]
        return scale
