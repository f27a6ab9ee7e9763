"""The down leg's check from its own accelerometer: tilt from rest, no mounting calibration."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from scipy.spatial.transform import Rotation

from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.signal.down_leg import TILT_THRESHOLD_DEG, DownLegCheck, check_down_leg

RATE_HZ = 100.0
START_S, PEAK_S, END_S = 3.0, 4.5, 7.0
FloatArray = npt.NDArray[np.float64]


def _s_curve(t: FloatArray, t0: float, t1: float) -> FloatArray:
    """0 before t0, 1 after t1, a minimum-jerk rise between."""
    x = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
    return np.asarray(x**3 * (10 - 15 * x + 6 * x**2), dtype=np.float64)


def _raise(
    tilt_deg: float,
    *,
    axis: tuple[float, float, float] = (0.0, 1.0, 0.0),
    noise_mps2: float = 0.02,
    bias_mps2: tuple[float, float, float] = (0.0, 0.0, 0.0),
    seed: int = 0,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """A raise of the other leg to 80° (START_S to PEAK_S) while the down thigh, lying with
    its sensor turned any way, tilts by ``tilt_deg`` with the same timing; returns the down
    thigh's (t_s, acc) and the raised leg's (t_s, angle)."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, END_S, 1.0 / RATE_HZ)
    frac = _s_curve(t, START_S, PEAK_S)
    mounting = Rotation.random(random_state=seed)  # no calibration: any sensor attitude
    tilt = Rotation.from_rotvec(np.radians(tilt_deg) * frac[:, None] * np.asarray(axis))
    up_in_sensor = (tilt * mounting).inv().apply([0.0, 0.0, STANDARD_GRAVITY_MPS2])
    acc = up_in_sensor + np.asarray(bias_mps2) + rng.normal(0.0, noise_mps2, (t.size, 3))
    return t, acc, t, 80.0 * frac


def _check(t: FloatArray, acc: FloatArray, t_up: FloatArray, up: FloatArray) -> DownLegCheck:
    check = check_down_leg(t, acc, t_up, up, start_s=START_S, peak_s=PEAK_S)
    assert check is not None
    return check


def _raised_when_tilted(tilt_deg: float, threshold_deg: float) -> float:
    """The raised leg's angle when a down thigh tilting to ``tilt_deg`` passes the threshold
    (both follow the same curve: the raised leg is 80° at the top)."""
    return 80.0 * threshold_deg / tilt_deg


def test_a_down_leg_following_the_pelvis_is_not_flagged() -> None:
    # an 80° raise: the simulator's pelvis follow tilts a correct down thigh by 2.4°
    check = _check(*_raise(2.4))
    assert not check.moved and check.moved_at_s is None and check.raised_at_move_deg is None
    assert check.tilt_deg == pytest.approx(2.4, abs=0.15)
    assert check.tilt_deg < TILT_THRESHOLD_DEG - 1.0


@pytest.mark.parametrize(
    "axis", [(0.0, 1.0, 0.0), (1.0, 0.0, 0.0)], ids=["knee-lifts", "leg-rolls-outward"]
)
def test_a_lift_or_roll_is_flagged_where_it_passes_the_threshold(
    axis: tuple[float, float, float],
) -> None:
    check = _check(*_raise(8.0, axis=axis))
    assert check.moved and check.moved_at_s is not None
    assert START_S < check.moved_at_s < PEAK_S
    assert check.tilt_deg == pytest.approx(8.0, abs=0.2)
    assert check.raised_at_move_deg == pytest.approx(_raised_when_tilted(8.0, 4.0), abs=1.0)


def test_an_accelerometer_bias_along_gravity_does_not_delay_the_move() -> None:
    # a 0.1 g bias along gravity, whatever the sensor's axes: the rest reading's magnitude
    t, acc, t_up, up = _raise(6.0)
    bias = 0.1 * acc[:50].mean(axis=0)
    check = _check(t, acc + bias, t_up, up)
    assert check.tilt_deg == pytest.approx(6.0, abs=0.2)
    assert check.raised_at_move_deg == pytest.approx(_raised_when_tilted(6.0, 4.0), abs=1.0)


def test_a_jolt_is_no_move() -> None:
    t, acc, t_up, up = _raise(2.4)
    jolt = (t > 3.8) & (t < 3.88)  # the body shaken sideways as the other leg kicks
    acc[jolt] += np.cross(acc[jolt], [1.0, 0.0, 0.0]) * 0.3
    check = _check(t, acc, t_up, up)
    assert check.tilt_deg > TILT_THRESHOLD_DEG
    assert not check.moved


def test_a_move_after_the_peak_is_not_the_raise_s() -> None:
    t, acc, t_up, up = _raise(0.0)
    late = _s_curve(t, PEAK_S + 0.2, PEAK_S + 1.0)  # the down leg lifts on the way down
    acc = Rotation.from_rotvec(np.radians(8.0) * late[:, None] * [0.0, 1.0, 0.0]).apply(acc)
    assert not _check(t, acc, t_up, up).moved


@pytest.mark.parametrize(
    "damage",
    ["disconnected", "gap", "nan", "no-rest", "zeros", "shape"],
)
def test_without_usable_down_leg_data_the_raise_is_not_watched(damage: str) -> None:
    t, acc, t_up, up = _raise(8.0)
    if damage == "disconnected":
        keep = t < START_S + 0.5
        t, acc = t[keep], acc[keep]
    elif damage == "gap":
        keep = (t < 3.5) | (t > 4.0)
        t, acc = t[keep], acc[keep]
    elif damage == "nan":
        acc[(t > 3.2) & (t < 4.2)] = np.nan
    elif damage == "no-rest":
        keep = t > START_S
        t, acc = t[keep], acc[keep]
    elif damage == "zeros":
        acc[:] = 0.0
    else:
        acc = acc[:-1]
    assert check_down_leg(t, acc, t_up, up, start_s=START_S, peak_s=PEAK_S) is None


def test_without_the_raised_leg_s_angles_the_move_is_kept_without_a_value() -> None:
    t, acc, _, _ = _raise(8.0)
    check = check_down_leg(t, acc, [], [], start_s=START_S, peak_s=PEAK_S)
    assert check is not None and check.moved and check.raised_at_move_deg is None
