"""Soft-tissue wobble: the sensor rocks on the thigh like a damped 10-16 Hz resonator.

The drive is the thigh's angular acceleration (approximated by the second derivatives of
flexion, abduction and twist), so the wobble lags fast swings and rings after sharp
reversals. It is solved exactly for a piecewise-constant drive on a grid that contains
every output sample, and soft-limited to ``Conditions.wobble_max_deg``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import expm
from scipy.signal import lfilter, ss2tf

from hipsense.exercises import Leg
from hipsense.signal.thigh_frame import leg_sign
from hipsense.sim.keyframes import CH
from hipsense.sim.tracks import FloatArray, QuinticTrack

QUASI_STATIC_S2 = 3.5e-4  # deflection per angular acceleration: 50 rad/s^2 -> 1 degree
IMPACT_LEVER_M = 0.5  # a 20 m/s^2 heel-strike shock rocks the tissue like 40 rad/s^2
MIN_GRID_HZ = 1000.0  # exact for a piecewise-constant drive; 1 ms steps keep it smooth
_CHUNK = 1 << 18


@dataclass(frozen=True)
class WobbleParams:
    natural_hz: float
    damping: float
    max_deg: float

    @classmethod
    def random(cls, rng: np.random.Generator, max_deg: float) -> WobbleParams:
        return cls(float(rng.uniform(10.0, 16.0)), float(rng.uniform(0.1, 0.25)), max_deg)


def _filters(p: WobbleParams, dt_s: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """ZOH-exact discrete filters from drive to deflection and to deflection rate."""
    wn = 2 * math.pi * p.natural_hz
    a = np.array([[0.0, 1.0], [-(wn**2), -2 * p.damping * wn]])
    b = np.array([[0.0], [-QUASI_STATIC_S2 * wn**2]])
    aug = np.zeros((3, 3))
    aug[:2, :2], aug[:2, 2:] = a, b
    step = expm(aug * dt_s)
    ad, bd = step[:2, :2], step[:2, 2:]
    num, den = ss2tf(ad, bd, np.eye(2), np.zeros((2, 1)))
    return np.asarray(num[0]), np.asarray(num[1]), np.asarray(den)


def thigh_wobble(
    track: QuinticTrack,
    leg: Leg,
    n_samples: int,
    rate_hz: float,
    p: WobbleParams,
    *,
    impacts: QuinticTrack | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Wobble rotation vector (n, 3) in the thigh frame at t = k / rate_hz, and its rate.

    Foot-strike shocks (``impacts``: vertical hip offset in metres) also rock the tissue.
    """
    m = max(1, math.ceil(MIN_GRID_HZ / rate_hz))
    dt = 1.0 / (rate_hz * m)
    b_theta, b_rate, den = _filters(p, dt)
    zi_theta = np.zeros((2, 3))
    zi_rate = np.zeros((2, 3))
    gain = np.radians(np.array([leg_sign(leg), -1.0, 0.5]))
    cols = [CH["abd"], CH["flex"], CH["twist"]]
    theta = np.empty((n_samples, 3))
    rate = np.empty((n_samples, 3))
    n_fine = n_samples * m
    for start in range(0, n_fine, _CHUNK):
        idx = np.arange(start, min(n_fine, start + _CHUNK))
        drive = track(idx * dt, deriv=2)[:, cols] * gain
        if impacts is not None:
            drive[:, 1] += impacts(idx * dt, deriv=2)[:, 0] / IMPACT_LEVER_M
        th, zi_theta = lfilter(b_theta, den, drive, axis=0, zi=zi_theta)
        rt, zi_rate = lfilter(b_rate, den, drive, axis=0, zi=zi_rate)
        keep = idx % m == 0
        theta[idx[keep] // m], rate[idx[keep] // m] = th[keep], rt[keep]
    limit = math.radians(p.max_deg)
    squash = np.tanh(theta / limit)
    return limit * squash, rate * (1.0 - squash**2)
