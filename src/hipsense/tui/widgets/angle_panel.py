"""One sensor's panel: the primary angle in big digits, the gauge and the recent plot."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Static

from hipsense.exercises import Angle
from hipsense.tui.model import PLOT_WINDOW_S, AngleTrace, SessionModel
from hipsense.tui.text import deg, line_deg, role_name
from hipsense.tui.widgets import show_text
from hipsense.tui.widgets.gauge import Gauge, gauge_top_deg
from hipsense.tui.widgets.plot import AnglePlot, PlotData

SLR_KNEE_LINE_DEG = 60.0


@dataclass(frozen=True)
class AngleView:
    angle_name: str
    value_deg: float | None
    best_deg: float | None
    target_deg: float | None
    lines_deg: tuple[float, ...]
    top_deg: float
    plot: PlotData | None


class AnglePanel(Vertical):
    def __init__(self, role: str) -> None:
        super().__init__(classes="angle-panel")
        self.role = role
        self.border_title = role_name(role)
        self.ready = False  # a panel mounted while running is drawn once it is composed

    def on_mount(self) -> None:
        self.ready = True

    def compose(self) -> ComposeResult:
        with Horizontal(classes="angle-row"):
            yield Digits("--", classes="angle-digits")
            yield Static(classes="angle-side")
        yield Gauge()
        yield AnglePlot()

    def show(self, view: AngleView) -> None:
        value = "--" if view.value_deg is None else f"{view.value_deg:.0f}"
        digits = self.query_one(Digits)
        if digits.value != value:
            digits.update(value)
        target = f"target {line_deg(view.target_deg)}" if view.target_deg is not None else ""
        show_text(
            self.query_one(".angle-side", Static),
            f"° {view.angle_name}\n[green]best {deg(view.best_deg)}[/]\n[magenta]{target}[/]",
        )
        gauge = self.query_one(Gauge)
        gauge.top_deg = view.top_deg
        gauge.value_deg = view.value_deg
        gauge.best_deg = view.best_deg
        gauge.target_deg = view.target_deg
        gauge.lines_deg = view.lines_deg
        self.query_one(AnglePlot).data = view.plot


def angle_view(model: SessionModel, role: str) -> AngleView:
    """What ``role``'s panel shows now (SLR shows the pass and knee lines and the test best)."""
    angle = model.exercise.primary
    best, target = model.best_deg.get(role), model.target_deg
    lines: tuple[float, ...] = ()
    if model.exercise.id == "slr":
        slr = model.slr.get(model.leg)
        target = slr.pass_line_deg if slr else target
        lines = (slr.knee_line_deg if slr else SLR_KNEE_LINE_DEG,)
        best = slr.best_deg if slr and slr.best_deg is not None else best
    top = gauge_top_deg(target, best, floor=120.0 if angle is Angle.FLEXION else 60.0)
    return AngleView(
        angle_name=angle.value,
        value_deg=model.primary_angle(role),
        best_deg=best,
        target_deg=target,
        lines_deg=lines,
        top_deg=top,
        plot=_plot(model.traces.get(role), angle, top, target),
    )


def _plot(trace: AngleTrace | None, angle: Angle, top: float, target: float | None) -> PlotData:
    if trace is None or trace.t_s.size == 0:
        return PlotData(np.empty(0), np.empty(0), PLOT_WINDOW_S, -30.0, top, target)
    recent = trace.t_s >= trace.t_s[-1] - PLOT_WINDOW_S
    t, values = trace.t_s[recent], trace.values(angle)[recent]
    low = min(-30.0, 15.0 * np.floor(values.min() / 15.0))
    high = max(top, 15.0 * np.ceil(values.max() / 15.0))
    return PlotData(t, values, PLOT_WINDOW_S, float(low), float(high), target)
