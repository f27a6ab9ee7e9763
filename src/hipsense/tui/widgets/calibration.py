"""The calibration view: one big instruction, progress, and the steps ahead."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from hipsense.events import CalibrationUpdate
from hipsense.tui.text import CALIBRATION_TITLES, STANDING_STEPS, SUPINE_STEPS, role_name
from hipsense.tui.widgets import show_text


class CalibrationView(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(id="cal-title")
        yield Static(id="cal-worn")
        yield Static(id="cal-message")
        yield ProgressBar(total=100, show_eta=False, id="cal-progress")
        yield Static(id="cal-steps")

    def show(self, updates: dict[str, CalibrationUpdate], worn_on: str | None = None) -> None:
        """``worn_on``: the thigh a lone sensor must be on (live and demo): after the SLR
        test's first leg, or the l key, it has to be moved there, and nothing else says so."""
        if not updates:
            return
        where = f"The sensor goes on your {role_name(worn_on)}." if worn_on else ""
        worn = self.query_one("#cal-worn", Static)
        worn.display = bool(where)
        show_text(worn, where)
        current = min(updates.values(), key=lambda u: (u.phase == "done", u.fraction))
        title = CALIBRATION_TITLES[current.phase]
        if len(updates) > 1:
            title = f"{title} ({role_name(current.role)})"
        show_text(self.query_one("#cal-title", Static), title)
        message = current.message
        if current.phase == "failed":
            message = f"{message}\nPress c to calibrate again."
        show_text(self.query_one("#cal-message", Static), message)
        self.query_one(ProgressBar).update(progress=round(100 * current.fraction))
        show_text(self.query_one("#cal-steps", Static), self._steps(current))

    @staticmethod
    def _steps(current: CalibrationUpdate) -> str:
        steps = SUPINE_STEPS if current.phase in SUPINE_STEPS else STANDING_STEPS
        now = steps.index(current.phase) if current.phase in steps else len(steps)
        lines = []
        for i, phase in enumerate(steps):
            mark = "✓" if i < now else ("▶" if i == now else "·")
            text = f"{mark} {i + 1}. {CALIBRATION_TITLES[phase]}"
            lines.append(f"[b]{text}[/]" if i == now else text)
        return "\n".join(lines)
