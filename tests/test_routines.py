"""The warm-up routine and the SLR test as pure state machines."""

from __future__ import annotations

import pytest

from hipsense.events import ExerciseChanged, SetUpdate, SlrUpdate
from hipsense.routines import (
    WARMUP_STEPS,
    RoutineStep,
    SelectExercise,
    SlrAssessment,
    StartSet,
    SwitchLeg,
    WarmupRoutine,
    apply_actions,
    symmetry_index_pct,
)


def set_done(exercise_id: str, leg: str, reps: int = 15) -> SetUpdate:
    return SetUpdate("thigh", exercise_id, leg, reps, reps, 60.0, 65.0, 4.0, 1.5, (), None, True)


def slr(leg: str, *peaks: float) -> SlrUpdate:
    best = max(peaks) if peaks else None
    return SlrUpdate(leg, peaks, best, None, None, 75.0, 60.0, None, None, None)


class RecordingControl:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def start_set(self) -> None:
        self.calls.append("start_set")

    def stop_set(self) -> None:
        self.calls.append("stop_set")

    def switch_leg(self) -> None:
        self.calls.append("switch_leg")

    def select_exercise(self, exercise_id: str, target_reps: int | None = None) -> None:
        self.calls.append(f"select:{exercise_id}" + (f"/{target_reps}" if target_reps else ""))

    def toggle_recording(self) -> bool:
        return True

    def recalibrate(self) -> None:
        self.calls.append("recalibrate")


def test_warmup_default_steps_are_the_runner_drills() -> None:
    assert [s.exercise_id for s in WARMUP_STEPS] == [
        "swing-forward",
        "swing-lateral",
        "knee-drive",
        "straight-leg-march",
    ]
    assert WARMUP_STEPS[0].reps_per_leg == 15


def test_warmup_runs_each_step_on_both_legs_then_finishes() -> None:
    routine = WarmupRoutine("left")
    control = RecordingControl()
    apply_actions(routine.start(), control)
    leg = "left"
    for step in WARMUP_STEPS:
        for _ in range(2):
            apply_actions(routine.on_event(set_done(step.exercise_id, leg)), control)
            leg = "right" if leg == "left" else "left"
    assert routine.finished
    assert routine.describe() == "Warm-up done"
    assert control.calls == [
        "select:swing-forward/15",
        "start_set",
        "switch_leg",
        "start_set",
        "select:swing-lateral/15",
        "start_set",
        "switch_leg",
        "start_set",
        "select:knee-drive/15",
        "start_set",
        "switch_leg",
        "start_set",
        "select:straight-leg-march/10",
        "start_set",
        "switch_leg",
        "start_set",
    ]


def test_warmup_ignores_unfinished_sets_other_exercises_and_repeats() -> None:
    routine = WarmupRoutine("right")
    routine.start()
    unfinished = SetUpdate(
        "t", "swing-forward", "right", 7, 15, None, None, None, None, (), None, False
    )
    assert routine.on_event(unfinished) == []
    assert routine.on_event(set_done("knee-drive", "right")) == []
    assert routine.on_event(set_done("swing-forward", "right")) == [SwitchLeg(), StartSet()]
    assert routine.on_event(set_done("swing-forward", "right")) == []
    assert routine.describe() == "Warm-up 1/4 · leg 2 of 2"


def test_warmup_moves_on_when_a_running_set_reaches_the_step_target() -> None:
    routine = WarmupRoutine("right", (RoutineStep("knee-drive", 6), RoutineStep("slr", 3)))
    assert routine.start() == [SelectExercise("knee-drive", 6), StartSet()]

    def running(leg: str, reps: int) -> SetUpdate:
        return SetUpdate("t", "knee-drive", leg, reps, 20, None, None, None, None, (), None, False)

    assert routine.on_event(running("right", 5)) == []
    assert routine.on_event(running("right", 6)) == [SwitchLeg(), StartSet()]
    assert routine.on_event(running("right", 7)) == []  # the old leg's set closing
    assert routine.on_event(running("left", 6)) == [SelectExercise("slr", 3), StartSet()]
    assert routine.describe() == "Warm-up 2/2 · leg 1 of 2"


def test_warmup_follows_the_session_leg_and_can_skip() -> None:
    routine = WarmupRoutine("left", (RoutineStep("knee-drive", 10), RoutineStep("slr", 3)))
    routine.on_event(ExerciseChanged("knee-drive", "right", 10, 90.0))
    assert routine.leg == "right"
    assert routine.skip() == [SelectExercise("slr", 3), StartSet()]
    assert routine.skip() == []
    assert routine.finished
    with pytest.raises(ValueError, match="at least one step"):
        WarmupRoutine("left", ())


def test_slr_three_trials_per_leg_then_the_other_leg() -> None:
    test = SlrAssessment("left")
    assert test.prompt().startswith("Left leg, trial 1 of 3")
    assert test.on_event(slr("left", 70.0)) == []
    assert test.on_event(slr("left", 70.0, 74.0)) == []
    assert test.trials_done("left") == 2
    assert test.on_event(slr("left", 70.0, 74.0, 72.0)) == [SwitchLeg(), StartSet()]
    assert test.leg == "right"
    assert test.prompt().startswith("Right leg, trial 1 of 3")
    test.on_event(slr("right", 80.0, 81.0, 79.0))
    assert test.finished
    assert test.prompt() == "Test done: both legs measured."
    assert test.results["left"].best_deg == 74.0
    assert test.on_event(slr("right", 90.0)) == []


def test_slr_stopped_set_moves_on_early() -> None:
    test = SlrAssessment("right")
    test.on_event(slr("right", 66.0))
    assert test.on_event(set_done("slr", "left", 1)) == []
    assert test.on_event(set_done("slr", "right", 1)) == [SwitchLeg(), StartSet()]


def test_symmetry_index() -> None:
    assert symmetry_index_pct(60.0, 60.0) == 0.0
    assert symmetry_index_pct(50.0, 60.0) == pytest.approx(18.18, abs=0.01)
    assert symmetry_index_pct(0.0, 0.0) is None
