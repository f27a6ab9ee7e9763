"""Help: the keys and what the feedback words mean."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from hipsense.tui.text import SYMMETRIC_BELOW_PCT, flag_help_lines

KEYS = """\
[b]Keys[/b]
  space  start / stop a set        l  switch leg
  n      next exercise             e  choose an exercise
  r      record on / off           c  calibrate again
  w      start the warm-up         q  quit"""

HELP_TEXT = "\n".join(
    [
        KEYS,
        "",
        "[b]Feedback on each rep[/b]",
        *flag_help_lines(),
        "",
        f"[b]Symmetry (SI)[/b]  under {SYMMETRIC_BELOW_PCT:.0f}% is usually called symmetric.",
        "Angles are thigh elevation: the pelvis adds some of the motion.",
        "Gauge: ┃ target (SLR: the door-jamb line), │ knee line, ▲ your best.",
        "SLR: a trial in (brackets) was rushed; the best is taken without it.",
        "",
        "Press escape or ? to close.",
    ]
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close"),
        Binding("q", "close", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static(HELP_TEXT)

    def action_close(self) -> None:
        self.dismiss(None)
