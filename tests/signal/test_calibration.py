import json

import numpy as np
import pytest
from bench_sets import benchmark_set

from hipsense.errors import CalibrationError
from hipsense.exercises import CATALOGUE, Leg, Posture
from hipsense.samples import SampleBatch
from hipsense.signal.angles import AnglePipeline, compute_angles, thigh_angles
from hipsense.signal.calibration import (
    MountingCalibration,
    calibrate_mounting,
    calibration_still_mask,
)
from hipsense.signal.calibration_tracker import CalibrationPhase, CalibrationTracker
from hipsense.signal.orientation import estimate_orientation_causal
from hipsense.sim import Conditions, SimSession, TruthRep, plan_set, simulate


def _session(
    exercise_id: str, leg: Leg, seed: int, n_reps: int = 3, *, with_calibration: bool = True
) -> SimSession:
    plan = plan_set(exercise_id, leg, n_reps, np.random.default_rng(seed),
                    with_calibration=with_calibration)  # fmt: skip
    cond = Conditions.clean().with_(random_mounting=True)
    return simulate(plan, rate_hz=100.0, seed=seed, conditions=cond)


def _calibrate(s: SimSession, posture: Posture) -> tuple[MountingCalibration, np.ndarray]:
    quat = estimate_orientation_causal(s.gyr_radps, s.acc_mps2, s.rate_hz)
    cal = calibrate_mounting(s.gyr_radps, s.acc_mps2, quat, s.rate_hz, posture=posture, leg=s.leg)
    return cal, quat


@pytest.mark.parametrize(("exercise_id", "leg", "seed"), [
    ("swing-forward", Leg.RIGHT, 1), ("swing-forward", Leg.LEFT, 2),
    ("swing-lateral", Leg.LEFT, 3), ("slr", Leg.RIGHT, 4), ("slr", Leg.LEFT, 5),
])  # fmt: skip
def test_automatic_calibration_is_within_0p3_deg_of_the_oracle(
    exercise_id: str, leg: Leg, seed: int
) -> None:
    s = _session(exercise_id, leg, seed)
    posture = CATALOGUE[exercise_id].posture
    cal, quat = _calibrate(s, posture)
    oracle = MountingCalibration.from_rotation(s.mounting.r_ts, posture, leg)
    got, want = np.stack(thigh_angles(quat, cal)), np.stack(thigh_angles(quat, oracle))
    rmse_deg = np.sqrt(np.mean((got - want) ** 2, axis=1))
    # Supine, abduction is a roll gravity barely sees: flexion is the angle that matters.
    assert (rmse_deg[:1] if posture is Posture.SUPINE else rmse_deg).max() < 0.3
    assert cal.grade == "good"


def test_supine_calibration_makes_the_raise_positive_for_either_mounting() -> None:
    for seed in range(6, 10):
        s = _session("slr", Leg.LEFT, seed)
        cal, quat = _calibrate(s, Posture.SUPINE)
        flexion, _ = thigh_angles(quat, cal)
        peak = max(r.peak_deg for r in s.reps)
        assert np.nanmax(flexion) == pytest.approx(peak, abs=1.0)


def test_moving_during_the_still_phase_is_refused_with_advice() -> None:
    s = _session("swing-forward", Leg.RIGHT, 1)
    cut = int((s.segments[0].end_s - 1.0) * s.rate_hz)
    quat = estimate_orientation_causal(s.gyr_radps, s.acc_mps2, s.rate_hz)
    with pytest.raises(CalibrationError, match=r"moved during the still phase"):
        calibrate_mounting(s.gyr_radps[cut:], s.acc_mps2[cut:], quat[cut:], s.rate_hz,
                           posture=Posture.STANDING, leg=Leg.RIGHT)  # fmt: skip


def test_circles_are_not_a_forward_swing() -> None:
    s = _session("hip-circles", Leg.RIGHT, 2, with_calibration=False)
    with pytest.raises(CalibrationError, match="not a forward swing"):
        _calibrate(s, Posture.STANDING)


