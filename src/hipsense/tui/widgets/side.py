"""The side panel: rep counter and set feedback, or the straight leg raise test."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Static

from hipsense.routines import SLR_TRIALS_PER_LEG, SlrAssessment, symmetry_index_pct
from hipsense.tui.model import LEGS, SessionModel
from hipsense.tui.text import deg, rep_line, rep_words, set_summary, slr_leg_lines, symmetry_line
from hipsense.tui.widgets import show_text


class RepPanel(Vertical):
    """The current leg's count in big digits against the target, then words on quality."""

    def on_mount(self) -> None:
        self.border_title = "Set"

    def compose(self) -> ComposeResult:
        with Horizontal(id="rep-row"):
            yield Digits("0", id="rep-count")
            yield Static(id="rep-of")
        yield Static(id="set-state")
        yield Static(id="legs")
        yield Static(id="last-rep")
        yield Static(id="set-summary")
        yield Static(id="symmetry")

    def show(self, model: SessionModel) -> None:
        count = str(model.reps.get(model.leg, 0))
        digits = self.query_one("#rep-count", Digits)
        if digits.value != count:
            digits.update(count)
        self._set("#rep-of", f"/ {model.target_reps} reps\n{model.leg} leg")
        running = "[b green]● set running[/]" if model.set_active else "space starts a set"
        self._set("#set-state", running)
        self._set("#legs", "\n".join(self._leg(model, leg) for leg in LEGS))
        self._set("#last-rep", self._last_rep(model))
        summary = set_summary(model.last_set) if model.last_set else []
        self._set("#set-summary", "\n".join(summary))
        self._set("#symmetry", self._symmetry(model))

    def _set(self, selector: str, content: str) -> None:
        show_text(self.query_one(selector, Static), content)

    @staticmethod
    def _leg(model: SessionModel, leg: str) -> str:
        reps, target = model.reps.get(leg, 0), model.target_reps
        done = " ✓" if reps >= target else ""
        text = f"{leg.capitalize():<6}{reps:>3} / {target}{done}"
        return f"[b]▸ {text}[/]" if leg == model.leg else f"  {text}"

    @staticmethod
    def _symmetry(model: SessionModel) -> str:
        left, right = model.sets_done.get("left"), model.sets_done.get("right")
        line = symmetry_line(model.symmetry_pct())
        if left is None or right is None:
            return line
        return f"Range L {deg(left.mean_rom_deg)} · R {deg(right.mean_rom_deg)}\n{line}"

    @staticmethod
    def _last_rep(model: SessionModel) -> str:
        rep = model.last_rep
        if rep is None:
            return "Last rep: —"
        words = rep_words(rep)
        colour = "green" if not rep.flags else "yellow"
        return f"{rep_line(rep)}\n[b {colour}]{words}[/]"


class SlrPanel(Vertical):
    """Straight leg raise test: the prompt, each leg's trials, best, grade and change."""

    def on_mount(self) -> None:
        self.border_title = "Straight leg raise test"

    def compose(self) -> ComposeResult:
        yield Static(id="slr-prompt")
        yield Static(id="slr-left", classes="slr-leg")
        yield Static(id="slr-right", classes="slr-leg")
        yield Static(id="slr-compare")

    def show(
        self, model: SessionModel, test: SlrAssessment | None, *, replay: bool = False
    ) -> None:
        idle = "Each leg's raises as recorded." if replay else "Select the SLR test (e) to start."
        prompt = test.prompt() if test else idle
        show_text(self.query_one("#slr-prompt", Static), f"[b]{prompt}[/]")
        for leg in LEGS:
            lines = slr_leg_lines(leg, model.slr.get(leg), SLR_TRIALS_PER_LEG)
            show_text(self.query_one(f"#slr-{leg}", Static), "\n".join(lines))
        show_text(self.query_one("#slr-compare", Static), self._compare(model))

    @staticmethod
    def _compare(model: SessionModel) -> str:
        left, right = model.slr.get("left"), model.slr.get("right")
        if not left or not right or left.best_deg is None or right.best_deg is None:
            return ""
        return symmetry_line(symmetry_index_pct(left.best_deg, right.best_deg))
