"""Help: the keys and what the feedback words mean."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

HELP_TEXT = """\
[b]Keys[/b]
  space  start / stop a set        l  switch leg
  n      next exercise             e  choose an exercise
  r      record on / off           c  calibrate again
  w      start the warm-up         q  quit

[b]Feedback on each rep[/b]
  short range        reach as far as your usual good reps
  rushed             slow down, take the whole movement
  lower more slowly  take at least 3 s on the way down
  stay in line       keep the swing in one plane
  hold at the top    pause briefly at the highest point

[b]Symmetry (SI)[/b]  under 10% is usually called symmetric.
Angles are thigh elevation: the pelvis adds some of the motion.

Press escape or ? to close."""


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