def test_lying_still_throughout_is_no_raise_not_a_crash() -> None:
    """A supine file with no raise at all: the whole of it is the still phase (it used to
    end in numpy's "zero-size array to reduction operation")."""
    n = 400
    rng = np.random.default_rng(2)
    gyr = rng.normal(0.0, 0.002, (n, 3))
    acc = np.array([0.0, 9.81, 0.0]) + rng.normal(0.0, 0.01, (n, 3))
    quat = estimate_orientation_causal(gyr, acc, 100.0)
    with pytest.raises(CalibrationError, match="no leg raise seen"):
        calibrate_mounting(gyr, acc, quat, 100.0, posture=Posture.SUPINE, leg=Leg.RIGHT)


def test_one_swing_is_too_few() -> None:
    s = _session("swing-forward", Leg.LEFT, 4, n_reps=1, with_calibration=False)
    with pytest.raises(CalibrationError, match="only 1 swing seen"):
        _calibrate(s, Posture.STANDING)


def test_calibration_round_trips_through_json_and_rejects_garbage() -> None:
    cal, _ = _calibrate(_session("swing-forward", Leg.RIGHT, 1), Posture.STANDING)
    again = MountingCalibration.from_dict(json.loads(json.dumps(cal.to_dict())))
    assert again == cal and again.quality == cal.quality
    with pytest.raises(CalibrationError, match="calibrate again"):
        MountingCalibration.from_dict({"posture": "standing", "leg": "left"})
    with pytest.raises(CalibrationError, match="not a rotation"):
        MountingCalibration.from_dict({**cal.to_dict(), "thigh_axes_in_sensor": np.eye(3) * 2})


def _feed(tracker: CalibrationTracker, s: SimSession, quat: np.ndarray) -> list[CalibrationPhase]:
    phases = []
    for lo in range(0, len(s), 7):
        sl = slice(lo, lo + 7)
        phases.append(tracker.update(s.gyr_radps[sl], s.acc_mps2[sl], quat[sl]).phase)
    return phases


