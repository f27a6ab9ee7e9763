import numpy as np
import pytest

from hipsense.signal.orientation import (
    HIPSENSE_PARAMS,
    OrientationEstimator,
    OrientationParams,
    estimate_orientation_causal,
    estimate_orientation_offline,
    quat_conjugate,
    quat_from_rotvec,
    quat_multiply,
    quat_rotate,
    up_in_sensor,
)

RATE_HZ = 100.0


def _motion(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Smooth random rotation rates with gravity-ish acc (consistency tests, not accuracy)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE_HZ
    gyr = np.stack([np.sin(2 * np.pi * f * t + p) for f, p in rng.uniform(0.1, 1.5, (3, 2))], 1)
    acc = np.array([0.5, -0.3, 9.7]) + 0.3 * rng.standard_normal((n, 3))
    return gyr, acc


def test_random_batch_sizes_give_exactly_the_all_at_once_result() -> None:
    gyr, acc = _motion(3000, 1)
    whole = estimate_orientation_causal(gyr, acc, RATE_HZ)
    rng = np.random.default_rng(7)
    cuts = np.sort(rng.choice(np.arange(1, 3000), 40, replace=False))
    est = OrientationEstimator(RATE_HZ)
    parts = [
        est.update(g, a) for g, a in zip(np.split(gyr, cuts), np.split(acc, cuts), strict=True)
    ]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


@pytest.mark.parametrize("tilt_axis", [np.array([1.0, 0, 0]), np.array([0.3, 0.9, 0.1])])
def test_still_sensor_sees_gravity_as_up(tilt_axis: np.ndarray) -> None:
    g_in_sensor = np.cross(tilt_axis / np.linalg.norm(tilt_axis), [0.0, 0.0, 1.0])
    g_in_sensor[2] += 1.0
    g_in_sensor = 9.81 * g_in_sensor / np.linalg.norm(g_in_sensor)
    acc = np.tile(g_in_sensor, (500, 1))
    for quat in (
        estimate_orientation_causal(np.zeros((500, 3)), acc, RATE_HZ),
        estimate_orientation_offline(np.zeros((500, 3)), acc, RATE_HZ),
    ):
        np.testing.assert_allclose(up_in_sensor(quat[-1:])[0], g_in_sensor / 9.81, atol=1e-3)


def test_invalid_samples_never_reach_the_accelerometer_correction() -> None:
    gyr, acc = _motion(1000, 2)
    valid = np.ones(1000, dtype=bool)
    valid[300:400] = False
    corrupted = acc.copy()
    corrupted[300:400] = [50.0, -80.0, 1e6]
    corrupted[350] = np.nan
    a = estimate_orientation_causal(gyr, acc, RATE_HZ, valid=valid)
    b = estimate_orientation_causal(gyr, corrupted, RATE_HZ, valid=valid)
    np.testing.assert_array_equal(a, b)
    assert np.isfinite(b).all()


def test_nan_gyro_does_not_poison_the_state() -> None:
    gyr, acc = _motion(600, 3)
    gyr[100] = np.nan
    quat = OrientationEstimator(RATE_HZ).update(gyr, acc)
    assert np.isfinite(quat).all()


def test_output_shift_rotates_along_the_rate() -> None:
    gyr = np.tile([0.0, 0.0, 2.0], (200, 1))
    acc = np.tile([0.0, 0.0, 9.81], (200, 1))
    plain = estimate_orientation_causal(gyr, acc, RATE_HZ, OrientationParams())
    shifted = estimate_orientation_causal(gyr, acc, RATE_HZ, HIPSENSE_PARAMS)

    def yaw(q: np.ndarray) -> np.ndarray:
        return np.asarray(2 * np.arctan2(q[:, 3], q[:, 0]))

    step = np.angle(np.exp(1j * (yaw(shifted) - yaw(plain))))
    np.testing.assert_allclose(step[50:], -0.5 * 2.0 / RATE_HZ, atol=2e-3)


def test_rejects_bad_shapes_and_rate() -> None:
    with pytest.raises(ValueError, match="rate_hz"):
        OrientationEstimator(0.0)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        OrientationEstimator(RATE_HZ).update(np.zeros((5, 2)), np.zeros((5, 2)))
    assert OrientationEstimator(RATE_HZ).update(np.zeros((0, 3)), np.zeros((0, 3))).shape == (0, 4)


def test_realign_snaps_inclination_and_the_filter_stays_there() -> None:
    est = OrientationEstimator(RATE_HZ)
    est.update(np.zeros((300, 3)), np.tile([0.0, 0.0, 9.81], (300, 1)))
    tilted = np.array([0.0, 5.0, 8.0])
    est.realign(tilted)
    quat = est.update(np.zeros((200, 3)), np.tile(tilted, (200, 1)))
    np.testing.assert_allclose(up_in_sensor(quat), np.tile(tilted / 9.4339811, (200, 1)), atol=1e-6)


def test_lever_arm_compensation_leaves_gravity_only() -> None:
    from hipsense.signal.lever_arm import compensate

    t = np.arange(400) / RATE_HZ
    angle = 0.6 * np.sin(2 * np.pi * 0.8 * t)  # a swing about the sensor's y axis
    rate = np.gradient(angle, t)
    gyr = np.column_stack([np.zeros_like(t), rate, np.zeros_like(t)])
    lever = np.array([0.02, 0.0, -0.2])  # sensor below the hip
    up = np.column_stack([-np.sin(angle), np.zeros_like(t), np.cos(angle)])  # R_y(angle)^T z
    spin_up = np.column_stack([np.zeros_like(t), np.gradient(rate, t), np.zeros_like(t)])
    induced = np.cross(spin_up, lever) + np.cross(gyr, np.cross(gyr, lever))
    acc = 9.80665 * up + induced
    clean = compensate(acc, gyr, gyr[0], lever, RATE_HZ)
    # The causal (backward) derivative lags half a sample: ~0.1 m/s^2 here, vs 3 m/s^2 removed.
    np.testing.assert_allclose(clean[5:-5], 9.80665 * up[5:-5], atol=0.12)


def test_quat_conjugate_undoes_the_rotation() -> None:
    rng = np.random.default_rng(100)
    q = quat_from_rotvec(rng.uniform(-2.0, 2.0, (5, 3)))
    v = rng.standard_normal((5, 3))
    np.testing.assert_allclose(quat_rotate(quat_conjugate(q), quat_rotate(q, v)), v, atol=1e-12)
    identity = np.tile([1.0, 0.0, 0.0, 0.0], (5, 1))
    np.testing.assert_allclose(quat_multiply(q, quat_conjugate(q)), identity, atol=1e-12)


def test_quaternion_helpers_compute_the_textbook_formulas_to_the_bit() -> None:
    """quat_multiply and quat_from_rotvec skip numpy's strided views and norm, not its
    arithmetic: the same floats as the formulas written plainly."""
    from hipsense.signal.orientation import quat_from_rotvec

    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(500, 4)), rng.normal(size=(500, 4))
    w1, x1, y1, z1 = a.T
    w2, x2, y2, z2 = b.T
    plain = np.stack(
        [w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2, w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
         w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2, w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2], -1
    )  # fmt: skip
    assert np.array_equal(quat_multiply(a, b), plain)
    assert np.array_equal(quat_multiply(a[0], b[0]), plain[0])
    rotvec = rng.normal(size=(500, 3)) * np.array([1e-3, 0.1, 2.0])
    rotvec[0] = 0.0
    angle = np.linalg.norm(rotvec, axis=-1)
    axis = rotvec / np.maximum(angle, 1e-15)[..., None]
    want = np.concatenate([np.cos(angle / 2)[..., None], axis * np.sin(angle / 2)[..., None]], -1)
    assert np.array_equal(quat_from_rotvec(rotvec), want)
    assert np.array_equal(quat_from_rotvec(rotvec[3]), want[3])


