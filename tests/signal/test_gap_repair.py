"""Gap bridges: lost samples published as bridged, untrusted bridges repaired at their check."""

import itertools

import numpy as np
import numpy.typing as npt
import pytest
from bench_sets import benchmark_set

from hipsense.events import AngleUpdate
from hipsense.exercises import CATALOGUE, Leg, Posture
from hipsense.samples import SampleBatch
from hipsense.session.pipeline import SensorPipeline
from hipsense.signal.angles import AngleBatch, AnglePipeline, Published, compute_angles
from hipsense.signal.calibration import MountingCalibration
from hipsense.signal.gap_fill import Expanded, gap_bridges, insert_bridges
from hipsense.signal.orientation import (
    OrientationEstimator,
    quat_from_rotvec,
    quat_multiply,
    up_in_sensor,
)
from hipsense.signal.propagation import (
    UNTRUSTED_RULE,
    BridgeState,
    Fix,
    _check_fails,
    _resolve,
    _running_product,
    arc_to_up,
    partial_rotation,
)
from hipsense.sim import Conditions, SimSession, TruthRep, plan_set, simulate


def _slr(seed: int) -> SimSession:
    plan = plan_set("slr", Leg.RIGHT, 4, np.random.default_rng(seed))
    return simulate(plan, rate_hz=50.0, seed=seed, conditions=Conditions.clean())


def _shown(
    s: SimSession, keep: np.ndarray, cal: MountingCalibration, *, size: int = 10
) -> AngleBatch:
    """Every row a session shows (its values before ``unshown`` hides any), fed ``size``
    samples at a time."""
    pipe = AnglePipeline(s.rate_hz, cal.posture, cal.leg, cal)
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    batches = [SampleBatch("s", t[i : i + size], acc[i : i + size], gyr[i : i + size])
               for i in range(0, len(t), size)]  # fmt: skip
    rows = _published([pipe.update(b) for b in batches], cal.posture)
    t_s, flexion, abduction, quat, valid, bridged = (
        np.concatenate([getattr(r, f) for r in rows])
        for f in ("t_s", "flexion_deg", "abduction_deg", "quat_wxyz", "valid", "bridged")
    )
    return AngleBatch(t_s, flexion, abduction, quat, valid, bridged=bridged)


def _published(outs: list[AngleBatch], posture: Posture) -> list[AngleBatch]:
    """The rows a session shows for these pipeline outputs, revisions and holds applied."""
    shown = Published.for_posture(posture)
    rows = [shown.add(o) for o in outs]
    return rows + [r for r in [shown.finish()] if r is not None]


def _self_calibrated_flexion(s: SimSession, posture: Posture) -> tuple[np.ndarray, np.ndarray]:
    """(t, flexion) a self-calibrating session shows for the received samples: the history
    back-filled once calibrated, then each batch with its revisions and holds."""
    t_s, flexion, _ = _self_calibrated_rows(s, posture)
    return t_s, flexion


