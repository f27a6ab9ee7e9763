"""The accelerometer's offset between rests (``between_rests``, used by ``RestOffset``)."""

import itertools

import numpy as np
from scipy.spatial.transform import Rotation

from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.signal.between_rests import carried_up
from hipsense.signal.rest_offset import RestOffset

RATE_HZ = 100.0
LEVER_THIGH_M = np.array([0.075, 0.0, -0.2])  # hip -> sensor, thigh frame (x forward, z up)
MOUNT = Rotation.from_euler("xyz", [20.0, -35.0, 50.0], degrees=True).as_matrix()  # sensor axes
OFFSET_MPS2 = np.array([0.3, -0.4, 0.5])  # sensor frame


def _drives(cycles: int = 3) -> np.ndarray:
    """Flexion (rad) at RATE_HZ: 2 s standing, knee drives to 80 deg, 2 s standing, twice."""
    rest = np.zeros(round(2 * RATE_HZ))
    t = np.arange(round(1.2 * cycles * RATE_HZ)) / RATE_HZ
    drive = np.radians(40.0) * (1 - np.cos(2 * np.pi * t / 1.2))
    return np.concatenate([rest, drive, rest, drive, rest])


def _sensor(theta: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(acc, gyr) of a sensor on a thigh pitching forward about a still hip (world z up)."""
    rate = np.gradient(theta) * RATE_HZ
    spin = np.gradient(rate) * RATE_HZ
    y = np.array([0.0, -1.0, 0.0])  # flexion lifts the knee forward: about -y (x fwd, z up)
    thigh = Rotation.from_rotvec(theta[:, None] * y).as_matrix()  # thigh -> world
    p = thigh @ LEVER_THIGH_M
    p_dd = spin[:, None] * np.cross(y, p) + rate[:, None] ** 2 * np.cross(y, np.cross(y, p))
    f_world = p_dd + STANDARD_GRAVITY_MPS2 * np.array([0.0, 0.0, 1.0])
    f_thigh = np.einsum("nji,nj->ni", thigh, f_world)
    rng = np.random.default_rng(seed)
    acc = f_thigh @ MOUNT + OFFSET_MPS2 + rng.normal(0, 0.01, f_thigh.shape)
    gyr = (rate[:, None] * y) @ MOUNT + rng.normal(0, 0.002, f_thigh.shape)
    return acc, gyr


def _mounted(lever_m: np.ndarray | None = None) -> RestOffset:
    """A learner whose mounting is known (the windows count), with this lever arm."""
    learner = RestOffset(RATE_HZ)
    learner.mounting_known(None if lever_m is None else (lever_m[0], lever_m[1], lever_m[2]))
    return learner


FORWARD_S = np.array([1.0, 0.0, 0.0]) @ MOUNT  # the standing thigh's forward, sensor frame
UP_S = np.array([0.0, 0.0, 1.0]) @ MOUNT


def test_carried_up_is_the_gyro_turning_the_frame_step_by_step() -> None:
    rng = np.random.default_rng(2)
    rates = rng.normal(0, 3.0, (300, 3))
    up0 = np.array([0.0, 0.6, 0.8])
    expected = [up0]
    for w in rates:  # the frame turns by w dt: a fixed direction turns back in it
        expected.append(Rotation.from_rotvec(w / RATE_HZ).as_matrix().T @ expected[-1])
    np.testing.assert_allclose(carried_up(rates, up0, RATE_HZ), np.array(expected), atol=1e-12)


def test_knee_drives_teach_the_offset_along_the_standing_forward() -> None:
    """Standing rests see the offset along the thigh's up only; between them, the vertical
    velocity's return to zero sees it forward too (the direction that tilts flexion)."""
    acc, gyr = _sensor(_drives())
    ok = np.ones(len(acc), dtype=bool)
    learnt = _mounted().learn(acc, gyr, ok)
    rests_only = RestOffset(RATE_HZ).learn(acc, gyr, ok)  # no mounting known: no windows
    for found in (learnt, rests_only):
        assert abs((found - OFFSET_MPS2) @ UP_S) < 0.01
    assert abs((rests_only - OFFSET_MPS2) @ FORWARD_S) > 0.3  # unseen: the ridge keeps 0
    assert abs((learnt - OFFSET_MPS2) @ FORWARD_S) < 0.04, learnt @ FORWARD_S


def test_windows_give_the_same_offsets_for_any_batch_split() -> None:
    acc, gyr = _sensor(_drives())
    ok = np.ones(len(acc), dtype=bool)
    lost = np.zeros(len(acc), dtype=bool)
    lost[[300, 1000]] = True  # two windows cut by losses (the samples are there: same data)
    lever = LEVER_THIGH_M @ MOUNT
    dense = _mounted(lever).update(acc, gyr, ok, lost)
    n = len(acc)
    for cuts in ([0, 7, 305, 306, 999, 1001, n], [*range(0, n, 10), n]):
        split = _mounted(lever)
        parts = [split.update(acc[i:j], gyr[i:j], ok[i:j], lost[i:j])
                 for i, j in itertools.pairwise(cuts)]  # fmt: skip
        np.testing.assert_array_equal(np.concatenate(parts), dense)
    np.testing.assert_array_equal(_mounted(lever).learn(acc, gyr, ok, lost), dense[-1])
    assert abs((dense[-1] - OFFSET_MPS2) @ FORWARD_S) < 0.04  # the windows counted


def test_a_window_cut_by_lost_samples_counts_with_the_lever_arm_at_its_edges() -> None:
    """Samples lost mid-drive: the pieces from the rest to the loss and from the loss to the
    next rest each gained the leg's velocity at the loss, w x r with the hip's lever arm."""
    theta = _drives()
    acc, gyr = _sensor(theta)
    keep = np.ones(len(acc), dtype=bool)
    for start in (200, 760):  # 0.2 s lost in each set's second drive
        keep[start + 130 : start + 150] = False
    acc, gyr = acc[keep], gyr[keep]
    lost = np.concatenate([[False], np.diff(np.flatnonzero(keep)) > 1])
    ok = np.ones(len(acc), dtype=bool)
    learnt = _mounted(LEVER_THIGH_M @ MOUNT).learn(acc, gyr, ok, lost)
    blind = _mounted().learn(acc, gyr, ok, lost)  # no lever arm: such windows skipped
    assert abs((blind - OFFSET_MPS2) @ FORWARD_S) > 0.3
    assert abs((learnt - OFFSET_MPS2) @ FORWARD_S) < 0.03, learnt @ FORWARD_S


def test_a_window_carries_the_up_with_the_still_run_s_bias_not_the_settling_s_mean() -> None:
    """The thigh settles 3 deg forward in the last 0.8 s of a rest (slow enough to count as
    rest), then drives for 4.8 s. The gyro's plain mean over that last second is 3 deg/s off
    its bias: the carried up ends 14 deg off the accelerometer's and the window was skipped.
    The still run's bias (``rest_bias``) sees the settling as a turn the accelerometer saw."""
    rest, settle = np.zeros(round(2 * RATE_HZ)), round(0.8 * RATE_HZ)
    settled = np.radians(3.0) * (1 - np.cos(np.pi * np.arange(settle) / settle)) / 2
    t = np.arange(round(4.8 * RATE_HZ)) / RATE_HZ
    drive = settled[-1] + np.radians(40.0) * (1 - np.cos(2 * np.pi * t / 1.2))
    theta = np.concatenate([rest, settled, drive, np.full(len(rest), settled[-1])])
    acc, gyr = _sensor(theta)
    gyr += np.radians([0.8, -0.5, 0.6])  # the gyro's own bias
    learnt = _mounted().learn(acc, gyr, np.ones(len(acc), dtype=bool))
    assert abs((learnt - OFFSET_MPS2) @ FORWARD_S) < 0.04, learnt @ FORWARD_S


def test_windows_closed_before_the_mounting_is_known_count_once_it_is() -> None:
    """The calibration's swings are the first motion off the standing up, and their window
    closes before the mounting is known: it waits, and counts then as if known all along."""
    acc, gyr = _sensor(_drives())
    ok = np.ones(len(acc), dtype=bool)
    first = round(7.6 * RATE_HZ)  # the first set of drives and the rest after it
    learner, known = RestOffset(RATE_HZ), _mounted()
    learner.update(acc[:first], gyr[:first], ok[:first])
    known.update(acc[:first], gyr[:first], ok[:first])
    assert abs((learner.offset_mps2 - OFFSET_MPS2) @ FORWARD_S) > 0.3  # not counted yet
    learner.mounting_known(None)
    assert abs((known.offset_mps2 - OFFSET_MPS2) @ FORWARD_S) < 0.06
    np.testing.assert_allclose(learner.offset_mps2, known.offset_mps2, atol=1e-4)
