"""The accelerometer's in-use offset, learnt at rest (``rest_offset.RestOffset``)."""

import itertools

import numpy as np

from hipsense.signal.rest_offset import RestOffset

RATE_HZ = 100.0


def test_rest_offset_solved_only_at_rest_equals_solving_every_sample() -> None:
    """Offsets are solved only where a rest sample changed the sums and held in between:
    bit for bit what solving every sample's sums gives, however the input is split."""
    rng = np.random.default_rng(4)
    n = 900
    acc = np.tile([0.3, -0.2, 9.9], (n, 1)) + rng.normal(0, 0.01, (n, 3))
    gyr = rng.normal(0, 0.002, (n, 3))
    gyr[200:260] += 1.5  # moves: no rest, then rest again (confirmed 0.1 s later)
    gyr[500:503] += 1.0
    ok = rng.random(n) > 0.02
    probe = RestOffset(RATE_HZ)
    confirmed = probe._detector.confirmed(acc, gyr, ok)
    lag = probe._lag
    a = np.where(ok[:, None], acc, np.nan)
    u = a / np.linalg.norm(a, axis=1)[:, None]
    terms = np.hstack([(u[:, :, None] * u[:, None, :]).reshape(-1, 9),
                       u * (np.linalg.norm(a, axis=1) - 9.80665)[:, None]])  # fmt: skip
    lagged = np.vstack([np.zeros((lag, 12)), terms])[:n]
    sums = np.cumsum(np.vstack([np.zeros(12), np.where(confirmed[:, None], lagged, 0.0)]), 0)[1:]
    info = sums[:, :9].reshape(-1, 3, 3) + probe._ridge
    dense = np.linalg.solve(info, sums[:, 9:, None])[:, :, 0]
    assert 0 < confirmed.sum() < n
    for cuts in ([0, n], [0, 3, 205, 211, 640, n], list(range(0, n + 1, 50))):
        split = RestOffset(RATE_HZ)
        parts = [split.update(acc[i:j], gyr[i:j], ok[i:j]) for i, j in itertools.pairwise(cuts)]
        np.testing.assert_array_equal(np.concatenate(parts), dense)
    # the whole recording's final offset, solved once, is the last of those
    np.testing.assert_array_equal(RestOffset(RATE_HZ).learn(acc, gyr, ok), dense[-1])
    learner = RestOffset(RATE_HZ)
    learner.learn(acc[:300], gyr[:300], ok[:300])
    np.testing.assert_array_equal(learner.learn(acc[300:], gyr[300:], ok[300:]), dense[-1])


def _rest_then(turn: np.ndarray, tilt_deg: float, short_mg: float) -> tuple[np.ndarray, ...]:
    """2 s standing still (up along sensor z), then the leg ``tilt_deg`` forward with the
    gyro about x as ``turn`` (rad/s per sample) and |a| ``short_mg`` under g, then a swing
    away and 2 s still again."""
    g, rest = 9.80665, round(2 * RATE_HZ)
    up = np.array([0.0, np.sin(np.radians(tilt_deg)), np.cos(np.radians(tilt_deg))])
    n_turn, n_swing = len(turn), round(0.3 * RATE_HZ)
    acc = np.vstack([np.tile([0.0, 0.0, g], (rest, 1)),
                     np.tile(up * (g - short_mg * 1e-3 * g), (n_turn, 1)),
                     np.tile([0.0, 0.0, g], (n_swing + rest, 1))])  # fmt: skip
    gyr = np.zeros((len(acc), 3))
    gyr[rest : rest + n_turn, 0] = turn
    gyr[rest + n_turn : rest + n_turn + n_swing, 0] = 2.0
    return acc, gyr, np.ones(len(acc), dtype=bool)


def test_a_swing_turning_slowly_is_no_rest_but_a_held_pose_is() -> None:
    """At a slow swing's turning point the gyro passes zero calmly, but its tangential
    acceleration shortens |a| (24 mg at 27 deg of flexion): taken as rest, it taught a clean
    sensor an offset of 6 mg across the thigh. A pose held as long, its gyro flat, teaches
    the same shortfall as the offset along it."""
    n = round(0.4 * RATE_HZ)
    turning = np.radians(np.linspace(-11.0, 11.0, n))  # 55 deg/s^2 through zero
    offset = RestOffset(RATE_HZ).learn(*_rest_then(turning, 27.0, 24.0))
    assert np.abs(offset).max() < 0.1e-3 * 9.80665
    held = RestOffset(RATE_HZ).learn(*_rest_then(np.zeros(n), 27.0, 24.0))
    assert held[1] < -2e-3 * 9.80665  # the shortfall, along the held pose's forward tilt
