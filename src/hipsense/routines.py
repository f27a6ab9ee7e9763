"""Guided flows as small state machines: the pre-run warm-up and the straight leg raise test.

They are pure: they consume session events and answer with actions (what to ask of the
session next). ``apply_actions`` turns those actions into ``SessionControl`` calls, so the
live app, a plain CLI or a test can drive the same flow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hipsense.events import ExerciseChanged, SessionControl, SessionEvent, SetUpdate, SlrUpdate
from hipsense.exercises import CATALOGUE, Leg
from hipsense.signal.quality import symmetry_index

SLR_TRIALS_PER_LEG = 3


@dataclass(frozen=True)
class SelectExercise:
    exercise_id: str
    target_reps: int | None = None  # None: the drill's usual target


@dataclass(frozen=True)
class SwitchLeg:
    pass


@dataclass(frozen=True)
class StartSet:
    pass


Action = SelectExercise | SwitchLeg | StartSet


def apply_actions(actions: Iterable[Action], control: SessionControl) -> None:
    """Ask the session for what a flow decided, in order."""
    for action in actions:
        if isinstance(action, SelectExercise):
            control.select_exercise(action.exercise_id, action.target_reps)
        elif isinstance(action, SwitchLeg):
            control.switch_leg()
        else:
            control.start_set()


def other_leg(leg: str) -> str:
    return Leg.RIGHT.value if leg == Leg.LEFT.value else Leg.LEFT.value


@dataclass(frozen=True)
class RoutineStep:
    exercise_id: str
    reps_per_leg: int


def _step(exercise_id: str) -> RoutineStep:
    return RoutineStep(exercise_id, CATALOGUE[exercise_id].target_reps)


WARMUP_STEPS: tuple[RoutineStep, ...] = tuple(
    _step(e) for e in ("swing-forward", "swing-lateral", "knee-drive", "straight-leg-march")
)


class WarmupRoutine:
    """Each step is one set per leg; a set that reaches the step's target, or that the user
    ends (``SetUpdate.done``), moves the routine on.

    Each step starts on whichever leg is current, so only ``switch_leg`` is ever needed.
    """

    def __init__(self, leg: str, steps: tuple[RoutineStep, ...] = WARMUP_STEPS) -> None:
        if not steps:
            raise ValueError("a warm-up routine needs at least one step")
        self.steps = steps
        self.leg = leg
        self.step_index = 0
        self.legs_done: list[str] = []
        self.finished = False

    @property
    def step(self) -> RoutineStep:
        return self.steps[self.step_index]

    def start(self) -> list[Action]:
        return [self._select_step(), StartSet()]

    def _select_step(self) -> SelectExercise:
        """The step's drill, its sets counting to the step's target."""
        return SelectExercise(self.step.exercise_id, self.step.reps_per_leg)

    def on_event(self, event: SessionEvent) -> list[Action]:
        if isinstance(event, ExerciseChanged):
            self.leg = event.leg
        elif isinstance(event, SetUpdate) and self._ends_step_set(event):
            return self._set_done(event.leg)
        return []

    def _ends_step_set(self, event: SetUpdate) -> bool:
        reached = event.done or event.rep_count >= self.step.reps_per_leg
        return (
            reached
            and not self.finished
            and event.exercise_id == self.step.exercise_id
            and event.leg not in self.legs_done
        )

    def skip(self) -> list[Action]:
        """Move to the next step now (the user pressed 'next')."""
        return self._next_step()

    def _set_done(self, leg: str) -> list[Action]:
        self.legs_done.append(leg)
        if len(self.legs_done) < 2:
            self.leg = other_leg(leg)
            return [SwitchLeg(), StartSet()]
        return self._next_step()

    def _next_step(self) -> list[Action]:
        self.legs_done = []
        if self.step_index + 1 >= len(self.steps):
            self.finished = True
            return []
        self.step_index += 1
        return [self._select_step(), StartSet()]

    def describe(self) -> str:
        """One short line for the header, e.g. 'Warm-up 2/4 · leg 1 of 2' (it shares 80
        columns with the drill and leg; the step's target is the rep counter's)."""
        if self.finished:
            return "Warm-up done"
        leg_no = len(self.legs_done) + 1
        return f"Warm-up {self.step_index + 1}/{len(self.steps)} · leg {leg_no} of 2"


class SlrAssessment:
    """Straight leg raise test: up to three trials on each leg, best kept, then the other leg."""

    def __init__(self, leg: str, trials: int = SLR_TRIALS_PER_LEG) -> None:
        self.legs = (leg, other_leg(leg))
        self.leg = leg
        self.trials = trials
        self.results: dict[str, SlrUpdate] = {}
        self.finished = False

    def on_event(self, event: SessionEvent) -> list[Action]:
        if self.finished:
            return []
        if isinstance(event, SlrUpdate):
            self.results[event.leg] = event
            if event.leg == self.leg and len(event.trial_peaks_deg) >= self.trials:
                return self._leg_done()
        elif isinstance(event, SetUpdate) and event.done and event.exercise_id == "slr":
            return self._leg_done() if event.leg == self.leg else []
        return []

    def _leg_done(self) -> list[Action]:
        if self.leg == self.legs[0]:
            self.leg = self.legs[1]
            return [SwitchLeg(), StartSet()]
        self.finished = True
        return []

    def trials_done(self, leg: str) -> int:
        result = self.results.get(leg)
        return len(result.trial_peaks_deg) if result else 0

    def prompt(self) -> str:
        if self.finished:
            return "Test done: both legs measured."
        trial = min(self.trials_done(self.leg) + 1, self.trials)
        return (
            f"{self.leg.capitalize()} leg, trial {trial} of {self.trials}:"
            " raise the straight leg as high as it goes, hold, lower."
        )


def symmetry_index_pct(left: float, right: float) -> float | None:
    """The symmetry index of ``signal.quality`` for the UI: None where it is undefined."""
    if left + right <= 0.0:
        return None
    return symmetry_index(left, right)
