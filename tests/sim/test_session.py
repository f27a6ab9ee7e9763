"""Plans, reps, segments, nuisances and determinism of simulated sessions."""

import numpy as np
import pytest

from hipsense.exercises import Angle, Leg
from hipsense.sim import SIM_EXERCISES, Conditions, SimSession, plan_set, plan_warmup, simulate


def _planned_reps(s: SimSession) -> int:
    return sum(len(step.reps) for step in s.plan.steps if step.kind == "set")


def _check_reps_hold_their_peaks(s: SimSession) -> None:
    for rep in s.reps:
        assert rep.start_s <= rep.peak_s <= rep.end_s
        sel = (s.t_s >= rep.start_s) & (s.t_s <= rep.end_s)
        angle = s.primary_deg(SIM_EXERCISES[rep.exercise_id].primary)[sel]
        assert angle.max() == pytest.approx(rep.peak_deg, abs=1.0)
        assert rep.low_deg < rep.peak_deg


@pytest.mark.parametrize("exercise_id", sorted(SIM_EXERCISES))
@pytest.mark.parametrize("rate_hz", [25, 200])
def test_every_exercise_gives_its_reps_with_truth_peaks(exercise_id: str, rate_hz: int) -> None:
    plan = plan_set(exercise_id, Leg.RIGHT, 4, np.random.default_rng(rate_hz))
    s = simulate(plan, rate_hz=rate_hz, seed=rate_hz, conditions=Conditions.realistic())
    assert len(s.reps) == 4 == _planned_reps(s)
    assert [r.index for r in s.reps] == [0, 1, 2, 3]
    _check_reps_hold_their_peaks(s)
    assert s.t_s[-1] == pytest.approx((len(s) - 1) / rate_hz)


def test_exercise_amplitudes_match_the_domain() -> None:
    ranges = {
        "swing-forward": (Angle.FLEXION, 40 * 0.55, 80 * 1.05, -25 * 1.05, -10 * 0.55),
        "swing-lateral": (Angle.ABDUCTION, 25 * 0.55, 45 * 1.05, -25 * 1.05, -15 * 0.55),
        "knee-drive": (Angle.FLEXION, 70 * 0.55, 100 * 1.05, -4.0, 3.0),
        "slr": (Angle.FLEXION, 9.0, 91.0, -1.0, 1.0),
    }
    for exercise_id, (_, peak_lo, peak_hi, low_lo, low_hi) in ranges.items():
        for seed in range(3):
            plan = plan_set(exercise_id, Leg.LEFT, 6, np.random.default_rng(seed))
            s = simulate(plan, rate_hz=50, seed=seed)
            for rep in s.reps:
                assert peak_lo <= rep.peak_deg <= peak_hi, (exercise_id, rep)
                assert low_lo <= rep.low_deg <= low_hi, (exercise_id, rep)


def test_fidgets_are_segments_never_reps() -> None:
    plan = plan_warmup(Leg.RIGHT, np.random.default_rng(3))
    s = simulate(plan, rate_hz=50, seed=4, conditions=Conditions.realistic())
    fidgets = [seg for seg in s.segments if seg.kind == "fidget"]
    assert len(fidgets) >= 3
    assert len(s.reps) == _planned_reps(s)
    for seg in fidgets:
        sel = (s.t_s >= seg.start_s) & (s.t_s <= seg.end_s)
        size = np.hypot(s.flexion_deg[sel], s.abduction_deg[sel]).max()
        assert 3.0 < size < 8.0
        assert not any(r.start_s < seg.end_s and seg.start_s < r.end_s for r in s.reps)


def test_mid_set_pause_splits_the_set_and_reps_continue() -> None:
    plan = plan_set("swing-forward", Leg.LEFT, 10, np.random.default_rng(6))
    s = simulate(plan, rate_hz=100, seed=6, conditions=Conditions.clean().with_(mid_set_pause=True))
    kinds = [seg.kind for seg in s.segments]
    pause = s.segments[kinds.index("pause")]
    assert kinds[kinds.index("pause") - 1] == "set" == kinds[kinds.index("pause") + 1]
    assert 2.0 <= pause.end_s - pause.start_s <= 3.0
    assert len(s.reps) == 10
    assert any(r.start_s >= pause.end_s for r in s.reps)
    assert not any(r.start_s < pause.end_s and pause.start_s < r.end_s for r in s.reps)


def test_segments_tile_the_session() -> None:
    s = simulate(plan_warmup(Leg.LEFT, np.random.default_rng(0)), rate_hz=25, seed=0)
    for before, after in zip(s.segments, s.segments[1:], strict=False):
        assert before.end_s == pytest.approx(after.start_s)
    assert s.segments[0].start_s == 0.0
    assert s.segments[-1].end_s == pytest.approx(s.t_s[-1], abs=1 / 25)
    kinds = [seg.kind for seg in s.segments]
    assert kinds[:3] == ["still", "calibration-swings", "still"]
    assert "transition" in kinds


def test_same_seed_same_session_other_seed_differs() -> None:
    plan = plan_set("knee-drive", Leg.LEFT, 3, np.random.default_rng(1))
    a, b, c = (
        simulate(plan, rate_hz=100, seed=k, conditions=Conditions.realistic()) for k in (7, 7, 8)
    )
    for name in ("acc_raw", "gyr_raw", "flexion_deg", "quat_wxyz", "lost"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.reps == b.reps and a.segments == b.segments
    assert not np.array_equal(a.gyr_raw, c.gyr_raw)


def test_lost_packets_come_in_bursts_of_twenty() -> None:
    plan = plan_set("swing-forward", Leg.RIGHT, 15, np.random.default_rng(2))
    s = simulate(plan, rate_hz=200, seed=2, conditions=Conditions.realistic())
    edges = np.flatnonzero(np.diff(np.concatenate([[0], s.lost.astype(int), [0]])))
    runs = edges[1::2] - edges[::2]
    assert len(runs) > 5 and set(runs.tolist()) == {20}
    assert s.lost.mean() == pytest.approx(0.02, abs=0.003)
    assert not simulate(plan, rate_hz=200, seed=2).lost.any()


def test_si_values_are_decoded_counts_and_saturate() -> None:
    plan = plan_set("knee-drive", Leg.RIGHT, 4, np.random.default_rng(3))
    s = simulate(
        plan, rate_hz=100, seed=3, conditions=Conditions.realistic().with_(gyr_range_dps=125)
    )
    assert s.acc_raw.dtype == np.int16 and s.gyr_raw.dtype == np.int16
    np.testing.assert_array_equal(
        s.acc_mps2, s.acc_raw.astype(np.float64) * s.info.acc_scale_mps2_per_lsb
    )
    np.testing.assert_array_equal(
        s.gyr_radps, s.gyr_raw.astype(np.float64) * s.info.gyr_scale_radps_per_lsb
    )
    assert s.info.gyr_range_dps == 125 and s.info.sample_rate_hz == 100
    assert np.abs(s.gyr_raw.astype(int)).max() >= 32767  # knee drives exceed 125 deg/s
    assert np.abs(s.gyr_radps).max() <= np.radians(125.0) * 1.0001
