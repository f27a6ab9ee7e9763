from collections.abc import Iterable

import numpy as np
import pytest
from bench_sets import benchmark_set
from slr_truth import best_controlled_peak_deg, controlled_raises

from hipsense.events import (
    AngleUpdate,
    CalibrationUpdate,
    ExerciseChanged,
    RepUpdate,
    SessionEvent,
    SetUpdate,
    SlrUpdate,
)
from hipsense.exercises import Leg, Posture
from hipsense.samples import SampleBatch
from hipsense.session import Session
from hipsense.sim import Conditions, plan_set, simulate


def _run(session: Session, batches: Iterable[SampleBatch]) -> list[SessionEvent]:
    events: list[SessionEvent] = []
    for batch in batches:
        events += session.feed(batch)
    return events + session.finish()


@pytest.mark.parametrize(
    ("exercise_id", "leg", "seed"), [("swing-forward", Leg.RIGHT, 1), ("slr", Leg.LEFT, 2)]
)
def test_live_session_counts_a_simulated_set_exactly(exercise_id: str, leg: Leg, seed: int) -> None:
    rng = np.random.default_rng(seed)
    sim = simulate(plan_set(exercise_id, leg, 8, rng), rate_hz=100.0, seed=seed)
    session = Session(exercise_id, leg, {"sim": sim.rate_hz})
    events = _run(session, sim.batches(19))
    completed = [e for e in events if isinstance(e, RepUpdate) and e.kind == "completed"]
    assert len(completed) == len(sim.reps) == 8
    phases = [e.phase for e in events if isinstance(e, CalibrationUpdate)]
    assert phases[-1] == "done"
    final = [e for e in events if isinstance(e, SetUpdate) and e.done]
    assert final and final[-1].rep_count == 8
    # Each rep is announced after its truth end at the latest by a fraction of a second.
    for e, truth in zip(completed, sim.reps, strict=True):
        assert truth.start_s < e.t_s < truth.end_s + 0.5


def test_supine_first_raise_calibrates_and_counts() -> None:
    rng = np.random.default_rng(5)
    plan = plan_set("slr", Leg.RIGHT, 3, rng)
    sim = simulate(plan, rate_hz=50.0, seed=5)
    session = Session("slr", Leg.RIGHT, {"sim": sim.rate_hz})
    events = _run(session, sim.batches(10))
    slr = [e for e in events if isinstance(e, SlrUpdate)]
    assert len(slr[-1].trial_peaks_deg) == 3
    assert slr[-1].trials_counted == controlled_raises(plan)
    assert slr[-1].best_deg == pytest.approx(best_controlled_peak_deg(plan, sim), abs=2.0)


def test_standing_calibration_swings_are_not_counted() -> None:
    rng = np.random.default_rng(11)
    sim = simulate(plan_set("swing-forward", Leg.LEFT, 5, rng), rate_hz=100.0, seed=11)
    session = Session("swing-forward", Leg.LEFT, {"sim": sim.rate_hz})
    events = _run(session, sim.batches(19))
    completed = [e for e in events if isinstance(e, RepUpdate) and e.kind == "completed"]
    first_set_rep = min(r.start_s for r in sim.reps)
    assert len(completed) == 5
    assert all(e.t_s > first_set_rep for e in completed)
    angles = [e for e in events if isinstance(e, AngleUpdate)]
    assert sum(len(a.t_s) for a in angles) == int((~sim.lost).sum())


def test_controls_announce_and_close_sets() -> None:
    session = Session("knee-drive", Leg.RIGHT, {"right_thigh": 100.0, "left_thigh": 100.0})
    assert session.pipelines["left_thigh"].leg is Leg.LEFT
    session.select_exercise("swing-lateral")
    session.switch_leg()
    events = session.drain()
    changed = [e for e in events if isinstance(e, ExerciseChanged)]
    assert [(e.exercise_id, e.leg) for e in changed] == [
        ("swing-lateral", "right"),
        ("swing-lateral", "left"),
    ]
    assert session.toggle_recording() is True