def test_non_finite_and_invalid_samples_are_prepared_as_before() -> None:
    rng = np.random.default_rng(9)
    gyr, acc = rng.normal(size=(200, 3)), rng.normal(size=(200, 3)) + np.array([0, 0, 9.8])
    gyr[5, 1], acc[9, 2], acc[11, 0] = np.nan, np.inf, -np.inf
    valid = rng.random(200) > 0.1
    for v in (None, valid):
        whole = OrientationEstimator(100.0).update(gyr, acc, v)
        clean_gyr = np.where(np.isfinite(gyr), gyr, 0.0)
        bad = ~np.isfinite(acc).all(1) | ~np.isfinite(gyr).all(1) | (v is not None and ~valid)
        clean_acc = np.where(bad[:, None], 0.0, acc)
        ok = np.ones(200, bool)
        assert np.array_equal(whole, OrientationEstimator(100.0).update(clean_gyr, clean_acc, ok))


def test_an_offset_learnt_better_moves_the_estimate_at_once_as_if_removed_all_along() -> None:
    # At rest, a reading 0.5 m/s^2 off along x (2.9 deg of tilt), then that offset learnt.
    raw = np.tile([0.5, 0.0, 9.80665], (600, 1))
    step = np.array([0.5, 0.0, 0.0])
    rest = np.zeros((600, 3))
    ests = [OrientationEstimator(RATE_HZ) for _ in range(3)]
    for est, offset in zip(ests, (0.0, 0.0, 1.0), strict=True):
        est.update(rest[:300], raw[:300] - offset * step)
    ests[0].offset_changed(step)
    shifted, left, fresh = (up_in_sensor(e.update(rest[300:], raw[300:] - step)) for e in ests)
    np.testing.assert_allclose(shifted, fresh, atol=1e-3)  # 0.06 deg
    assert np.abs(left[:100] - fresh[:100]).max() > 0.01  # left to the filter: tau_acc
    np.testing.assert_allclose(ests[0].gyro_bias_radps, ests[2].gyro_bias_radps, atol=1e-5)


def test_an_offset_learnt_right_after_a_realign_turns_the_estimate_by_its_own_tilt() -> None:
    """A gap check realigns to a mean direction (a unit vector): a step of 0.3 m/s^2 across
    it is 1.75 deg of tilt at the reading's scale, not 15 deg at the unit vector's."""
    est = OrientationEstimator(RATE_HZ)
    reading = np.array([0.0, 0.0, 9.80665])
    est.update(np.zeros((300, 3)), np.tile(reading, (300, 1)))
    est.realign(reading / np.linalg.norm(reading))  # a gap check's mean direction
    step = np.array([0.3, 0.0, 0.0])
    before = up_in_sensor(est.update(np.zeros((1, 3)), reading[None]))[0]
    est.offset_changed(step)
    after = up_in_sensor(est.update(np.zeros((1, 3)), (reading - step)[None]))[0]
    turned_deg = np.degrees(np.arccos(np.clip(before @ after, -1.0, 1.0)))
    assert abs(turned_deg - np.degrees(np.arctan(0.3 / 9.80665))) < 0.05, turned_deg
