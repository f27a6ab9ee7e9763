"""The gyro bias at rest with the body's sway taken out (``rest_bias``) and its hand-off to VQF."""

import itertools
from dataclasses import replace

import numpy as np
from scipy.spatial.transform import Rotation

from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.signal.lever_arm import RestDetector
from hipsense.signal.orientation import HIPSENSE_PARAMS, OrientationEstimator
from hipsense.signal.rest_bias import RestBiasTracker, still_bias

RATE_HZ = 100.0
BIAS_DPS = np.array([0.6, -1.2, 0.4])
TILTED_UP = np.array([0.3, -0.2, 0.93]) / np.linalg.norm([0.3, -0.2, 0.93])


def _swaying_still(
    seconds: float, seed: int, rate_hz: float = RATE_HZ, lever_m: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    """(gyro, accelerometer) of a sensor held "still" while the body sways: 0.4 deg of roll and
    pitch turning at 1-2 deg/s about a pivot ``lever_m`` above the sensor, with the gyro's
    bias ``BIAS_DPS``, noise, and an accelerometer offset."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate_hz)) / rate_hz
    f, phase = rng.uniform(0.3, 0.7, 2), rng.uniform(0, 2 * np.pi, 2)
    amp = np.radians(0.4)
    ang = amp * np.sin(2 * np.pi * f * t[:, None] + phase)  # roll, pitch
    ang_rate = amp * 2 * np.pi * f * np.cos(2 * np.pi * f * t[:, None] + phase)
    tilt = Rotation.align_vectors([[0.0, 0.0, 1.0]], [TILTED_UP])[0]  # sensor up: TILTED_UP
    rot_y = Rotation.from_rotvec(np.outer(ang[:, 1], [0.0, 1.0, 0.0]))
    r_ws = Rotation.from_rotvec(np.outer(ang[:, 0], [1.0, 0.0, 0.0])) * rot_y * tilt
    # the body rate (sensor frame) of R = Rx(roll) Ry(pitch) tilt, about world horizontals
    gyr = rot_y.inv().apply(np.outer(ang_rate[:, 0], [1.0, 0.0, 0.0]))
    gyr = tilt.inv().apply(gyr + np.outer(ang_rate[:, 1], [0.0, 1.0, 0.0]))
    spin_up = np.gradient(gyr, 1 / rate_hz, axis=0)
    r = -lever_m * TILTED_UP  # the pivot above the sensor: the sensor hangs below it
    acc = r_ws.inv().apply([0.0, 0.0, STANDARD_GRAVITY_MPS2])
    acc += np.cross(spin_up, r) + np.cross(gyr, np.cross(gyr, r))
    acc += np.array([0.2, -0.1, 0.15]) + rng.normal(0, 0.02, acc.shape)
    gyr += np.radians(BIAS_DPS) + rng.normal(0, np.radians(0.15), gyr.shape)
    return gyr, acc


def _split(err_dps: np.ndarray, up: np.ndarray) -> tuple[float, float]:
    """(across gravity, along it) size of an error."""
    along = float(err_dps @ up)
    return float(np.linalg.norm(err_dps - along * up)), abs(along)


def test_a_swaying_still_gives_the_bias_the_plain_mean_misses() -> None:
    misses = []
    for seed in range(6):
        gyr, acc = _swaying_still(2.0, seed)
        found = still_bias(gyr, acc, RATE_HZ)
        assert found is not None
        across, along = _split(np.degrees(found.bias_radps) - BIAS_DPS, TILTED_UP)
        assert across < 0.1
        assert along < 0.05  # this sway turns nothing about the vertical
        misses.append(_split(np.degrees(gyr.mean(axis=0)) - BIAS_DPS, TILTED_UP)[0])
        assert found.sigma_tilt_dps < found.sigma_vertical_dps
    assert max(misses) > 0.3  # the plain mean takes the sway for bias


def test_samples_missing_inside_a_still_run_leave_the_estimate() -> None:
    gyr, acc = _swaying_still(2.5, 3)
    keep = np.ones(len(gyr), dtype=bool)
    keep[80:100] = keep[170:175] = False
    t = np.arange(len(gyr)) / RATE_HZ
    found = still_bias(gyr[keep], acc[keep], RATE_HZ, t_s=t[keep])
    assert found is not None
    assert _split(np.degrees(found.bias_radps) - BIAS_DPS, TILTED_UP)[0] < 0.1


def test_too_short_or_moving_runs_give_no_estimate() -> None:
    gyr, acc = _swaying_still(0.9, 1)
    assert still_bias(gyr, acc, RATE_HZ) is None
    gyr, acc = _swaying_still(3.0, 1)
    axis = np.cross(TILTED_UP, [1.0, 0.0, 0.0])
    axis /= np.linalg.norm(axis)
    rate = np.zeros(len(gyr))
    rate[50:150] = np.radians(8.0)  # a slow 8 deg turn the rest detector lets pass
    gyr += np.outer(rate, axis)
    acc = Rotation.from_rotvec(-np.outer(np.cumsum(rate) / RATE_HZ, axis)).apply(acc)
    assert still_bias(gyr, acc, RATE_HZ) is None
    assert still_bias(gyr[150:], acc[150:], RATE_HZ) is not None  # still again after it
    empty = np.empty((0, 3))
    assert still_bias(empty, empty, RATE_HZ, t_s=np.empty(0)) is None  # no samples at all


def _still_move_still(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """2 s swaying still, 1 s of a leg swing, 3 s swaying still, 0.5 s swing, 12 s still."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, seconds in enumerate((2.0, 1.0, 3.0, 0.5, 12.0)):
        gyr, acc = _swaying_still(seconds, seed * 10 + i)
        if i % 2:
            gyr = gyr + np.radians(60.0) * np.sin(np.linspace(0, 2 * np.pi, len(gyr)))[:, None]
            acc = acc + rng.normal(0, 1.5, acc.shape)
        parts.append((gyr, acc))
    return np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts])