def test_a_chosen_target_is_announced_and_sets_count_to_it_until_the_next_drill() -> None:
    rng = np.random.default_rng(100)
    sim = simulate(plan_set("swing-forward", Leg.RIGHT, 5, rng), rate_hz=100.0, seed=100)
    session = Session("knee-drive", Leg.RIGHT, {"sim": sim.rate_hz})
    session.select_exercise("swing-forward", target_reps=6)
    session.switch_leg()
    session.switch_leg()
    session.start_set()
    events = _run(session, sim.batches(19))
    changed = [e.target_reps for e in events if isinstance(e, ExerciseChanged)]
    sets = [e for e in events if isinstance(e, SetUpdate)]
    assert changed == [6, 6, 6]
    assert sets and {s.target_reps for s in sets} == {6}
    assert sets[-1].rep_count == 5
    session.select_exercise("knee-drive")
    assert [e.target_reps for e in session.drain() if isinstance(e, ExerciseChanged)] == [15]
    # the closed set keeps the target it was judged against (the history saves it with it)
    assert [(f.exercise_id, len(f.reps), f.target_reps) for f in session.finished_sets] == [
        ("swing-forward", 5, 6)
    ]


def test_one_sensor_follows_the_leg_switch_whatever_its_role() -> None:
    session = Session("swing-forward", Leg.RIGHT, {"right_thigh": 100.0})
    session.switch_leg()
    pipe = session.pipelines["right_thigh"]
    assert pipe.leg is Leg.LEFT and pipe.counting
    assert pipe.calibration is None  # moved to the other thigh: calibrate again


def test_the_slr_target_is_the_line_the_session_grades_against() -> None:
    """The gauge's target used to be the catalogue's 75° while the verdict used the 75.5°
    door-jamb line: a 75.2° raise reached the target yet was 'below the line'."""
    from hipsense.session import SessionOptions
    from hipsense.signal.slr import DEFAULT_LINES, GradeLines

    session = Session("swing-forward", Leg.RIGHT, {"sim": 100.0})
    assert [session.target_deg] == [None]  # forward swings aim at no angle
    session.select_exercise("slr")
    (changed,) = [e for e in session.drain() if isinstance(e, ExerciseChanged)]
    assert changed.target_deg == session.target_deg == DEFAULT_LINES.mid_thigh_deg
    short = GradeLines.from_segments(0.40, 0.45)  # a personalised line moves the target too
    mine = Session("slr", Leg.LEFT, {"sim": 100.0}, options=SessionOptions(grade_lines=short))
    assert mine.target_deg == short.mid_thigh_deg != DEFAULT_LINES.mid_thigh_deg


def test_a_finished_set_keeps_the_calibration_its_angles_were_computed_with() -> None:
    """One sensor, a set on the right thigh, then moved to the left thigh for another set of
    the same drill: the left leg's calibration replaces the right's in the session's
    calibrations (one per sensor and posture), while the right leg's set keeps its own."""
    right = simulate(plan_set("knee-drive", Leg.RIGHT, 4, np.random.default_rng(41)), seed=41)
    left = simulate(plan_set("knee-drive", Leg.LEFT, 4, np.random.default_rng(42)), seed=42)
    session = Session("knee-drive", Leg.RIGHT, {"thigh": 100.0})
    for batch in right.batches(19, "thigh"):
        session.feed(batch)
    first = session.pipelines["thigh"].calibration
    session.switch_leg()
    for batch in left.batches(19, "thigh"):
        session.feed(batch)
    session.finish()
    second = session.pipelines["thigh"].calibration
    assert first is not None and second is not None and first != second
    assert first.leg is Leg.RIGHT and second.leg is Leg.LEFT
    assert [(f.leg, len(f.reps)) for f in session.finished_sets] == [(Leg.RIGHT, 4), (Leg.LEFT, 4)]
    assert [f.calibration for f in session.finished_sets] == [first, second]
    assert session.calibrations == {("thigh", Posture.STANDING): second}


