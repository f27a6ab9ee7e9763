"""Planning helpers, C2 tracks and the batch view of a session."""

import numpy as np
import pytest

from hipsense.exercises import Leg, Posture
from hipsense.sim import SIM_EXERCISES, Conditions, plan_reps, plan_set, plan_warmup, simulate
from hipsense.sim.plan import plan_session, planned_duration_s
from hipsense.sim.tracks import QuinticTrack


def test_track_is_c2_and_its_derivatives_are_consistent() -> None:
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.uniform(0.2, 1.0, 8))
    value, vel, acc = (rng.normal(size=(8, 2)) for _ in range(3))
    track = QuinticTrack(t, value, vel, acc)
    eps = 1e-9
    for deriv, expected in enumerate((value, vel, acc)):
        np.testing.assert_allclose(track(t[1:-1] - eps, deriv), expected[1:-1], atol=1e-5)
        np.testing.assert_allclose(track(t[1:-1] + eps, deriv), expected[1:-1], atol=1e-5)
    x = np.linspace(t[0], t[-1], 20001)
    dx = x[1] - x[0]
    np.testing.assert_allclose(
        np.gradient(track(x), dx, axis=0)[1:-1], track(x, 1)[1:-1], atol=1e-3
    )
    np.testing.assert_allclose(track([t[0] - 1.0, t[-1] + 1.0]), value[[0, -1]])


def test_unknown_exercise_and_empty_set_are_refused() -> None:
    with pytest.raises(KeyError, match="choose one of"):
        plan_set("cartwheel", Leg.LEFT, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="at least one rep"):
        plan_reps("slr", 0, np.random.default_rng(0))


def test_slr_sets_include_fast_and_low_amplitude_reps() -> None:
    reps = plan_reps("slr", 5, np.random.default_rng(1))
    assert min(r.rise_s for r in reps) < 0.5
    assert min(r.peak_deg for r in reps) <= 25.0
    assert max(r.peak_deg for r in reps) >= 40.0


def test_supine_legs_never_sink_into_the_floor() -> None:
    for exercise_id in ("slr", "assisted-slr", "leg-lowering"):
        s = simulate(plan_set(exercise_id, Leg.RIGHT, 3, np.random.default_rng(5)), rate_hz=50)
        assert np.all(s.posture == Posture.SUPINE)
        assert s.flexion_deg.min() > -0.5


def test_other_legs_reps_are_listed_but_barely_move_the_sensor_thigh() -> None:
    plan = plan_warmup(Leg.LEFT, np.random.default_rng(2), both_legs=True)
    s = simulate(plan, rate_hz=50, seed=1)
    others = [r for r in s.reps if r.leg is Leg.RIGHT]
    assert len(others) == 3 and all(r.exercise_id == "slr" for r in others)
    for rep in others:
        sel = (s.t_s >= rep.start_s) & (s.t_s <= rep.end_s)
        assert np.abs(s.flexion_deg[sel]).max() < 0.04 * rep.peak_deg + 0.5
    assert s.leg is Leg.LEFT


def test_long_session_plan_covers_all_exercises_and_postures() -> None:
    plan = plan_session(Leg.RIGHT, np.random.default_rng(3), duration_s=200.0)
    assert planned_duration_s(plan.steps) >= 200.0
    s = simulate(plan, rate_hz=25, seed=3, conditions=Conditions.realistic())
    assert {r.exercise_id for r in s.reps} == set(SIM_EXERCISES)
    assert s.t_s[-1] >= 200.0
    assert {str(p) for p in np.unique(s.posture)} == {"standing", "supine"}


def test_batches_hand_on_received_samples_and_count_the_lost() -> None:
    plan = plan_set("knee-drive", Leg.LEFT, 6, np.random.default_rng(4))
    s = simulate(plan, rate_hz=100, seed=4, conditions=Conditions.clean().with_(lost_fraction=0.05))
    batches = s.batches(samples_per_batch=8)
    assert sum(len(b) for b in batches) == int((~s.lost).sum())
    assert sum(b.lost_before for b in batches) == int(s.lost.sum())
    assert all(len(b) <= 8 for b in batches)
    t = np.concatenate([b.t_s for b in batches])
    np.testing.assert_array_equal(t, s.t_s[~s.lost])
    for b in batches:
        assert np.all(np.diff(b.t_s) == pytest.approx(0.01))
