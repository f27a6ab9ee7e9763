"""Sensor errors, int16 quantisation with saturation, and lost-packet bursts."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from hipsense.protocol.hipsense_v1 import SensorInfo
from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.sim.conditions import Conditions
from hipsense.sim.tracks import FloatArray

Int16Array = npt.NDArray[np.int16]
BoolArray = npt.NDArray[np.bool_]


def _clipped_normal(rng: np.random.Generator, sigma: float, limit: float) -> FloatArray:
    return np.clip(rng.normal(0.0, sigma, 3), -limit, limit)


def gyro_errors(rng: np.random.Generator, n: int, rate_hz: float, c: Conditions) -> FloatArray:
    """Additive gyroscope error (n, 3) in rad/s: bias with random-walk drift, white noise."""
    err = np.zeros((n, 3))
    if c.gyro_bias:
        bias = _clipped_normal(rng, c.gyro_bias_sigma_dps, c.gyro_bias_max_dps)
        steps = rng.normal(0.0, c.gyro_drift_dps_per_rts / math.sqrt(rate_hz), (n, 3))
        err += np.radians(bias + np.cumsum(steps, axis=0))
    if c.gyro_noise:
        err += np.radians(rng.normal(0.0, c.gyro_noise_dps_per_rthz * math.sqrt(rate_hz), (n, 3)))
    return err


def acc_errors(rng: np.random.Generator, n: int, rate_hz: float, c: Conditions) -> FloatArray:
    """Additive accelerometer error (n, 3) in m/s^2: constant bias and white noise."""
    err = np.zeros((n, 3))
    if c.acc_bias:
        err += STANDARD_GRAVITY_MPS2 * _clipped_normal(rng, c.acc_bias_sigma_g, c.acc_bias_max_g)
    if c.acc_noise:
        sigma_g = c.acc_noise_ug_per_rthz * 1e-6 * math.sqrt(rate_hz)
        err += STANDARD_GRAVITY_MPS2 * rng.normal(0.0, sigma_g, (n, 3))
    return err


def quantise(values: FloatArray, scale: float) -> tuple[Int16Array, FloatArray]:
    """int16 counts (saturating at the range) and the SI values a decoder gives for them."""
    counts = np.clip(np.rint(values / scale), -32768, 32767).astype(np.int16)
    return counts, counts.astype(np.float64) * scale


def sensor_info(rate_hz: float, c: Conditions) -> SensorInfo:
    return SensorInfo.for_ranges(
        sample_rate_hz=round(rate_hz),
        acc_range_g=c.acc_range_g,
        gyr_range_dps=c.gyr_range_dps,
        model="hipsense-sim",
    )


def lost_mask(rng: np.random.Generator, n: int, fraction: float, burst: int) -> BoolArray:
    """Separate bursts of ``burst`` consecutive lost samples, about ``fraction`` of ``n``."""
    lost = np.zeros(n, dtype=bool)
    slots = n // (2 * burst)  # a slot holds one burst and at least one received sample
    n_bursts = min(slots, round(fraction * n / burst))
    if n_bursts == 0:
        return lost
    chosen = rng.choice(slots, n_bursts, replace=False)
    starts = chosen * 2 * burst + rng.integers(0, burst, n_bursts)
    lost[(starts[:, None] + np.arange(burst)[None, :]).ravel()] = True
    return lost
