"""Sensor errors and soft-tissue wobble have the advertised size and character."""

import math

import numpy as np
import pytest

from hipsense.exercises import Leg
from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.sim import Conditions, plan_set, simulate
from hipsense.sim.keyframes import CHANNELS
from hipsense.sim.tracks import QuinticTrack
from hipsense.sim.wobble import WobbleParams, thigh_wobble


def _still_samples(conditions: Conditions, seed: int) -> tuple[np.ndarray, np.ndarray]:
    plan = plan_set("slr", Leg.LEFT, 1, np.random.default_rng(seed))
    s = simulate(plan, rate_hz=100, seed=seed, conditions=conditions)
    clean = simulate(plan, rate_hz=100, seed=seed)
    sel = s.t_s < s.segments[0].end_s
    return s.gyr_radps[sel] - clean.gyr_radps[sel], s.acc_mps2[sel] - clean.acc_mps2[sel]


def test_white_noise_has_the_configured_density() -> None:
    c = Conditions.clean().with_(gyro_noise=True, acc_noise=True)
    gyr, acc = _still_samples(c, 1)
    gyr_sigma = math.radians(c.gyro_noise_dps_per_rthz * 10.0)
    acc_sigma = c.acc_noise_ug_per_rthz * 1e-6 * 10.0 * STANDARD_GRAVITY_MPS2
    assert np.std(gyr, axis=0) == pytest.approx([gyr_sigma] * 3, rel=0.25)
    assert np.std(acc, axis=0) == pytest.approx([acc_sigma] * 3, rel=0.25)
    assert np.abs(np.mean(gyr, axis=0)).max() < 0.3 * gyr_sigma


def test_biases_are_constant_offsets_within_their_limits() -> None:
    c = Conditions.clean().with_(gyro_bias=True, acc_bias=True)
    offsets = []
    for seed in range(8):
        gyr, acc = _still_samples(c, seed)
        assert np.degrees(np.abs(gyr)).max() <= c.gyro_bias_max_dps + 0.1
        assert np.abs(acc).max() <= c.acc_bias_max_g * STANDARD_GRAVITY_MPS2 + 0.01
        assert np.std(acc, axis=0).max() < 0.01  # constant but for quantisation
        offsets.append(np.degrees(gyr.mean(axis=0)))
    assert np.std(offsets) > 0.5  # a few degrees per second, different per sensor


def test_wobble_rings_at_its_natural_frequency_and_stays_small() -> None:
    t = np.array([0.0, 0.5, 0.65, 2.0])
    value = np.zeros((4, len(CHANNELS)))
    value[2:, CHANNELS.index("flex")] = 60.0  # a sharp 60 degree kick, then hold
    track = QuinticTrack(t, value, np.zeros_like(value), np.zeros_like(value))
    params = WobbleParams(natural_hz=13.0, damping=0.12, max_deg=2.0)
    theta, rate = thigh_wobble(track, Leg.RIGHT, 2000, 1000.0, params)
    flex_axis = np.degrees(theta[:, 1])
    assert 0.3 < np.abs(flex_axis).max() <= 2.0
    ringing = flex_axis[660:1100]
    crossings = np.flatnonzero(np.diff(np.sign(ringing)) != 0)
    period_s = 2 * np.mean(np.diff(crossings)) / 1000.0
    assert 1 / period_s == pytest.approx(13.0 * math.sqrt(1 - 0.12**2), rel=0.05)
    slope = np.gradient(theta[:, 1], 1e-3)[1:-1]
    np.testing.assert_allclose(slope, rate[1:-1, 1], rtol=0.05, atol=0.02)


@pytest.mark.parametrize("exercise_id", ["knee-drive", "straight-leg-march"])
def test_foot_strikes_shake_the_accelerometer_only_at_contact(exercise_id: str) -> None:
    plan = plan_set(exercise_id, Leg.RIGHT, 4, np.random.default_rng(3))
    base = Conditions.clean().with_(random_mounting=True)
    calm = simulate(plan, rate_hz=200, seed=3, conditions=base)
    shaken = simulate(plan, rate_hz=200, seed=3, conditions=base.with_(foot_impacts=True))
    np.testing.assert_array_equal(calm.gyr_raw, shaken.gyr_raw)
    shock = np.linalg.norm(shaken.acc_mps2 - calm.acc_mps2, axis=1)
    assert 0.5 * STANDARD_GRAVITY_MPS2 < shock.max() < 4.0 * STANDARD_GRAVITY_MPS2
    set_ = next(seg for seg in shaken.segments if seg.kind == "set")
    outside = (shaken.t_s < set_.start_s) | (shaken.t_s > set_.end_s + 0.2)
    assert shock[outside].max() < 0.01
    if exercise_id == "knee-drive":  # the foot lands as the rep ends
        for rep in shaken.reps:
            near = np.abs(shaken.t_s - rep.end_s) < 0.15
            assert shock[near].max() > 0.3 * STANDARD_GRAVITY_MPS2
