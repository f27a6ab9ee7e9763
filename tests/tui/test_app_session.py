"""The guided flows on the real session: one sensor moved from thigh to thigh, fed simulated
sets (a sensor whose role names no leg follows the session's leg)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import numpy as np
from textual.widgets import Static

from hipsense.exercises import Leg
from hipsense.routines import RoutineStep
from hipsense.samples import SampleBatch
from hipsense.session import Session
from hipsense.sim import plan_set, simulate
from hipsense.tui import HipsenseApp

from .lockstep import Lockstep

ROLE = "thigh"
RATE_HZ = 50.0


async def sets_on_each_leg(exercise_id: str, reps: int) -> AsyncIterator[SampleBatch]:
    """A simulated set on the right thigh, then (sensor moved) one on the left, back to back."""
    offset_s = 0.0
    for i, leg in enumerate((Leg.RIGHT, Leg.LEFT)):
        plan = plan_set(exercise_id, leg, reps, np.random.default_rng(40 + i))
        sim = simulate(plan, rate_hz=RATE_HZ, seed=40 + i)
        for batch in sim.batches(samples_per_batch=5, sensor_id=ROLE):
            yield replace(batch, t_s=batch.t_s + offset_s)
        offset_s += float(sim.t_s[-1]) + 1.0 / RATE_HZ


def text(app: HipsenseApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_warmup_moves_on_at_each_step_target_on_the_real_session() -> None:
    session = Session("swing-forward", Leg.RIGHT, {ROLE: RATE_HZ})
    feed = Lockstep(sets_on_each_leg("swing-forward", 6))
    steps = (RoutineStep("swing-forward", 6), RoutineStep("knee-drive", 8))
    app = feed.app_for(session, mode="demo", warmup=steps)
    async with app.run_test() as pilot:
        await feed.frame(pilot)
        await pilot.press("w")
        await feed.frame(pilot)
        assert text(app, "#routine") == "Warm-up 1/2 · leg 1 of 2"
        assert "/ 6 reps" in text(app, "#rep-of")
        routine = app.routine
        assert routine is not None
        await feed.run_until(pilot, lambda: app.model.last_set is not None)  # right leg closed
        assert routine.legs_done == ["right"]
        assert session.leg is Leg.LEFT
        assert "Forward leg swings · left leg" in text(app, "#exercise")
        assert text(app, "#routine") == "Warm-up 1/2 · leg 2 of 2"
        assert "Right   6 / 6 ✓" in text(app, "#legs")
        assert "Right leg set: 6 of 6 reps" in text(app, "#set-summary")
        assert "Stand still" in text(app, "#cal-title")  # the sensor moved: calibrate it
        assert app.screen.query_one("#views").current == "calibration"  # type: ignore[attr-defined]
        await feed.run_until(pilot, lambda: routine.step_index == 1)
        assert "Knee drives · left leg" in text(app, "#exercise")
        assert text(app, "#routine") == "Warm-up 2/2 · leg 1 of 2"
        assert "/ 8 reps" in text(app, "#rep-of")
    assert session.exercise.id == "knee-drive"
    done = [(f.exercise_id, f.leg.value, len(f.reps)) for f in session.finished_sets]
    assert done == [("swing-forward", "right", 6), ("swing-forward", "left", 6)]


async def test_slr_test_on_both_legs_on_the_real_session() -> None:
    session = Session("slr", Leg.RIGHT, {ROLE: RATE_HZ})
    feed = Lockstep(sets_on_each_leg("slr", 3))
    app = feed.app_for(session, mode="demo")
    async with app.run_test() as pilot:
        test = app.slr_test
        assert test is not None
        await feed.run_until(pilot, lambda: test.leg == "left")
        assert "Left leg, trial 1 of 3" in text(app, "#slr-prompt")
        await feed.run_until(pilot, lambda: test.finished)
        assert "Test done: both legs measured." in text(app, "#slr-prompt")
        for leg in ("right", "left"):
            result = app.model.slr[leg]
            assert len(result.trial_peaks_deg) == 3
            assert f"best {result.best_deg:.0f}°" in text(app, f"#slr-{leg}")
        assert "Left/right SI" in text(app, "#slr-compare")


async def test_a_frame_while_the_screen_has_no_widgets_waits_for_the_next() -> None:
    # The frame timer can fire while the main screen is mounted but its widgets are not (as
    # it is being built, or torn down when the app quits): under load that frame raised
    # NoMatches. It now draws nothing and leaves the changes for the next frame.
    session = Session("swing-forward", Leg.RIGHT, {ROLE: RATE_HZ})
    feed = Lockstep(sets_on_each_leg("swing-forward", 6))
    app = feed.app_for(session, mode="demo")
    async with app.run_test() as pilot:
        await feed.frame(pilot)
        bar = app.main.query_one("StatusBar")
        await bar.remove()
        app.model.state_dirty = True
        app.refresh_views()
        assert app.model.state_dirty
