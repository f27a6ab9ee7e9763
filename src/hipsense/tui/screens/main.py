"""The main screen: status bar, exercise header, calibration or live view, footer."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Static

from hipsense.routines import SlrAssessment, WarmupRoutine
from hipsense.tui.model import SessionModel
from hipsense.tui.text import role_name
from hipsense.tui.widgets import show_text
from hipsense.tui.widgets.angle_panel import AnglePanel, angle_view
from hipsense.tui.widgets.calibration import CalibrationView
from hipsense.tui.widgets.side import RepPanel, SlrPanel
from hipsense.tui.widgets.status import StatusBar

WIDE_COLUMNS = 120  # from here on, sensor panels stand side by side


class MainScreen(Screen[None]):
    def __init__(self, roles: list[str], mode: str) -> None:
        super().__init__()
        self.roles = list(roles)
        self.mode = mode

    def compose(self) -> ComposeResult:
        yield StatusBar(self.roles, replay=self.mode == "replay")
        with Horizontal(id="header"):
            yield Static(id="exercise")
            yield Static(id="routine")
            yield Static(id="rec")
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

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width >= WIDE_COLUMNS, "wide")

    def show_angles(self, model: SessionModel) -> bool:
        """Redraw each sensor's panel; angles from a sensor without one get a new panel.
        False while a new panel is not composed yet (draw again next frame)."""
        for role in model.roles:
            if role not in self.roles:
                self.roles.append(role)
                self.query_one("#sensors").mount(AnglePanel(role))
        panels = list(self.query(AnglePanel))
        for panel in panels:
            if panel.ready:
                panel.show(angle_view(model, panel.role))
        return all(panel.ready for panel in panels)

    def show_state(
        self,
        model: SessionModel,
        *,
        routine: WarmupRoutine | None,
        slr_test: SlrAssessment | None,
    ) -> None:
        # One sensor goes wherever the user straps it: the leg key moves it to the other thigh.
        worn_on = f"{model.leg}_thigh" if len(self.roles) == 1 else None
        self.query_one(StatusBar).show(model.links, worn_on)
        if worn_on is not None:
            for panel in self.query(AnglePanel):
                panel.border_title = role_name(worn_on)
        exercise = model.exercise
        show_text(
            self.query_one("#exercise", Static),
            f"[b reverse] {self.mode.upper()} [/] [b]{exercise.name}[/b] · {model.leg} leg",
        )
        show_text(self.query_one("#routine", Static), routine.describe() if routine else "")
        show_text(self.query_one("#rec", Static), "[b red]● REC[/]" if model.recording else "")
        notice = self.query_one("#notice", Static)
        notice.display = model.notice is not None
        show_text(notice, f"⚠ {model.notice}" if model.notice else "")
        views = self.query_one("#views", ContentSwitcher)
        views.current = "calibration" if model.calibrating else "live"
        if model.calibrating:
            lone = worn_on if self.mode != "replay" else None  # a replay's sensor stays put
            self.query_one(CalibrationView).show(model.calibration, lone)
        side = "slr" if exercise.id == "slr" else "reps"
        self.query_one("#side", ContentSwitcher).current = side
        if side == "slr":
            self.query_one(SlrPanel).show(model, slr_test, replay=self.mode == "replay")
        else:
            self.query_one(RepPanel).show(model)
