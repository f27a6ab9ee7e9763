"""Modal list of the exercise catalogue (plus the warm-up routine)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from hipsense.exercises import CATALOGUE

WARMUP_ID = "warm-up"


class ExercisePicker(ModalScreen[str | None]):
    """Returns an exercise id, ``WARMUP_ID``, or None when dismissed."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_picker", "Close")]

    def __init__(self, current_id: str) -> None:
        super().__init__()
        self.current_id = current_id

    def compose(self) -> ComposeResult:
        options = [Option("Warm-up routine: 4 drills, both legs", id=WARMUP_ID)]
        options += [
            Option(f"{e.name}  ({e.posture.value}, {e.target_reps} reps)", id=e.id)
            for e in CATALOGUE.values()
        ]
        with Vertical(id="picker"):
            yield Static("[b]Choose an exercise[/b]  (enter selects, escape closes)")
            yield OptionList(*options, id="picker-list")

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        option_list.highlighted = option_list.get_option_index(self.current_id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_picker(self) -> None:
        self.dismiss(None)