def test_tracker_guides_through_the_phases_and_matches_the_offline_fit() -> None:
    s = _session("swing-forward", Leg.LEFT, 2)
    quat = estimate_orientation_causal(s.gyr_radps, s.acc_mps2, s.rate_hz)
    tracker = CalibrationTracker(s.rate_hz, Posture.STANDING, Leg.LEFT)
    phases = _feed(tracker, s, quat)
    order = list(dict.fromkeys(phases))
    assert order == [CalibrationPhase.STILL, CalibrationPhase.MOVE,
                     CalibrationPhase.STILL_AGAIN, CalibrationPhase.DONE]  # fmt: skip
    assert tracker.calibration is not None
    offline, _ = _calibrate(s, Posture.STANDING)
    np.testing.assert_allclose(tracker.calibration.r_ts, offline.r_ts, atol=2e-3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_guide_never_steps_back_at_a_swing_s_turnaround(seed: int) -> None:
    """A swing's turnaround looks still for a moment; the guide used to say "stand still
    again" there and then "swing" again, three times a routine."""
    leg = Leg.LEFT if seed % 2 else Leg.RIGHT
    plan = plan_set("swing-forward", leg, 2, np.random.default_rng(seed))
    s = simulate(plan, rate_hz=100.0, seed=seed, conditions=Conditions.realistic())
    quat = estimate_orientation_causal(s.gyr_radps, s.acc_mps2, s.rate_hz)
    phases = _feed(CalibrationTracker(s.rate_hz, Posture.STANDING, leg), s, quat)
    steps = list(CalibrationPhase)
    rank = [steps.index(p) for p in phases[: phases.index(CalibrationPhase.DONE) + 1]]
    assert rank == sorted(rank) and rank[-1] == steps.index(CalibrationPhase.DONE)


def test_a_still_phase_the_guide_accepted_calibrates_offline_too() -> None:
    """Knee drives right after a 2.25 s still phase: the guide (live, and analyze's live pass)
    accepted it, while the offline still mask, its windows seeing the first drive coming,
    counted 1.93 s and refused: "stand still again for 2 s after the swings"."""
    s = benchmark_set("knee-drive", 4001, Conditions.clean().with_(random_mounting=True))
    leg = s.leg
    still_again = s.segments[2]
    assert still_again.kind == "still" and still_again.end_s - still_again.start_s < 2.3
    quat = estimate_orientation_causal(s.gyr_radps, s.acc_mps2, s.rate_hz)
    tracker = CalibrationTracker(s.rate_hz, Posture.STANDING, leg)
    assert _feed(tracker, s, quat)[-1] is CalibrationPhase.DONE and tracker.calibration is not None
    offline = calibrate_mounting(s.gyr_radps, s.acc_mps2, quat, s.rate_hz, posture=Posture.STANDING,
                                 leg=leg, t_s=s.t_s)  # fmt: skip
    np.testing.assert_allclose(offline.r_ts, tracker.calibration.r_ts, atol=2e-3)


def test_a_rest_cut_by_lost_samples_and_ended_in_one_batch_calibrates_before_the_set() -> None:
    # Seed 10263 (realistic, 50 Hz): 2.3 s at rest after the swings, 0.4 s of it lost, and
    # the batch bringing the rest's last samples brought the first knee drive too. The still
    # mask's windows see the drive coming: the guide saw 1.5 s of rest and calibrated only
    # in the set's pause, the first drives fused without the lever arm (3.9 deg off).
    s = benchmark_set("knee-drive", 10263, Conditions.realistic())
    rest, first_drive = s.segments[2], s.reps[0]
    assert rest.kind == "still" and rest.end_s - rest.start_s < 2.4
    assert s.lost[(s.t_s > rest.start_s) & (s.t_s < rest.end_s)].sum() >= 20
    keep = ~s.lost
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    pipe = AnglePipeline(s.rate_hz, Posture.STANDING, s.leg)
    seen = 0
    while pipe.calibration is None and seen < len(t):
        pipe.update(SampleBatch("sim", t[seen : seen + 10], acc[seen : seen + 10],
                                gyr[seen : seen + 10]))  # fmt: skip
        seen += 10
    assert pipe.calibration is not None and t[seen - 1] < first_drive.end_s
    assert pipe.calibration.lever_arm_in_sensor_m is not None


def test_tracker_restarts_after_an_early_move_and_says_why() -> None:
    s = _session("swing-forward", Leg.RIGHT, 3)
    cut = int((s.segments[0].end_s - 0.8) * s.rate_hz)
    quat = estimate_orientation_causal(s.gyr_radps, s.acc_mps2, s.rate_hz)
    tracker = CalibrationTracker(s.rate_hz, Posture.STANDING, Leg.RIGHT)
    tracker.update(s.gyr_radps[cut : cut + 150], s.acc_mps2[cut : cut + 150], quat[cut : cut + 150])
    # why, then what to do: the phase's hint, not a second instruction in the problem
    assert tracker.progress.problem == "you moved during the still phase"
    assert tracker.progress.message == "stand still"
    assert tracker.progress.phase is CalibrationPhase.STILL


def test_standing_calibration_fits_the_lever_arm_within_2_cm() -> None:
    for seed in (1, 2):
        s = _session("swing-forward", Leg.RIGHT, seed)
        cal, _ = _calibrate(s, Posture.STANDING)
        assert cal.lever_arm_in_sensor_m is not None
        miss = np.array(cal.lever_arm_in_sensor_m) - s.mounting.r_ts.T @ s.mounting.lever_arm_m
        # Along the swing axis the arm adds no acceleration: unobservable, and irrelevant.
        axis = cal.r_ts[1]
        assert np.linalg.norm(miss - (miss @ axis) * axis) < 0.02
        again = MountingCalibration.from_dict(json.loads(json.dumps(cal.to_dict())))
        assert again.lever_arm_in_sensor_m == cal.lever_arm_in_sensor_m


def _realistic_slr_251() -> SimSession:
    """A realistic supine set whose first raise began in a lost burst (50 Hz, left leg)."""
    rng = np.random.default_rng(10_251)
    leg = Leg.LEFT if rng.random() < 0.5 else Leg.RIGHT
    rate = float(rng.choice([50.0, 100.0, 200.0]))
    plan = plan_set("slr", leg, 8, rng)
    return simulate(plan, rate_hz=rate, seed=251, conditions=Conditions.realistic())


def _flexion_rmse_deg(s: SimSession, t: np.ndarray, flexion: np.ndarray) -> float:
    in_set = np.zeros(len(t), bool)
    for g in s.segments:
        if g.kind == "set":
            in_set |= (t >= g.start_s) & (t < g.end_s)
    truth = np.interp(t, s.t_s, s.flexion_deg)
    ok = in_set & np.isfinite(flexion)
    return float(np.sqrt(np.mean((flexion[ok] - truth[ok]) ** 2)))


def _live_supine_rmse_deg(s: SimSession, from_s: float = 0.0) -> float:
    """The set's flexion RMSE as a self-calibrating session shows it lying (the samples
    before the calibration back-filled once it is known), fed from ``from_s`` on."""
    keep = ~s.lost & (s.t_s >= from_s)
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    pipe = AnglePipeline(s.rate_hz, Posture.SUPINE, s.leg)
    out = [pipe.update(SampleBatch("sim", t[i : i + 10], acc[i : i + 10], gyr[i : i + 10]))
           for i in range(0, len(t), 10)]  # fmt: skip
    back = next(o.backfill for o in out if o.backfill is not None)
    live = [back, *(o for o in out if o.t_s[0] > back.t_s[-1])]
    flex_live = np.concatenate([o.flexion_deg for o in live])
    return _flexion_rmse_deg(s, np.concatenate([o.t_s for o in live]), flex_live)


def test_a_raise_hidden_by_lost_samples_is_no_still_phase() -> None:
    # The raise began in a burst of lost samples and stayed hidden until the orientation
    # re-anchored at the top: rest and hold met and read as one still phase 20 deg up.
    s = _realistic_slr_251()
    assert (s.rate_hz, s.leg) == (50.0, Leg.LEFT)
    assert _live_supine_rmse_deg(s) < 1.5
    keep = ~s.lost
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    offline = compute_angles(t, acc, gyr, s.rate_hz, posture=Posture.SUPINE, leg=s.leg)
    assert _flexion_rmse_deg(s, t, offline.flexion_deg) < 1.5


def test_a_rest_cut_short_is_not_taken_up_from_the_top_of_the_raise() -> None:
    # Lost packets took 0.4 s off the 2.2 s rest before the first raise, so the still phase
    # was too short; the next one was the raise's 2 s hold at 64 deg. Calibrated from there,
    # the lowering read as the raise, flipped positive: the resting leg showed 64 deg.
    s = benchmark_set("slr", 8017, Conditions.realistic())
    assert s.rate_hz == 50.0 and s.segments[0].kind == "still"
    assert s.lost[(s.t_s > s.segments[0].end_s - 0.35) & (s.t_s < s.segments[0].end_s)].all()
    assert _live_supine_rmse_deg(s) < 1.0


def _first_raise(
    s: SimSession,
) -> tuple[np.ndarray, MountingCalibration, TruthRep, np.ndarray, float]:
    """A right-leg SLR set's causal fusion, oracle mounting, first raise, its samples and the
    time of its top."""
    quat = estimate_orientation_causal(s.gyr_radps, s.acc_mps2, s.rate_hz)
    oracle = MountingCalibration.from_rotation(s.mounting.r_ts, Posture.SUPINE, Leg.RIGHT)
    first = s.reps[0]
    rep = (s.t_s >= first.start_s) & (s.t_s < first.end_s)
    return quat, oracle, first, rep, float(s.t_s[rep][np.argmax(s.flexion_deg[rep])])


def test_a_gap_the_leg_moved_across_splits_the_still_phase() -> None:
    s = _session("slr", Leg.RIGHT, 6)
    quat, oracle, first, _, top = _first_raise(s)
    keep = ~((s.t_s >= first.start_s) & (s.t_s < top))  # the whole way up is missing
    t, g, a, q = s.t_s[keep], s.gyr_radps[keep], s.acc_mps2[keep], quat[keep]
    tracker = CalibrationTracker(s.rate_hz, Posture.SUPINE, Leg.RIGHT)
    for lo in range(0, len(g), 7):
        sl = slice(lo, lo + 7)
        tracker.update(g[sl], a[sl], q[sl], t[sl])
    fit = calibrate_mounting(g, a, q, s.rate_hz, posture=Posture.SUPINE, leg=Leg.RIGHT, t_s=t)
    for cal in (fit, tracker.calibration):
        assert cal is not None
        miss = thigh_angles(quat, cal)[0] - thigh_angles(quat, oracle)[0]
        assert np.sqrt(np.mean(miss**2)) < 0.5


def test_a_raise_hidden_on_its_way_up_is_seen_at_its_top() -> None:
    # The way up lost (a burst, then hidden until the orientation re-anchored at the top):
    # the gyro the tracker gets turns 0 deg, but the fused up stands far from the rest's.
    # The tracker must calibrate on the top hold, not restart with the hold as its "rest".
    for seed in (6, 7, 8):
        s = _session("slr", Leg.RIGHT, seed)
        quat, oracle, first, rep, top = _first_raise(s)
        hold = rep & (s.t_s > top) & (s.flexion_deg > first.peak_deg - 0.5)
        keep = (s.t_s < first.start_s) | (hold & (s.t_s > top + 0.1))
        t, g, a, q = s.t_s[keep], s.gyr_radps[keep], s.acc_mps2[keep], quat[keep]
        tracker = CalibrationTracker(s.rate_hz, Posture.SUPINE, Leg.RIGHT)
        problems = {tracker.update(g[i : i + 7], a[i : i + 7], q[i : i + 7], t[i : i + 7]).problem
                    for i in range(0, len(g), 7)}  # fmt: skip
        assert problems == {None} and tracker.calibration is not None
        miss = thigh_angles(quat, tracker.calibration)[0] - thigh_angles(quat, oracle)[0]
        assert np.sqrt(np.mean(miss**2)) < 0.5


def test_samples_lost_at_rest_count_towards_the_still_phase() -> None:
    s = _session("swing-forward", Leg.LEFT, 2)
    quat = estimate_orientation_causal(s.gyr_radps, s.acc_mps2, s.rate_hz)
    rest_s = s.segments[0].end_s
    assert rest_s < 2.9  # 0.8 s lost leaves less than 2 s of samples
    keep = ~((s.t_s >= 0.5) & (s.t_s < 1.3))
    t, g, a, q = s.t_s[keep], s.gyr_radps[keep], s.acc_mps2[keep], quat[keep]
    oracle = MountingCalibration.from_rotation(s.mounting.r_ts, Posture.STANDING, Leg.LEFT)
    for times in (t, None):  # without times the samples are taken as consecutive
        tracker = CalibrationTracker(s.rate_hz, Posture.STANDING, Leg.LEFT)
        problems = {tracker.update(g[i : i + 7], a[i : i + 7], q[i : i + 7],
                                   None if times is None else times[i : i + 7]).problem
                    for i in range(0, len(g), 7)}  # fmt: skip
        if times is None:
            # shown as "you moved during the still phase — stand still", not with a
            # second instruction before the phase's hint
            assert "you moved during the still phase" in problems
            continue
        assert problems == {None} and tracker.calibration is not None
        miss = thigh_angles(quat, tracker.calibration)[0] - thigh_angles(quat, oracle)[0]
        assert np.sqrt(np.mean(miss**2)) < 0.3


class _WholeBufferMask(CalibrationTracker):
    """The reference: the still mask of the whole buffer on every batch."""

    def _still_mask(self) -> np.ndarray:
        b = self._buf
        t = b[:, 10]
        return calibration_still_mask(b[:, 0:3], b[:, 3:6], self.rate_hz, self.params, t)


@pytest.mark.parametrize(
    ("exercise_id", "seed", "batch"),
    [("swing-forward", 3, 7), ("slr", 4, 10), ("swing-lateral", 5, 23)],
)
def test_tracker_masks_only_what_is_new_with_identical_results(
    exercise_id: str, seed: int, batch: int
) -> None:
    s = simulate(plan_set(exercise_id, Leg.RIGHT, 3, np.random.default_rng(seed)),
                 rate_hz=100.0, seed=seed, conditions=Conditions.realistic())  # fmt: skip
    start = int(1.2 * s.rate_hz)  # moving early: the routine restarts once at least
    g, a = s.gyr_radps[start:], s.acc_mps2[start:]
    q = estimate_orientation_causal(g, a, s.rate_hz)
    posture = CATALOGUE[exercise_id].posture
    fast = CalibrationTracker(s.rate_hz, posture, Leg.RIGHT)
    slow = _WholeBufferMask(s.rate_hz, posture, Leg.RIGHT)
    for lo in range(0, len(g), batch):
        sl = slice(lo, lo + batch)
        assert fast.update(g[sl], a[sl], q[sl]) == slow.update(g[sl], a[sl], q[sl])
    assert fast.calibration is not None and fast.calibration == slow.calibration


def test_lying_the_raise_axis_waits_for_a_clear_raise() -> None:
    # Seed 15008 (clean, 50 Hz): a calibration attempt began before a 13 deg raise that left
    # the sagittal plane by 14 deg. Fitted on it alone, the flexion axis was 14 deg off and
    # the set's high raises read 1 % low (0.59 deg RMSE against the oracle's 0.33). The
    # clear raise after it now joins the fit. (The session starts at the rest before it: the
    # first attempt, cut short then, now stands, see the next test.)
    s = benchmark_set("slr", 15008, Conditions.clean())
    small = s.reps[3]
    assert small.peak_deg < 15.0
    keep = ~s.lost & (s.t_s >= s.reps[2].end_s)
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    pipe = AnglePipeline(s.rate_hz, Posture.SUPINE, s.leg)
    calibrated_s = next(
        float(t[i])
        for i in range(0, len(t), 10)
        if pipe.update(SampleBatch("sim", t[i : i + 10], acc[i : i + 10], gyr[i : i + 10])).backfill
        is not None
    )
    assert pipe.calibration is not None and calibrated_s > s.reps[4].peak_s
    cos = abs(float(pipe.calibration.r_ts[1] @ s.mounting.r_ts[1]))
    assert np.degrees(np.arccos(min(1.0, cos))) < 2.0
    assert _live_supine_rmse_deg(s, from_s=s.reps[2].end_s) < 0.45


def test_a_still_phase_the_guide_accepted_stands_once_the_movement_begins() -> None:
    # Seed 18021 (clean, 100 Hz): the first raise began 2.27 s in. The guide asked for it
    # after 2 s still; the raise then drew the still mask's end back (its windows see ahead)
    # and the attempt was dropped as a false start ("you moved during the still phase").
    # The next raise was the set's low one, 18 deg and 15 deg off the sagittal plane: the
    # flexion axis fitted on it was 15 deg off (0.49 deg RMSE from the oracle).
    s = benchmark_set("slr", 18021, Conditions.clean())
    quat = estimate_orientation_causal(s.gyr_radps, s.acc_mps2, s.rate_hz)
    tracker = CalibrationTracker(s.rate_hz, Posture.SUPINE, s.leg)
    phases = _feed(tracker, s, quat)
    asked = phases.index(CalibrationPhase.MOVE)
    done = phases.index(CalibrationPhase.DONE)
    assert CalibrationPhase.STILL not in phases[asked:done]
    assert done * 7 / s.rate_hz < s.reps[1].start_s  # the first raise calibrated
    assert tracker.calibration is not None
    cos = abs(float(tracker.calibration.r_ts[1] @ s.mounting.r_ts[1]))
    assert np.degrees(np.arccos(min(1.0, cos))) < 2.0