def test_hand_offs_do_not_depend_on_the_batch_split() -> None:
    gyr, acc = _still_move_still(1)
    ok = np.ones(len(gyr), dtype=bool)
    ok[700:720] = False
    rng = np.random.default_rng(5)
    results = []
    for cuts in ([0, len(gyr)], sorted({0, len(gyr), *rng.integers(1, len(gyr), 60).tolist()})):
        tracker, got = RestBiasTracker(RATE_HZ), []
        for a, b in itertools.pairwise(cuts):
            got += [(a + h.at, h.run, h.rest) for h in tracker.update(gyr[a:b], acc[a:b], ok[a:b])]
        results.append(got)
    assert results[0] == results[1]
    runs = {run for _, run, _ in results[0]}
    assert len(runs) >= 3  # the first still, the second, the long one (cut by the lost samples)
    for _, _, rest in results[0]:  # from 1 s into a run on, within its uncertainty
        across = _split(np.degrees(rest.bias_radps) - BIAS_DPS, TILTED_UP)[0]
        assert across < 2.5 * rest.sigma_tilt_dps
        assert across < 0.1 or rest.duration_s < 2.0


def test_rests_handed_in_by_a_detector_like_the_tracker_s_give_the_same_hand_offs() -> None:
    """The accelerometer's offset detects the same rests on the same samples: it hands its
    flags in rather than have them found twice per batch."""
    gyr, acc = _still_move_still(2)
    ok = np.ones(len(gyr), dtype=bool)
    own, told, detector = RestBiasTracker(RATE_HZ), RestBiasTracker(RATE_HZ), RestDetector(RATE_HZ)
    assert told.detects_like(detector)
    assert not told.detects_like(RestDetector(RATE_HZ, min_rest_s=0.3))
    assert not told.detects_like(RestDetector(2 * RATE_HZ))
    found, handed = [], []
    for a in range(0, len(gyr), 37):
        b = a + 37
        found += own.update(gyr[a:b], acc[a:b], ok[a:b])
        rest = detector.confirmed(acc[a:b], gyr[a:b], ok[a:b])
        handed += told.update(gyr[a:b], acc[a:b], ok[a:b], rest)
    assert len(found) >= 3
    assert handed == found
    moved = RestBiasTracker(RATE_HZ)  # flags that differ do change the hand-offs
    never = [moved.update(gyr, acc, ok, np.zeros(len(gyr), dtype=bool))]
    assert never == [[]]


def test_an_offset_step_shifts_the_samples_the_open_run_buffered() -> None:
    """After ``offset_changed`` a run's estimates are those of its samples with the new offset
    removed from its start on, however many batches it buffered them in."""
    gyr, acc = _swaying_still(5.0, 7)
    ok = np.ones(len(gyr), dtype=bool)
    step, at_step, lag = np.array([0.05, -0.03, 0.02]), 150, round(0.1 * RATE_HZ)
    tracker, got, fed = RestBiasTracker(RATE_HZ), [], acc.copy()
    for a in range(0, len(gyr), 10):
        if a == at_step:
            tracker.offset_changed(step)
            fed[a:] -= step
        batch = slice(a, a + 10)
        got += [(a + h.at, h.rest) for h in tracker.update(gyr[batch], fed[batch], ok[batch])]
    rows = np.column_stack([gyr, acc - step, ok])  # as the tracker lays its samples out
    after = [(at - lag, rest) for at, rest in got if at - lag > at_step]
    assert len(after) == 2  # 2 s and 4 s into the run (it started before the step)
    for stop, rest in after:
        run = rows[stop - round(rest.duration_s * RATE_HZ) : stop]
        assert rest == still_bias(run[:, 0:3], run[:, 3:6], RATE_HZ, run[:, 6] > 0)


def test_the_estimator_with_still_runs_gives_the_same_result_however_split() -> None:
    gyr, acc = _still_move_still(2)
    whole = OrientationEstimator(RATE_HZ).update(gyr, acc)
    est = OrientationEstimator(RATE_HZ)
    cuts = sorted({0, len(gyr), *np.random.default_rng(3).integers(1, len(gyr), 50).tolist()})
    parts = [est.update(gyr[a:b], acc[a:b]) for a, b in itertools.pairwise(cuts)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_a_short_swaying_still_no_longer_moves_a_good_bias() -> None:
    """The diagnosis: VQF's rest estimate (gyro low-passed over 0.5 s) took the sway for
    bias within 0.2 s of detecting rest; the still run's estimate keeps the bias."""
    moved = {}
    for own in (True, False):
        worst = 0.0
        for seed in range(4):
            gyr, acc = _swaying_still(2.5, 20 + seed)
            est = OrientationEstimator(RATE_HZ, replace(HIPSENSE_PARAMS, still_run_bias=own))
            est.set_gyro_bias(np.radians(BIAS_DPS), sigma_dps=0.1)
            est.update(gyr, acc)
            err = np.degrees(est.gyro_bias_radps) - BIAS_DPS
            worst = max(worst, _split(err, TILTED_UP)[0])
        moved[own] = worst
    assert moved[True] < 0.1
    assert moved[False] > 0.2


def test_the_bias_set_is_held_with_the_sigma_asked_for() -> None:
    est = OrientationEstimator(RATE_HZ)
    est.set_gyro_bias(np.radians([1.0, 0.0, 0.0]), sigma_dps=0.1)
    # VQF takes sigma in rad/s: passed 0.1 as it stood, the bias was 5.7 deg/s uncertain
    assert np.isclose(est._vqf.getBiasEstimate()[1], np.radians(0.1))