def _self_calibrated_rows(
    s: SimSession, posture: Posture
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As ``_self_calibrated_flexion``, and when each row was shown (the time of the last
    sample received then), fed 10 samples at a time."""
    pipe = AnglePipeline(s.rate_hz, posture, s.leg)
    keep = ~s.lost
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    outs = [pipe.update(SampleBatch("s", t[i : i + 10], acc[i : i + 10], gyr[i : i + 10]))
            for i in range(0, len(t), 10)]  # fmt: skip
    k = next(i for i, o in enumerate(outs) if o.backfill is not None)
    back = outs[k].backfill
    assert back is not None
    shown = Published.for_posture(posture)
    # The back-fill is released whole, as the session releases it (``SensorPipeline``).
    rows = [(shown.add_all(back) if i == k else shown.add(o), t[min(10 * i + 10, len(t)) - 1])
            for i, o in enumerate([back, *outs[k + 1 :]], start=k)]  # fmt: skip
    rows += [(r, t[-1]) for r in [shown.finish()] if r is not None]
    return (np.concatenate([r.t_s for r, _ in rows]),
            np.concatenate([r.flexion_deg for r, _ in rows]),
            np.concatenate([np.full(len(r), at) for r, at in rows]))  # fmt: skip


def _lost_top(s: SimSession, index: int) -> tuple[TruthRep, np.ndarray]:
    """A rep, and the received samples with a 20-sample burst lost over its top."""
    rep = s.reps[index]
    near_top = np.flatnonzero(
        (s.t_s >= rep.start_s) & (s.t_s <= rep.end_s) & (s.flexion_deg > rep.peak_deg - 1.5)
    )
    mid = (near_top[0] + near_top[-1]) // 2
    keep = np.ones(len(s), bool)
    keep[mid - 10 : mid + 10] = False  # 0.4 s at 50 Hz
    return rep, keep


# Seed 31's fourth raise is quick (1.3 s, no hold at its top). With nothing lost the fusion
# shows that top 0.53 deg low (the raise's own acceleration, no lever arm removed lying):
# the two tests below measure the bridge against that session, not against the truth.


def test_an_slr_top_lost_in_a_burst_is_shown_bridged() -> None:
    s = _slr(31)
    rep, keep = _lost_top(s, 3)
    cal = MountingCalibration.from_rotation(s.mounting.r_ts, Posture.SUPINE, Leg.RIGHT)
    out, whole = _shown(s, keep, cal), _shown(s, np.ones(len(s), dtype=bool), cal)
    assert np.all(np.diff(out.t_s) > 0)
    assert out.bridged is not None and out.bridged.sum() >= 20
    window = (out.t_s >= rep.start_s) & (out.t_s <= rep.end_s)
    received = window & ~out.bridged
    assert rep.peak_deg - np.nanmax(out.flexion_deg[received]) > 0.5  # the top really is lost
    whole_top = np.nanmax(whole.flexion_deg[(whole.t_s >= rep.start_s) & (whole.t_s <= rep.end_s)])
    assert abs(np.nanmax(out.flexion_deg[window]) - whole_top) < 0.05
    lost_t = s.t_s[~keep]
    np.testing.assert_allclose(out.t_s[out.bridged], lost_t, atol=1e-9)


@pytest.mark.parametrize("batch_size", [2, 3, 5, 7, 8, 10])
def test_a_top_lost_in_a_burst_is_reported_as_if_nothing_was_lost(batch_size: int) -> None:
    # The bridge eases the leg into its top and out of it; the cubic came out 0.5 deg low or
    # high of the session that lost nothing as the batches split (where the sample after
    # the burst fell) and only 2, 7 and 11 samples at a time came near the truth.
    s = _slr(31)
    rep, keep = _lost_top(s, 3)
    lost = _session_peak_deg(s, keep, rep, batch_size)
    whole = _session_peak_deg(s, np.ones(len(s), dtype=bool), rep, batch_size)
    assert abs(lost - whole) < 0.05


def _session_peak_deg(s: SimSession, keep: np.ndarray, rep: TruthRep, batch_size: int) -> float:
    """The peak a session (true mounting) reports for ``rep``, fed the ``keep`` samples
    ``batch_size`` at a time."""
    cal = MountingCalibration.from_rotation(s.mounting.r_ts, Posture.SUPINE, Leg.RIGHT)
    pipe = SensorPipeline("s", 50.0, CATALOGUE["slr"], Leg.RIGHT, cal)
    t, acc, gyr, n = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep], batch_size
    for i in range(0, len(t), n):
        pipe.feed(SampleBatch("s", t[i : i + n], acc[i : i + n], gyr[i : i + n]))
    pipe.finish()
    mine = [r for r in pipe.reps if r.start_s <= rep.end_s and r.end_s >= rep.start_s]
    assert len(mine) == 1
    return mine[0].peak_deg


def _bridged_on_one_axis(rate: np.ndarray, axis: int, lost: slice) -> tuple[Expanded, float]:
    """The gyro turning at ``rate`` (rad/s, 50 Hz) about one axis with the ``lost`` samples
    lost: the expanded rows, and the bridge's turn away from the straight line (deg)."""
    gyr = np.zeros((len(rate), 3))
    gyr[:, axis] = rate
    received = np.ones(len(rate), dtype=bool)
    received[lost] = False
    got = np.flatnonzero(received)
    missing = np.diff(got, prepend=-1) - 1
    bridges = gap_bridges(gyr[got], np.zeros((2, 3)), missing)
    x = insert_bridges(bridges, np.zeros((len(got), 3)), np.ones(len(got), dtype=bool))
    return x, float(bridges.turn_deg(50.0)[lost.start])


def _off_the_line_deg(rate: np.ndarray, lost: slice) -> float:
    """How far the true rate over ``lost`` turned away from the straight line across it."""
    line = np.linspace(rate[lost.start - 1], rate[lost.stop], lost.stop - lost.start + 2)[1:-1]
    return abs(float(np.degrees(np.sum(rate[lost] - line) / 50.0)))


def test_a_leg_easing_into_a_rest_and_out_of_it_is_bridged_easing_when_the_taper_says_so() -> None:
    # A raise's top: the rate falls as the square of the time left to it over 12 samples,
    # rests 16, and rises so again, the other way (rad/s, 50 Hz); 28 samples lost across it.
    down = 2.0 * (1 - np.arange(12) / 12) ** 2
    rate = np.concatenate([np.full(10, 2.0), down, np.zeros(16), -down[::-1], np.full(10, -2.0)])
    gyr = np.zeros((len(rate), 3))
    gyr[:, 1] = rate
    got = np.flatnonzero((np.arange(len(rate)) < 16) | (np.arange(len(rate)) >= 44))
    missing = np.diff(got, prepend=-1) - 1
    worst: dict[float, float] = {}
    for taper in (1.0, 2.0):
        bridges = gap_bridges(gyr[got], np.zeros((2, 3)), missing, taper=taper)
        assert bridges.rests[missing > 0, 0] > 0  # a rest inside the gap, both ways
        x = insert_bridges(bridges, np.zeros((len(got), 3)), np.ones(len(got), dtype=bool))
        worst[taper] = float(np.max(np.abs(np.cumsum(x.gyr_radps[:, 1] - rate)))) / 50.0
    assert np.degrees(worst[2.0]) < 0.15
    assert np.degrees(worst[1.0]) > 0.5  # a steady slowing rests the leg too soon


def test_a_leg_stopping_inside_a_gap_is_bridged_slowing_as_it_did_then_still() -> None:
    # The rate falls by 0.5 rad/s per sample from 5 rad/s to rest: lost from 3.5 rad/s on.
    rate = np.maximum(5.0 - 0.5 * np.arange(24), 0.0)
    lost = slice(3, 15)  # it stops 8 periods into the 13-period gap, and stays still after it
    x, turn = _bridged_on_one_axis(rate, 0, lost)
    np.testing.assert_allclose(x.gyr_radps[:, 0], rate[: len(x.gyr_radps)], atol=1e-12)
    assert x.stop_periods is not None and x.stop_periods[3] == pytest.approx(8.0)
    # a cubic through the same edges would have kept the leg turning across the whole gap
    assert turn == pytest.approx(_off_the_line_deg(rate, lost))


def test_a_leg_landing_inside_a_gap_is_bridged_stopping_though_its_ringing_still_slows() -> None:
    # 200 Hz: a drive lands, its rate falling by 0.2 rad/s per sample to rest, and the foot
    # strike rings on at 12 Hz, decaying. 0.1 s lost from 1.4 rad/s on: after the gap the
    # rate is 12 deg/s and still falling towards rest, by 4.3 deg/s per sample, more than a
    # quarter of its fall into the gap (a leg at rest changes less). A swing's turning point
    # is slow too, but its rate moves away from rest: that one is no stop.
    t = np.arange(1, 60) / 200.0
    ring = -0.8 * np.exp(-t / 0.06) * np.sin(2 * np.pi * 12.0 * t)
    rate = np.concatenate([np.maximum(2.0 - 0.2 * np.arange(11), 0.0), ring])
    lost = slice(4, 24)
    gyr = np.zeros((len(rate), 3))
    gyr[:, 2] = rate
    got = np.flatnonzero((np.arange(len(rate)) < lost.start) | (np.arange(len(rate)) >= lost.stop))
    missing = np.diff(got, prepend=-1) - 1
    bridges = gap_bridges(gyr[got], np.zeros((2, 3)), missing)
    assert bridges.stop[missing > 0] > 0
    lying = gap_bridges(gyr[got], np.zeros((2, 3)), missing, ringing=False)
    assert lying.stop[missing > 0] == 0  # no foot strike rings lying down
    x = insert_bridges(bridges, np.zeros((len(got), 3)), np.ones(len(got), dtype=bool))
    true_deg = np.degrees(np.sum(rate[lost])) / 200.0
    u, h = np.arange(1, 21) / 21, 21  # a cubic through the same edges and slopes missed:
    p0, p1, m0, m1 = rate[3], rate[24], rate[3] - rate[2], rate[25] - rate[24]
    cubic = ((2 * u**3 - 3 * u**2 + 1) * p0 + (u**3 - 2 * u**2 + u) * h * m0
             + (3 * u**2 - 2 * u**3) * p1 + (u**3 - u**2) * h * m1)  # fmt: skip
    assert np.degrees(np.sum(cubic)) / 200.0 - true_deg > 2.5
    assert abs(np.degrees(np.sum(x.gyr_radps[lost, 2])) / 200.0 - true_deg) < 1.5
    # 50 Hz: braked by 0.4 rad/s per sample to its turn, then back at 0.1 rad/s per sample:
    # 23 deg/s after the gap, moving away from rest.
    swing = np.where(np.arange(24) <= 10, 4.0 - 0.4 * np.arange(24), -0.1 * (np.arange(24) - 10))
    x, _ = _bridged_on_one_axis(swing, 2, slice(3, 14))
    assert x.stop_periods is None


def test_a_leg_starting_inside_a_gap_is_bridged_still_then_speeding_up_as_after_it() -> None:
    # At rest, then the rate rises by 0.5 rad/s per sample: it starts 5 periods into a
    # 13-period gap and is at 3.5 rad/s, still speeding up, after it.
    rate = np.clip(0.5 * (np.arange(24) - 8), 0.0, None)
    lost = slice(3, 15)
    x, turn = _bridged_on_one_axis(rate, 2, lost)
    np.testing.assert_allclose(x.gyr_radps[:, 2], rate[: len(x.gyr_radps)], atol=1e-12)
    u = np.arange(1, 13) / 13  # a cubic through the same edges (slopes 0 and 0.5) missed:
    cubic = (3 * u**2 - 2 * u**3) * 3.5 + (u**3 - u**2) * 13 * 0.5
    assert np.degrees(np.sum(cubic) - np.sum(rate[lost])) / 50.0 > 4.0
    assert turn == pytest.approx(_off_the_line_deg(rate, lost))


def test_a_leg_coming_to_rest_and_setting_off_inside_a_gap_is_bridged_still_between() -> None:
    # A drive comes down slowing by 0.5 rad/s per sample, the foot rests 8 periods and the
    # next drive sets off speeding up by 0.8 rad/s per sample. 14 samples are lost (0.28 s at
    # 50 Hz) between 1.5 rad/s on the way down and -3.2 rad/s on the way up, the rest inside
    # them. A cubic through those edges and slopes follows a swing turning round: it carried
    # the leg on through the rest (seed 21287: 5.9 deg off in one 0.2 s burst).
    down = np.maximum(4.0 - 0.5 * np.arange(9), 0.0)  # 4 rad/s to rest in 8 periods
    up = -0.8 * np.arange(1, 9)  # the next drive, the other way round
    rate = np.concatenate([down, np.zeros(8), up])
    lost = slice(6, 20)  # slowing 3 samples (1.0 rad/s to rest), 8 at rest, 3 speeding up
    x, turn = _bridged_on_one_axis(rate, 2, lost)
    bridged = np.degrees(np.sum(x.gyr_radps[lost, 2]) / 50.0)
    true = np.degrees(np.sum(rate[lost]) / 50.0)
    assert bridged == pytest.approx(true, abs=0.2)
    np.testing.assert_allclose(x.gyr_radps[:, 2], rate[: len(x.gyr_radps)], atol=1e-12)
    assert turn == pytest.approx(_off_the_line_deg(rate, lost))


def test_a_resting_leg_is_bridged_still_whatever_its_wobble_at_the_edges() -> None:
    # At rest the gyro swings +-0.35 rad/s (20 deg/s) at 12 Hz: soft-tissue wobble. Its
    # slope at a gap's edges is no motion of the leg; carried on as the cubic's slopes it
    # turned the leg by degrees over a 0.2 s gap (100 Hz), where the wobble turns it by 0.2.
    t = np.arange(60) / 100.0
    wobble = 0.35 * np.sin(2 * np.pi * 12.0 * t + 0.3)
    gyr = np.zeros((60, 3))
    gyr[:, 1] = wobble
    lost = np.zeros(60, dtype=bool)
    lost[24:44] = True
    got = np.flatnonzero(~lost)
    missing = np.diff(got, prepend=-1) - 1
    bridges = gap_bridges(gyr[got], np.zeros((2, 3)), missing)
    x = insert_bridges(bridges, np.zeros((len(got), 3)), np.ones(len(got), dtype=bool))
    bridged_deg = np.degrees(np.sum(x.gyr_radps[24:44, 1]) / 100.0)
    true_deg = np.degrees(np.sum(wobble[24:44]) / 100.0)
    assert abs(true_deg) < 0.3 and abs(bridged_deg - true_deg) < 1.0
    # the planning's measure of the bridge's turn sees the same bridge
    turn = bridges.turn_deg(100.0)
    line = np.linspace(wobble[23], wobble[44], 22)[1:-1]
    assert turn[24] == pytest.approx(abs(np.degrees(np.sum(x.gyr_radps[24:44, 1] - line) / 100.0)))


def test_a_raise_halted_inside_a_burst_is_not_shown_past_its_top() -> None:
    # A quick raise halted at its top and held 0.32 s: lost from 0.12 s before the top (the
    # leg already slowing) into the hold, 0.32 s at 50 Hz. A cubic bridge carried the leg on
    # past the top (1.4-4.9 deg) before the check at the hold pulled it back.
    over = []
    for seed in (31, 33, 35, 37):
        s = _slr(seed)
        cal = MountingCalibration.from_rotation(s.mounting.r_ts, Posture.SUPINE, Leg.RIGHT)
        for rep in s.reps:
            inside = np.flatnonzero((s.t_s >= rep.start_s) & (s.t_s <= rep.end_s))
            top = inside[np.argmax(s.flexion_deg[inside] > rep.peak_deg - 0.05)]
            quick = np.linalg.norm(s.gyr_radps[top - 10]) > 1.5
            if not quick or not np.all(s.flexion_deg[top : top + 16] > rep.peak_deg - 0.05):
                continue
            keep = np.ones(len(s), dtype=bool)
            keep[top - 6 : top + 10] = False
            out = _shown(s, keep, cal)
            window = (out.t_s >= rep.start_s) & (out.t_s <= rep.end_s)
            over.append(np.nanmax(out.flexion_deg[window]) - rep.peak_deg)
    assert len(over) == 4
    assert np.max(np.abs(over)) < 1.5 and np.mean(np.abs(over)) < 0.5


def test_a_drive_halted_in_a_gap_then_a_foot_strike_is_corrected_before_any_check() -> None:
    # Realistic knee drives (seed 2046 of the benchmark's sampling, 100 Hz): a 0.2 s burst
    # lost as a drive came down at 380 deg/s and stopped, then a foot strike and the next
    # drive: no calm check for 0.45 s. The bridge was 10.6 deg off and shown so throughout.
    s = benchmark_set("knee-drive", 2046, Conditions.realistic())
    rate, leg = s.rate_hz, s.leg
    assert rate == 100.0 and s.lost[round(24.6 * rate)]
    keep = ~s.lost
    pipe = AnglePipeline(rate, Posture.STANDING, leg)
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    out = [pipe.update(SampleBatch("s", t[i : i + 10], acc[i : i + 10], gyr[i : i + 10]))
           for i in range(0, len(t), 10)]  # fmt: skip
    assert pipe.calibration is not None and pipe.calibration.lever_arm_in_sensor_m is not None
    shown_t = np.concatenate([o.t_s for o in out])
    shown = np.concatenate([o.flexion_deg for o in out])
    truth = np.interp(shown_t, s.t_s, s.flexion_deg)
    after = (shown_t > 24.82) & (shown_t < 24.95)  # from 0.1 s after the gap to the drive
    assert np.all(np.abs(shown - truth)[after] < 6.0)


def test_a_drive_halted_at_its_top_in_a_gap_is_shown_corrected_by_the_mean_after_it() -> None:
    # Realistic knee drives (seed 1014 of the benchmark's sampling, 100 Hz): a 0.2 s burst
    # lost as a drive reached its top; the leg rested 0.05 s (no calm check) and came down.
    # The bridge turned the leg 9 deg too far and the rows after it were shown so, the
    # quickened fusion pulling them back over 0.4 s. The mean of what followed, once the leg
    # is at rest again, measures the error; the rows held until then are shown corrected.
    s = benchmark_set("knee-drive", 1014, Conditions.realistic())
    assert s.rate_hz == 100.0 and s.lost[round(13.8 * s.rate_hz)]
    shown_t, shown = _self_calibrated_flexion(s, Posture.STANDING)
    after = (shown_t > 13.95) & (shown_t < 14.4)  # from the gap to the rest after the drive
    err = shown[after] - np.interp(shown_t[after], s.t_s, s.flexion_deg)
    assert np.all(np.isfinite(err)) and np.max(np.abs(err)) < 2.0


def test_a_knee_drive_starting_inside_a_gap_is_repaired_at_its_check() -> None:
    plan = plan_set("knee-drive", Leg.LEFT, 4, np.random.default_rng(3))
    s = simulate(plan, rate_hz=100.0, seed=3, conditions=Conditions.clean())
    rep = s.reps[-1]  # the leg rests after it: a calm check
    lost = (s.t_s > rep.start_s) & (s.t_s < rep.start_s + 0.2)  # the drive's start, 0.2 s
    keep = ~lost
    cal = MountingCalibration.from_rotation(s.mounting.r_ts, Posture.STANDING, Leg.LEFT)
    out = compute_angles(s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep], 100.0,
                         posture=Posture.STANDING, leg=Leg.LEFT, calibration=cal,
                         offline=False)  # fmt: skip
    after = (s.t_s[keep] > rep.start_s) & (s.t_s[keep] < rep.end_s + 1.0)
    assert out.valid[after].all()  # carried by the gyro alone the rise was 9 deg off
    assert np.abs(out.flexion_deg - s.flexion_deg[keep])[after].max() < 2.0