@pytest.mark.parametrize("exercise_id", ["knee-drive", "swing-forward"])
def test_a_drill_picked_mid_movement_counts_every_rep_after_it(exercise_id: str) -> None:
    # The warm-up moves on as a set reaches its target, often while the leg is still moving.
    # Picking the drill rebuilt the sensor's pipeline, its fusion started again from a moving
    # leg's accelerometer, and 3-4 of the next 6 reps were lost.
    plan = plan_set(exercise_id, Leg.RIGHT, 10, np.random.default_rng(5))
    cond = Conditions.clean().with_(random_mounting=True)
    s = simulate(plan, rate_hz=100.0, seed=5, conditions=cond)
    reps = [r for r in s.reps if r.exercise_id == exercise_id]
    switch_s = reps[3].start_s + 0.3 * (reps[3].end_s - reps[3].start_s)  # on its way up
    session = Session(exercise_id, Leg.RIGHT, {"right_thigh": 100.0})
    picked = False
    for i in range(0, len(s.t_s), 7):
        if not picked and s.t_s[i] >= switch_s:
            session.select_exercise(exercise_id)
            session.start_set()
            picked = True
        sl = slice(i, i + 7)
        session.feed(SampleBatch("right_thigh", s.t_s[sl], s.acc_mps2[sl], s.gyr_radps[sl]))
    session.finish()
    after = session.finished_sets[-1]
    later = sum(1 for r in reps if r.start_s >= switch_s)
    assert len(after.reps) in {later, later + 1}  # the rep under way may count too


def test_an_slr_top_lost_in_a_burst_is_the_rep_s_peak_once_checked_at_rest() -> None:
    # Realistic SLRs (seed 9028 of the benchmark's sampling, 50 Hz): rep 4's top, held 0.4 s,
    # was lost whole in a 0.4 s burst; the 0.1 s of hold after it waited for a calm check that
    # came only once the lowering rested, 1.1 s after the burst began. The rows were released
    # after 0.6 s as they stood, hidden, and the rep's peak read 81.2 deg for 86.5.
    s = benchmark_set("slr", 9028, Conditions.realistic())
    keep = ~s.lost
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    session = Session("slr", s.leg, {"sim": s.rate_hz})
    _run(session, (SampleBatch("sim", t[i : i + 10], acc[i : i + 10], gyr[i : i + 10])
                   for i in range(0, len(t), 10)))  # fmt: skip
    top = s.reps[3]
    reps = [r for f in session.finished_sets for r in f.reps]
    rep = next(r for r in reps if r.start_s < top.peak_s < r.end_s)
    assert abs(rep.peak_deg - top.peak_deg) < 1.0


def test_rows_after_an_unchecked_bridge_are_counted_but_not_shown_off() -> None:
    # Realistic knee drives (seed 10080 of the benchmark's sampling, 100 Hz): a 0.2 s burst
    # as the leg set off after a foot strike, bridged up to 26 deg off, and no calm sample to
    # check it while the drives went on. Shown as they stood, the app drew the leg 26 deg
    # off; hidden outright, the reps inside those rows were lost.
    s = benchmark_set("knee-drive", 10080, Conditions.realistic())
    assert s.rate_hz == 100.0 and s.lost[round(15.75 * s.rate_hz)]
    session = Session("knee-drive", s.leg, {"sim": s.rate_hz})
    events = _run(session, s.batches(10))
    shown = [e for e in events if isinstance(e, AngleUpdate)]
    t = np.concatenate([e.t_s for e in shown])
    flex = np.concatenate([e.flexion_deg for e in shown])
    after = (t > 15.7) & (t < 16.7)
    err = flex[after] - np.interp(t[after], s.t_s, s.flexion_deg)
    assert np.isnan(err).any() and np.nanmax(np.abs(err)) < 4.0
    truth = [r for r in s.reps if r.exercise_id == "knee-drive"]
    assert sum(len(f.reps) for f in session.finished_sets) == len(truth)
