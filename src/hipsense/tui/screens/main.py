"""The main screen: status bar, exercise header, calibration or live view, footer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Static

from hipsense.routines import SlrAssessment, WarmupRoutine
from hipsense.tui.model import SessionModel
from hipsense.tui.widgets import show_text
from hipsense.tui.widgets.angle_panel import AnglePanel, angle_view
from hipsense.tui.widgets.calibration import CalibrationView
from hipsense.tui.widgets.side import RepPanel, SlrPanel
from hipsense.tui.widgets.status import StatusBar


class MainScreen(Screen[None]):
    def __init__(self, roles: list[str], mode: str) -> None:
        super().__init__()
        self.roles = roles
        self.mode = mode

    def compose(self) -> ComposeResult:
        yield StatusBar(self.roles)
        with Horizontal(id="header"):
            yield Static(id="exercise")
            yield Static(id="routine")
        yield Static(id="notice")
        with ContentSwitcher(id="views", initial="live"):
            yield CalibrationView(id="calibration")
            with Horizontal(id="live"):
                with Vertical(id="sensors"):
                    for role in self.roles:
                        yield AnglePanel(role)
                with ContentSwitcher(id="side", initial="reps"):
                    yield RepPanel(id="reps")
                    yield SlrPanel(id="slr")
        yield Footer()

    def show_angles(self, model: SessionModel) -> None:
        for panel in self.query(AnglePanel):
            panel.show(angle_view(model, panel.role))

    def show_state(
        self,
        model: SessionModel,
        *,
        routine: WarmupRoutine | None,
        slr_test: SlrAssessment | None,
    ) -> None:
        self.query_one(StatusBar).show(model.links)
        exercise = model.exercise
        show_text(
            self.query_one("#exercise", Static),
            f"[b reverse] {self.mode.upper()} [/] [b]{exercise.name}[/b] · {model.leg} leg",
        )
        show_text(self.query_one("#routine", Static), routine.describe() if routine else "")
        notice = self.query_one("#notice", Static)
        notice.display = model.notice is not None
        show_text(notice, f"⚠ {model.notice}" if model.notice else "")
        views = self.query_one("#views", ContentSwitcher)
        views.current = "calibration" if model.calibrating else "live"
        if model.calibrating:
            self.query_one(CalibrationView).show(model.calibration)
        side = "slr" if exercise.id == "slr" else "reps"
        self.query_one("#side", ContentSwitcher).current = side
        if side == "slr":
            self.query_one(SlrPanel).show(model, slr_test)
        else:
            self.query_one(RepPanel).show(model)