def test_published_holds_rows_until_the_bridge_is_checked_then_revises_them() -> None:
    def batch(t: list[float], flex: float, **kw: object) -> AngleBatch:
        n = len(t)
        return AngleBatch(np.array(t), np.full(n, flex), np.zeros(n), np.zeros((n, 4)),
                          np.ones(n, bool), **kw)  # type: ignore[arg-type]  # fmt: skip

    shown = Published()
    first = shown.add(batch([0.0, 0.1, 0.4, 0.5], 1.0, held_from_s=0.4))
    np.testing.assert_array_equal(first.t_s, [0.0, 0.1])
    assert len(shown.add(batch([0.6], 1.0, held_from_s=0.4))) == 0
    revision = batch([0.2, 0.3, 0.4, 0.5], 9.0, bridged=np.array([True, True, False, False]))
    done = shown.add(batch([0.7], 1.0, revision=revision))
    np.testing.assert_array_equal(done.t_s, [0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    np.testing.assert_array_equal(done.flexion_deg, [9, 9, 9, 9, 1, 1])
    np.testing.assert_array_equal(done.bridged, [True, True, False, False, False, False])
    late = batch([0.05, 0.8], 5.0, bridged=np.array([True, False]))
    assert shown.add(batch([0.8], 1.0, revision=late)).flexion_deg.tolist() == [5.0]


def test_set_closing_shows_rows_held_for_a_check() -> None:
    s = _slr(33)
    cal = MountingCalibration.from_rotation(s.mounting.r_ts, Posture.SUPINE, Leg.RIGHT)
    rep = s.reps[1]
    fast = np.flatnonzero((s.t_s > rep.start_s) & (s.t_s < rep.end_s))
    fast = fast[np.argmax(np.linalg.norm(s.gyr_radps[fast], axis=1))]
    pipe = SensorPipeline("s", 50.0, CATALOGUE["slr"], Leg.RIGHT, cal)
    before = pipe.feed(SampleBatch("s", s.t_s[:fast], s.acc_mps2[:fast], s.gyr_radps[:fast]))
    gap = slice(fast + 20, fast + 25)  # 20 samples lost in the raise, then a few received
    held = pipe.feed(SampleBatch("s", s.t_s[gap], s.acc_mps2[gap], s.gyr_radps[gap], None, 20))
    shown_t = [e.t_s for e in before + held if isinstance(e, AngleUpdate)]
    assert np.concatenate(shown_t)[-1] < s.t_s[fast + 20]  # held back, not shown yet
    flushed = [e for e in pipe.flush() if isinstance(e, AngleUpdate)]
    assert flushed and flushed[0].t_s[-1] == s.t_s[fast + 24]


def test_a_sample_arriving_alone_after_a_gap_waits_for_the_next_one_or_a_flush() -> None:
    s = _slr(33)
    cal = MountingCalibration.from_rotation(s.mounting.r_ts, Posture.SUPINE, Leg.RIGHT)
    t, acc, gyr = s.t_s, s.acc_mps2, s.gyr_radps

    def part(a: int, b: int, lost: int = 0) -> SampleBatch:
        return SampleBatch("s", t[a:b], acc[a:b], gyr[a:b], None, lost)

    for then_next in (True, False):
        pipe = AnglePipeline(s.rate_hz, Posture.SUPINE, Leg.RIGHT, cal)
        assert len(pipe.update(part(0, 500))) == 500
        assert len(pipe.update(part(520, 521, lost=20))) == 0  # alone after 20 lost: waits
        out = pipe.update(part(521, 524)) if then_next else pipe.flush()
        np.testing.assert_array_equal(out.t_s, t[520:524] if then_next else t[520:521])
        assert [e.n_samples for e in out.events] == [20]  # the gap, reported with its sample
        assert len(pipe.flush()) == 0  # nothing waits any more


def test_quaternion_helpers() -> None:
    rng = np.random.default_rng(0)
    steps = quat_from_rotvec(rng.normal(0, 0.3, (37, 3)))
    want = [steps[0]]
    for q in steps[1:]:
        want.append(quat_multiply(want[-1], q))
    np.testing.assert_allclose(_running_product(steps), np.array(want), atol=1e-12)
    v = np.array([0.3, -0.2, 0.9])
    q = arc_to_up(v)
    up = quat_multiply(quat_multiply(q, np.r_[0.0, v / np.linalg.norm(v)]), q * [1, -1, -1, -1])
    np.testing.assert_allclose(up[1:], [0, 0, 1], atol=1e-12)
    half = partial_rotation(q, np.array([0.5, 1.0]))
    np.testing.assert_allclose(quat_multiply(half[0], half[0]), q, atol=1e-12)
    np.testing.assert_allclose(half[1], q, atol=1e-12)
    assert up_in_sensor(q[None, :]).shape == (1, 3)


def test_published_holds_rows_no_longer_than_its_limit() -> None:
    def batch(t: list[float]) -> AngleBatch:
        n = len(t)
        return AngleBatch(np.array(t), np.ones(n), np.zeros(n), np.zeros((n, 4)),
                          np.ones(n, bool), held_from_s=0.4)  # fmt: skip

    shown = Published(max_hold_s=0.6)
    assert shown.add(batch([0.3, 0.4, 0.5])).t_s.tolist() == [0.3]
    assert shown.add(batch([0.9, 1.1])).t_s.tolist() == [0.4, 0.5]  # held since 0.4 < 1.1 - 0.6


def test_published_releases_history_whole_and_a_hold_without_a_time() -> None:
    def batch(t: list[float], held_from_s: float | None) -> AngleBatch:
        n = len(t)
        return AngleBatch(np.array(t), np.ones(n), np.zeros(n), np.zeros((n, 4)),
                          np.ones(n, bool), held_from_s=held_from_s)  # fmt: skip

    shown = Published()
    # a back-fill is history: nothing of it waits for a later batch (which would count it)
    assert shown.add_all(batch([0.1, 0.2, 0.3], held_from_s=0.2)).t_s.tolist() == [0.1, 0.2, 0.3]
    assert shown.finish() is None
    assert shown.add(batch([0.4, 0.5], held_from_s=float("nan"))).t_s.tolist() == [0.4, 0.5]


def _realistic_slr(seed: int) -> SimSession:
    return benchmark_set("slr", seed, Conditions.realistic())


def _live_peak_error(s: SimSession, index: int) -> float:
    """The shown top of rep ``index`` minus its true peak, the session self-calibrating."""
    t_all, flex = _self_calibrated_flexion(s, Posture.SUPINE)
    rep = s.reps[index]
    return float(np.nanmax(flex[(t_all >= rep.start_s) & (t_all <= rep.end_s)]) - rep.peak_deg)


def test_a_quick_filter_lying_down_is_not_pulled_past_the_top_by_the_raise_halting() -> None:
    # Realistic SLRs (seed 6026 of the benchmark's sampling, 200 Hz): 0.1 s lost as a raise
    # turned at 330 deg/s (an untrusted bridge, so the filter re-anchors quickly). The raise
    # halted at its top, 85 deg, and the quick filter followed the halt's acceleration
    # (no lever arm lying down): shown 9.6 deg over the top it then held.
    s = benchmark_set("slr", 6026, Conditions.realistic())
    assert s.rate_hz == 200.0 and s.lost[round(28.3 * s.rate_hz)]
    rep = next(r for r in s.reps if r.start_s < 28.3 < r.end_s)
    t, flex = _self_calibrated_flexion(s, Posture.SUPINE)
    top = np.nanmax(flex[(t >= rep.start_s) & (t <= rep.end_s)])
    assert abs(top - rep.peak_deg) < 1.0


@pytest.mark.parametrize(("seed", "index", "within_deg"), [
    (3015, 7, 1.0),  # 50 Hz, a top lost in 0.4 s: the cubic ran on past it, ramped back (3.3 deg)
    (2025, 1, 1.0),  # 50 Hz, a top lost, 0.06 s held, cut by the next burst (2.7 deg)
    (3015, 0, 1.0),  # 50 Hz, the first raise checked as it settled at its top (2.0 deg)
    (1028, 1, 1.5),  # 200 Hz, after the first top hold taught an offset of 0.08 g (2.4 deg)
    (1005, 7, 1.0),  # 50 Hz, a raise begun in a burst, its 1.5 deg correction left alone (1.4)
    (9028, 3, 1.0),  # 50 Hz, a top lost whole in 0.4 s, checked only at rest 1.1 s on (3.75)
    (13239, 7, 1.0),  # 100 Hz, a 1.2 s raise lost at its fastest, checked 1.35 s on (4.3 deg)
    (13136, 7, 1.0),  # 100 Hz, the same in a 1.1 s raise (4.3 deg)
    (3020, 5, 1.0),  # 50 Hz, two bursts in one raise, the top in the second (2.75 deg)
])  # fmt: skip
def test_realistic_slr_tops_that_were_shown_off(seed: int, index: int, within_deg: float) -> None:
    # Sets of the benchmark's sampling (development seeds) whose top was shown off by the
    # amount noted, each by another mechanism.
    assert abs(_live_peak_error(_realistic_slr(seed), index)) < within_deg


def test_a_realistic_slr_set_is_fused_alike_for_any_batch_split() -> None:
    # Lying checks judged on windows of rows, the offset followed in steps that turn the
    # fusion, anchors waiting for the next row: none of it may depend on the batches.
    s = _realistic_slr(1028)
    cal = MountingCalibration.from_rotation(s.mounting.r_ts, Posture.SUPINE, s.leg)
    keep = ~s.lost
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    cuts = np.sort(np.random.default_rng(4).choice(np.arange(1, len(t)), 400, replace=False))
    runs = []
    for bounds in ([0, len(t)], [0, *cuts.tolist(), len(t)]):
        pipe = AnglePipeline(s.rate_hz, Posture.SUPINE, s.leg, cal)
        outs = [pipe.update(SampleBatch("s", t[a:b], acc[a:b], gyr[a:b]))
                for a, b in itertools.pairwise(bounds)]  # fmt: skip
        revised = [o.revision for o in outs if o.revision is not None]
        runs.append((np.concatenate([o.flexion_deg for o in outs]),
                     np.concatenate([r.flexion_deg for r in revised])))  # fmt: skip
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_the_fused_angles_do_not_depend_on_where_the_batches_end() -> None:
    # Live, a notification carries 1-2 samples, so the sample after a lost burst is often a
    # batch's last. Bridged at once, its gap lacked the rate's change out of it and took the
    # straight line instead: seed 22020 (knee drives, 100 Hz, 20-sample bursts) fed 3 samples
    # at a time read up to 9.7 deg apart from the same set fed 1 at a time.
    s = benchmark_set("knee-drive", 22020, Conditions.realistic())
    assert s.lost.sum() >= 60
    cal = MountingCalibration.from_rotation(s.mounting.r_ts, Posture.STANDING, s.leg)
    keep = ~s.lost
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    runs = []
    for n in (1, 2, 3, 7, 10):
        pipe = AnglePipeline(s.rate_hz, Posture.STANDING, s.leg, cal)
        outs = [pipe.update(SampleBatch("s", t[i : i + n], acc[i : i + n], gyr[i : i + n]))
                for i in range(0, len(t), n)] + [pipe.flush()]  # fmt: skip
        runs.append((np.concatenate([o.t_s for o in outs]),
                     np.concatenate([o.flexion_deg for o in outs])))  # fmt: skip
    for t_s, flexion in runs[1:]:
        np.testing.assert_array_equal(t_s, t)
        np.testing.assert_array_equal(flexion, runs[0][1])


def test_the_rows_shown_after_a_lost_burst_do_not_depend_on_where_the_batches_end() -> None:
    # A bridge's rows wait at most 0.5 s for its check. The wait was checked at batch ends,
    # so a check arriving as it ran out revised them in one batching and not in another:
    # seed 33003 (realistic knee drives) read up to 8.4 deg apart fed 10 or 19 samples at a
    # time. Released by sample time, a check revises the rows still waiting when it came.
    s = benchmark_set("knee-drive", 33003, Conditions.realistic())
    assert s.lost.sum() >= 60
    cal = MountingCalibration.from_rotation(s.mounting.r_ts, Posture.STANDING, s.leg)
    runs = [_shown(s, ~s.lost, cal, size=n) for n in (10, 19, 3)]
    assert runs[0].bridged is not None and runs[0].bridged.any()
    for run in runs[1:]:
        np.testing.assert_array_equal(run.t_s, runs[0].t_s)
        np.testing.assert_allclose(run.flexion_deg, runs[0].flexion_deg, rtol=0, atol=1e-9,
                                   equal_nan=True)  # fmt: skip


@pytest.mark.parametrize(("exercise_id", "seed"), [("knee-drive", 33035), ("swing-forward", 33054)])
def test_reps_after_a_blind_burst_are_counted(exercise_id: str, seed: int) -> None:
    # 50 Hz: 20 samples lost in fast motion are 0.4 s, a blind bridge. Standing, its rows
    # were hidden until a calm check or for 2 s, even once the mean of what followed had
    # anchored it: the drive (33035) or the two swings (33054, bursts at 25.7 and 28.2 s) in
    # those 2 s were never counted. They count now, unshown until the check, as after an
    # untrusted bridge.
    s = benchmark_set(exercise_id, seed, Conditions.realistic())
    assert s.rate_hz == 50.0 and s.lost.sum() >= 40
    exercise = CATALOGUE[exercise_id]
    pipe = SensorPipeline("s", s.rate_hz, exercise, s.leg)
    keep = ~s.lost
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    for i in range(0, len(t), 2):
        pipe.feed(SampleBatch("s", t[i : i + 2], acc[i : i + 2], gyr[i : i + 2]))
    pipe.finish()
    assert len(pipe.reps) == len(s.reps) == 8
    for found, true in zip(pipe.reps, s.reps, strict=True):
        assert found.start_s < true.end_s and found.end_s > true.start_s


def test_a_check_reads_its_calm_run_not_the_row_where_the_leg_sets_off() -> None:
    # Seed 10249 (100 Hz): the check after a burst came on the row where the next drive set
    # off; the body's push tilted that row's accelerometer 13 deg with |a| still close to g.
    # Realigned to it, the leg was shown 8.5 deg off, still 5 deg off resting 1.3 s later.
    assert _knee_drive_error_deg(10249, lost_s=15.75, rate_hz=100.0, shown=(16.6, 19.5)) < 3.0


def test_a_check_after_an_anchor_reads_only_rows_fused_since() -> None:
    # Seed 15011 (50 Hz): a drive's whole lowering lost in a 0.4 s burst; the mean of what
    # followed anchored the bridge (38 deg) and the filter, and the check at rest just after
    # averaged rows fused before that jump with rows fused after: realigned to their mix,
    # the resting leg was shown 19.6 deg off, still 11 deg off 2 s later.
    assert _knee_drive_error_deg(15011, lost_s=18.1, rate_hz=50.0, shown=(18.6, 21.0)) < 3.0


@pytest.mark.parametrize(("seed", "lost_s", "rate_hz", "shown", "limit_deg"), [
    (10298, 18.9, 100.0, (19.0, 20.5), 3.0),  # a drive halting in 0.2 s lost, 8.5 deg off
    # One setting off in 0.1 s, 6.6 deg off for 2 s. Its mean waits for the rest after the
    # drive (0.7 s): at the 0.5 s its rows are held the lever arm's bound does not hold
    # either. 3.7 deg at worst, in the rows whose wait ran out before the mean, shown as they
    # stood (1.9 read at the drive's top, not settled: ``MEAN_SETTLED_DEG``).
    (16001, 23.3, 200.0, (23.4, 25.0), 4.0),
    (25233, 14.5, 100.0, (14.6, 17.0), 3.0),  # one landing in 0.2 s, its strike ringing
])  # fmt: skip
def test_a_bridge_trusted_by_its_length_is_doubted_where_the_drive_starts_or_stops_in_it(
    seed: int, lost_s: float, rate_hz: float, shown: tuple[float, float], limit_deg: float
) -> None:
    # Bursts trusted (short, or slow enough at their edges), across which the leg's rate
    # changed by 60-100 deg/s: a start or stop inside could be anywhere. Trusted, each
    # bridge stood until the fusion at rest pulled it back, seconds later, through the
    # drives after it.
    # Doubted, it is checked as an untrusted bridge is, yet its rows are all shown.
    err = _knee_drive_errors_deg(seed, lost_s=lost_s, rate_hz=rate_hz, shown=shown)
    assert np.isfinite(err).all()
    assert np.max(np.abs(err)) < limit_deg


@pytest.mark.parametrize(("seed", "lost_s", "shown"), [
    (20011, 21.8, (22.8, 24.0)),  # a drive landed 0.02 s before; the next sets off at once
    (23243, 14.5, (15.3, 17.0)),  # the strike ringing at 22 and 9 deg/s at its edges
])  # fmt: skip
def test_a_trusted_bridge_at_a_rest_is_corrected_by_the_mean_of_what_follows(
    seed: int, lost_s: float, shown: tuple[float, float]
) -> None:
    # 0.2 s lost (100 Hz) where the leg rests between drives, slow at both edges: the cubic
    # holds it still, yet inside the burst the thigh came back from its landing's overshoot
    # by 3 deg. No calm run follows for seconds to check it: trusted and left to the fusion,
    # the leg was shown up to 4.4 and 4.3 deg off through the next drive. Watched, the mean of
    # the 0.6 s after the burst re-anchors the filter; from there on it is shown right.
    err = _knee_drive_errors_deg(seed, lost_s=lost_s, rate_hz=100.0, shown=shown)
    assert np.isfinite(err).all()
    assert np.max(np.abs(err)) < 2.0


def test_a_watched_bridge_s_mean_is_taken_at_the_same_row_for_any_batch_split() -> None:
    # Seed 20011 with only that burst lost, fused with the lever arm its own calibration fitted
    # (the mean is taken only with it). Read when a batch ends, the mean fell on a different
    # row fed 1, 4 or 10 samples at a time: the angles after it were up to 3.7 deg apart.
    s = benchmark_set("knee-drive", 20011, Conditions.realistic())
    keep = ~(s.lost & (s.t_s > 21.6) & (s.t_s < 22.0))
    assert (~keep).sum() == 20
    runs = _flexion_by_batch_size(s, keep, (1, 4, 10))
    for flexion in runs[1:]:
        np.testing.assert_allclose(flexion, runs[0], rtol=0, atol=1e-9)  # rounding only


@pytest.mark.parametrize("seed", [20011, 23243])
def test_every_bridge_s_mean_is_taken_at_the_same_row_for_any_batch_split(seed: int) -> None:
    # Whole realistic knee-drive sets, every burst lost, with their fitted lever arm. The
    # untrusted and doubtful spans' means were read when a piece ended, so at a batch's end:
    # fed 1 or 10 samples at a time, the angles were up to 0.2 (20011) and 1.7 deg (23243)
    # apart.
    s = benchmark_set("knee-drive", seed, Conditions.realistic())
    assert s.lost.sum() >= 60  # three bursts of 20 at least
    runs = _flexion_by_batch_size(s, ~s.lost, (1, 10, 7))
    for flexion in runs[1:]:
        np.testing.assert_allclose(flexion, runs[0], rtol=0, atol=1e-9)  # rounding only


def _flexion_by_batch_size(
    s: SimSession, keep: npt.NDArray[np.bool_], sizes: tuple[int, ...]
) -> list[npt.NDArray[np.float64]]:
    """The flexion of the ``keep`` samples of a standing set fused live with the calibration
    a first pass fitted (its lever arm checked), fed ``sizes`` samples at a time, per size."""
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    fitting = AnglePipeline(s.rate_hz, Posture.STANDING, s.leg)
    for i in range(0, len(t), 10):
        fitting.update(SampleBatch("s", t[i : i + 10], acc[i : i + 10], gyr[i : i + 10]))
    cal = fitting.calibration
    assert cal is not None and cal.lever_arm_in_sensor_m is not None
    runs = []
    for n in sizes:
        pipe = AnglePipeline(s.rate_hz, Posture.STANDING, s.leg, cal)
        outs = [pipe.update(SampleBatch("s", t[i : i + n], acc[i : i + n], gyr[i : i + n]))
                for i in range(0, len(t), n)] + [pipe.flush()]  # fmt: skip
        runs.append(np.concatenate([o.flexion_deg for o in outs]))
    return runs


def test_a_bridge_that_found_the_start_in_its_gap_is_not_doubted() -> None:
    # Seed 21251 (200 Hz): a drive setting off in a 0.1 s burst, from rest. The bridge still
    # until the rate traced back from the gap's end meets the rest is right within 0.1 deg;
    # doubted, the mean of what followed (the drive's own push in it) read 4.3 deg and put
    # the drive 5.4 deg low until the next drive.
    err = _knee_drive_errors_deg(21251, lost_s=22.9, rate_hz=200.0, shown=(22.85, 24.5))
    assert np.isfinite(err).all()
    assert np.max(np.abs(err)) < 2.0  # 1 deg of it was there before the burst


def test_a_trusted_bridge_after_an_unchecked_one_is_judged_as_that_one() -> None:
    # Seed 22120 (100 Hz): 0.2 s lost as a drive's lowering set off, then 0.2 s lost again at
    # rest 0.17 s later. The first bridge, 11 deg off, was cut short by the second burst with
    # no steady row to anchor on; the second, trusted, was watched, its rows shown as fused and
    # left to its mean 0.74 s on: the next drive was shown 10-12 deg low.
    assert _knee_drive_error_deg(22120, lost_s=24.1, rate_hz=100.0, shown=(24.2, 25.2)) < 4.0


def test_a_bridge_s_mean_is_read_only_once_it_has_settled() -> None:
    # Seed 21102 (200 Hz): a drive landing in a 0.1 s burst, doubted, its bridge right. 0.2 s
    # on, the mean of what followed still carried the hip's change of velocity: it read
    # 4.48 deg, past the doubtful bridge's 4 deg, and put the resting leg and the next drive
    # 5.4 deg off. 0.03 s later it read 1.46 deg.
    assert _knee_drive_error_deg(21102, lost_s=16.9, rate_hz=200.0, shown=(16.95, 19.0)) < 2.0


def test_a_bridge_s_mean_is_read_by_the_end_of_its_rows_hold() -> None:
    # Seed 6734 (100 Hz, straight-leg marches as bench_reps samples them): a march's top lost
    # in a 0.2 s burst. Waiting for its mean to settle, the bridge's rows were held 0.6 s and
    # the lowering shown 6 deg off, the rep confirmed 0.5 s later. From the 0.5 s its rows
    # are held on, the lever arm's bound alone decides: read as the rows are released.
    rng = np.random.default_rng(6734)
    plan = plan_set("straight-leg-march", Leg.RIGHT, int(rng.integers(12, 19)), rng)
    s = simulate(plan, rate_hz=100.0, seed=6734, conditions=Conditions.realistic())
    assert s.lost[(s.t_s > 34.4) & (s.t_s < 34.59)].all()
    t_s, flexion, shown_at = _self_calibrated_rows(s, Posture.STANDING)
    top = (t_s > 34.35) & (t_s < 35.2)
    assert np.max(shown_at[top] - t_s[top]) < 0.55
    assert np.max(np.abs(flexion[top] - np.interp(t_s[top], s.t_s, s.flexion_deg))) < 2.0


def test_a_bridge_whose_cubic_leans_on_a_foot_strike_s_ringing_is_held_for_its_repair() -> None:
    # Seed 22002 (200 Hz): a drive landing in a 0.1 s burst, the sensor ringing at 53 deg/s
    # after it, -21 deg/s per sample. The cubic, its slopes single sample differences, rose to
    # 96 deg/s between edges at 55 and turned the leg 6.5 deg too far. Watched, its mean 0.6 s
    # on put it right, but the rows before it had been shown as fused: 7.7 deg off through
    # the rest and the next drive's rise. Held for the repair, those still held at the mean
    # (the last 0.5 s) are shown as revised.
    assert _knee_drive_error_deg(22002, lost_s=23.85, rate_hz=200.0, shown=(24.0, 25.0)) < 2.5


def test_a_drive_landing_in_a_burst_is_bridged_to_its_stop_through_the_ringing() -> None:
    # Seed 25139 (200 Hz): a drive landing in a 0.1 s burst at 51 deg/s, its rate 16 deg/s
    # after it and still falling towards rest. Not at rest after it, the leg was bridged by
    # the cubic, 2.7 deg past its landing, and shown up to 4.5 deg off over the next second
    # (1.4 of it there before the burst); bridged to its stop, 1.4 deg past.
    assert _knee_drive_error_deg(25139, lost_s=16.88, rate_hz=200.0, shown=(16.93, 18.0)) < 3.5


def test_a_bridge_that_found_the_stop_in_its_gap_is_shown_though_it_turns_from_the_line() -> None:
    # Seed 21033 (200 Hz): a drive landing in a 0.1 s burst, from 119 to 2 deg/s. Its stop
    # is right within 0.2 deg but turns 3.0 deg from the straight line: untrusted for that,
    # as a cubic is from 3 deg, its rows were hidden for 1.6 s (the cubic, 4.0 deg off, left
    # them up to 5 deg off).
    err = _knee_drive_errors_deg(21033, lost_s=14.93, rate_hz=200.0, shown=(14.99, 17.0))
    assert np.isfinite(err).all()
    assert np.max(np.abs(err)) < 2.5


def test_a_cut_span_s_lone_trusted_sample_may_confirm_its_bridge_not_move_it() -> None:
    # Standing, a span cut short by the next gap is corrected by its trusted samples only if
    # it has two; one alone may confirm the bridge (under the check's 2 deg), closing the span.
    def closed(*tilts_deg: float) -> Fix:
        state = BridgeState(10)
        state.open(np.zeros(3), np.zeros(3), 0.0, rule=UNTRUSTED_RULE)
        state.trusted = np.array([[np.sin(np.radians(d)), 0.0, np.cos(np.radians(d))]
                                  for d in tilts_deg])  # fmt: skip
        start = np.array([1.0, 0.0, 0.0, 0.0])
        return _resolve(state, OrientationEstimator(100.0), False, start, start, cut=True,
                        cut_rows=2)  # fmt: skip

    def turn_deg(fix: Fix) -> float:
        return float(np.degrees(2 * np.arccos(min(1.0, abs(fix.correction[0])))))

    alone = closed(6.9)
    assert not alone.anchored
    confirming = closed(1.0)
    assert confirming.anchored and turn_deg(confirming) == pytest.approx(0.0)
    two = closed(6.8, 7.0)
    assert two.anchored and turn_deg(two) == pytest.approx(6.9, abs=0.01)


def test_a_span_cut_by_the_next_burst_is_not_moved_by_one_ringing_sample() -> None:
    # Seed 26128 (100 Hz): a drive's top lost in a 0.2 s burst, the span cut 0.5 s on by the
    # next. Its one trusted sample, in the ringing of the foot strike, asked 6.9 deg where
    # the bridge was 1.4 deg off; taken, the span's rows were shown 7.3 deg off.
    err = _knee_drive_errors_deg(26128, lost_s=21.75, rate_hz=100.0, shown=(21.9, 22.41))
    assert np.isfinite(err).all()
    assert np.max(np.abs(err)) < 2.5


def test_a_doubted_bridge_after_a_cut_span_takes_a_smaller_mean() -> None:
    # Seed 31115 (200 Hz): three bursts in 0.6 s, the last at a rest between drives, doubted
    # and bridged 3.2 deg off, its span taking over the filter the cut span before it left
    # unchecked. Its mean read 3.4 deg, under a doubted bridge's 4: left, the rows after it
    # were shown up to 5.7 deg off for 2 s.
    err = _knee_drive_errors_deg(31115, lost_s=16.7, rate_hz=200.0, shown=(17.4, 19.0))
    assert np.isfinite(err).all()
    assert np.max(np.abs(err)) < 3.0


def _tilted_rows(*tilts_deg: float) -> npt.NDArray[np.float64]:
    """Up directions tilted forward by these angles (world frame, one row each)."""
    rad = np.radians(tilts_deg)
    return np.stack([np.sin(rad), np.zeros(len(rad)), np.cos(rad)], axis=1)


def test_a_check_reads_its_calm_run_without_the_push_of_a_leg_setting_off() -> None:
    # A calm run's ten rows as seed 31224's (100 Hz), tilted one way: the last two read the
    # leg's push as it set off. The whole run's mean is 3.4 deg off the filter's up, over a
    # strict check's 2; the rest of it, 1.6. A run rocked by the soft tissue (as 23127's)
    # reads its mean whole.
    level = np.array([1.0, 0.0, 0.0, 0.0])
    x = Expanded(np.zeros((1, 3)), np.array([[0.0, 0.0, 9.81]]), np.ones(1, dtype=bool),
                 np.zeros(1, dtype=np.int64))  # fmt: skip

    def realigned_deg(*tilts_deg: float) -> float | None:
        seen = _check_fails(level, x, 0, _tilted_rows(*tilts_deg), strict=True)
        return None if seen is None else float(np.degrees(np.arctan2(seen[0], seen[2])))

    assert realigned_deg(2.6, 0.9, 1.4, 3.2, 2.0, 0.4, 1.3, 1.1, 7.8, 13.6) is None
    pushed_later = realigned_deg(2.6, 2.9, 2.4, 3.2, 2.0, 2.4, 2.3, 2.1, 7.8, 13.6)
    assert pushed_later == pytest.approx(2.49, abs=0.01)
    rocked = realigned_deg(2.7, 5.9, 6.3, 5.1, 2.1, 0.2, 0.3, 2.5, 3.2, 4.4)
    assert rocked == pytest.approx(3.27, abs=0.01)


def test_a_check_as_the_next_drive_sets_off_does_not_tilt_the_set() -> None:
    # Seed 31224 (100 Hz): a burst in a drive's fall, untrusted, its span anchored on its
    # mean 0.5 s on (the bridge within 0.4 deg). Its rows stayed unshown until a calm run
    # 1.9 s on, which ended as the next drive set off: its last rows read the push, and the
    # strict check tilted the filter by the run's mean, 2.3 deg; the set was shown 2-2.9
    # deg off for 1.8 s.
    err = _knee_drive_errors_deg(31224, lost_s=14.1, rate_hz=100.0, shown=(16.16, 17.95))
    assert np.isfinite(err).all()
    assert np.max(np.abs(err)) < 1.5


def _knee_drive_error_deg(
    seed: int, *, lost_s: float, rate_hz: float, shown: tuple[float, float]
) -> float:
    """The worst error of the flexion shown between the ``shown`` times on the benchmark's
    realistic knee-drive set ``seed`` (checked to be at ``rate_hz``, a sample lost at
    ``lost_s``)."""
    err = _knee_drive_errors_deg(seed, lost_s=lost_s, rate_hz=rate_hz, shown=shown)
    return float(np.nanmax(np.abs(err)))


def _knee_drive_errors_deg(
    seed: int, *, lost_s: float, rate_hz: float, shown: tuple[float, float]
) -> npt.NDArray[np.float64]:
    """The flexion shown between the ``shown`` times minus the truth (NaN: not shown), as
    ``_knee_drive_error_deg`` has it."""
    s = benchmark_set("knee-drive", seed, Conditions.realistic())
    assert s.rate_hz == rate_hz and s.lost[round(lost_s * s.rate_hz)]
    shown_t, flexion = _self_calibrated_flexion(s, Posture.STANDING)
    window = (shown_t > shown[0]) & (shown_t < shown[1])
    return np.asarray(flexion[window] - np.interp(shown_t[window], s.t_s, s.flexion_deg))


def test_analyze_exports_a_first_raise_with_the_gyro_bias_its_still_phase_measured() -> None:
    # Seed 19013 (realistic SLR, 50 Hz): 0.4 s lost in the calibration raise's hold. The
    # live session fuses its first samples again once calibrated, the gyro bias known from
    # the start, and shows the top right; the export fused them not knowing it and showed
    # the hold up to 2.2 deg high.
    s = _realistic_slr(19013)
    rep = s.reps[0]
    assert s.lost[(s.t_s > rep.start_s) & (s.t_s < rep.end_s)].sum() >= 20
    keep = ~s.lost
    t, acc, gyr = s.t_s[keep], s.acc_mps2[keep], s.gyr_radps[keep]
    pipe = AnglePipeline(s.rate_hz, Posture.SUPINE, s.leg)
    for i in range(0, len(t), 10):
        pipe.update(SampleBatch("sim", t[i : i + 10], acc[i : i + 10], gyr[i : i + 10]))
    assert pipe.calibration is not None
    out = compute_angles(t, acc, gyr, s.rate_hz, posture=Posture.SUPINE, leg=s.leg,
                         calibration=pipe.calibration)  # fmt: skip
    during = (t >= rep.start_s) & (t <= rep.end_s)
    err = out.flexion_deg[during] - np.interp(t[during], s.t_s, s.flexion_deg)
    assert np.nanmax(np.abs(err)) < 1.0


def test_an_untrusted_bridge_is_corrected_by_a_mean_under_a_calm_check_s_2_deg() -> None:
    # Seed 33190 (100 Hz): a 0.2 s burst as a drive set off, untrusted. Its span's mean,
    # read at the rest after the drive, found the bridge 1.9 deg off: under a calm check's
    # 2 deg, it was left, and the rows still held were shown 2.5-4.1 deg off. A mean is read
    # once the lever arm's miss can tilt it by under 1 deg, and it is taken from there: the
    # rows still held are shown 0.2-1.8 deg off. (The 0.1 s of rows before them waited their
    # 0.5 s before the mean came and were shown as they stood, up to 3.5 deg off.)
    err = _knee_drive_errors_deg(33190, lost_s=21.8, rate_hz=100.0, shown=(22.085, 22.6))
    assert np.isfinite(err).all()
    assert np.max(np.abs(err)) < 3.0
