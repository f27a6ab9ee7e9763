"""The sensor sits 15-25 cm from the hip: a swing adds w' x r + w x (w x r) to its reading.

``estimate_lever_arm`` fits r (hip joint centre -> sensor, sensor frame) by least squares
over the calibration swings, where a - g*up = [w']x r + [w]x^2 r. ``compensate`` removes
the term before fusion, with a causal (backward) derivative so live and one-shot agree.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hipsense.samples import STANDARD_GRAVITY_MPS2

FloatArray = npt.NDArray[np.float64]

MIN_LEVER_M, MAX_LEVER_M = 0.03, 0.6


def _skew(v: FloatArray) -> FloatArray:
    z = np.zeros(len(v))
    x, y, w = v[:, 0], v[:, 1], v[:, 2]
    return np.stack(
        [np.stack([z, -w, y], -1), np.stack([w, z, -x], -1), np.stack([-y, x, z], -1)], -2
    )


def _rigid_map(gyr: FloatArray, spin_up: FloatArray) -> FloatArray:
    """K (N, 3, 3) with K r = w' x r + w x (w x r)."""
    w = _skew(gyr)
    return np.asarray(_skew(spin_up) + w @ w, dtype=np.float64)


def estimate_lever_arm(
    gyr_radps: FloatArray, acc_mps2: FloatArray, up_in_sensor: FloatArray, rate_hz: float
) -> FloatArray | None:
    """Least-squares lever arm (m, sensor frame) from swing samples, or None if implausible."""
    if len(gyr_radps) < 10:
        return None
    spin_up = np.gradient(gyr_radps, axis=0) * rate_hz
    k = _rigid_map(gyr_radps, spin_up)
    # A constant accelerometer offset is fitted alongside, so it does not leak into r.
    design = np.concatenate([k, np.broadcast_to(np.eye(3), k.shape)], axis=2).reshape(-1, 6)
    rhs = (acc_mps2 - STANDARD_GRAVITY_MPS2 * up_in_sensor).reshape(-1)
    r = np.linalg.lstsq(design, rhs, rcond=None)[0][:3]
    length = float(np.linalg.norm(r))
    return r if MIN_LEVER_M <= length <= MAX_LEVER_M else None


def compensate(
    acc_mps2: FloatArray,
    gyr_radps: FloatArray,
    prev_gyr_radps: FloatArray,
    lever_m: FloatArray,
    rate_hz: float,
    *,
    no_history: npt.NDArray[np.bool_] | None = None,
) -> FloatArray:
    """Accelerometer minus the rotation-induced acceleration at the sensor (causal).

    ``no_history`` marks samples right after a gap, whose rate change is unknown (taken as 0).
    """
    prev = np.vstack([prev_gyr_radps[None, :], gyr_radps[:-1]]) if len(gyr_radps) else gyr_radps
    spin_up = (gyr_radps - prev) * rate_hz
    if no_history is not None:
        spin_up[no_history] = 0.0
    induced = np.einsum("nij,j->ni", _rigid_map(gyr_radps, spin_up), lever_m)
    return np.asarray(acc_mps2 - induced, dtype=np.float64)
