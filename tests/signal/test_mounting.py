"""The mounting's offset-corrected axes applied without forming one matrix per sample."""

from __future__ import annotations

import numpy as np
import pytest

from hipsense.exercises import Leg, Posture
from hipsense.signal.mounting import MountingCalibration, in_frame


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def _r_ts_for_offset(cal: MountingCalibration, offsets: np.ndarray) -> np.ndarray:
    """The reference: one matrix per sample, the axes turned by the shortest arc from the
    neutral up to (neutral - offset)/|...|."""
    assert cal.neutral_acc_in_sensor_mps2 is not None
    neutral = np.array(cal.neutral_acc_in_sensor_mps2)
    old = neutral / np.linalg.norm(neutral)
    new = neutral - offsets
    new /= np.linalg.norm(new, axis=1, keepdims=True)
    v, c = np.cross(old, new), new @ old
    vx = np.zeros((len(offsets), 3, 3))
    vx[:, 0, 1], vx[:, 0, 2], vx[:, 1, 2] = -v[:, 2], v[:, 1], -v[:, 0]
    vx -= np.swapaxes(vx, 1, 2)
    turn = np.eye(3) + vx + (vx @ vx) / (1.0 + c)[:, None, None]
    return np.asarray(cal.r_ts @ np.swapaxes(turn, 1, 2))


@pytest.mark.parametrize("seed", range(6))
def test_up_in_thigh_is_the_offset_matrices_applied(seed: int) -> None:
    rng = np.random.default_rng(seed)
    neutral = rng.normal(size=3)
    neutral *= 9.81 / np.linalg.norm(neutral)
    base = MountingCalibration.from_rotation(_rotation(rng), Posture.STANDING, Leg.RIGHT)
    cal = MountingCalibration(
        base.posture,
        base.leg,
        base.thigh_axes_in_sensor,
        neutral_acc_in_sensor_mps2=(float(neutral[0]), float(neutral[1]), float(neutral[2])),
    )
    n = 500
    offsets = np.repeat(rng.normal(0.0, 0.3, size=(50, 3)), 10, axis=0)  # runs, as at rest
    up = rng.normal(size=(n, 3))
    up /= np.linalg.norm(up, axis=1, keepdims=True)
    want = np.einsum("nij,nj->ni", _r_ts_for_offset(cal, offsets), up)
    got = cal.up_in_thigh(up, offsets)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-14)
    # a zero offset leaves the axes as they are; a large one turns them
    np.testing.assert_allclose(cal.up_in_thigh(up, np.zeros((n, 3))), up @ cal.r_ts.T, atol=1e-15)
    assert np.abs(got - up @ cal.r_ts.T).max() > 1e-3


def test_up_in_thigh_without_a_recorded_neutral_uses_the_axes() -> None:
    rng = np.random.default_rng(7)
    cal = MountingCalibration.from_rotation(_rotation(rng), Posture.SUPINE, Leg.LEFT)
    up = rng.normal(size=(20, 3))
    offsets = rng.normal(size=(20, 3))
    # the same product as ``up @ r_ts.T`` but with the same float operations for any N
    np.testing.assert_allclose(cal.up_in_thigh(up, offsets), up @ cal.r_ts.T, rtol=0, atol=1e-15)


def test_rows_turn_into_the_thigh_frame_alike_one_by_one_and_all_at_once() -> None:
    # A matrix product rounds one row differently from many: a 1-sample batch's angles
    # differed from the same sample's in a longer batch in the last bit (a realistic SLR set
    # split into 400 batches showed it).
    rng = np.random.default_rng(3)
    r = _rotation(rng)
    up = rng.normal(size=(500, 3))
    one_by_one = np.vstack([in_frame(up[i : i + 1], r) for i in range(len(up))])
    np.testing.assert_array_equal(in_frame(up, r), one_by_one)
    np.testing.assert_allclose(in_frame(up, r), up @ r.T, rtol=0, atol=1e-15)
