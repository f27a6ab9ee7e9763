"""Vectorised still/motion segmentation and the dominant rotation axis (mounting calibration)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from hipsense.masks import runs

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class StillParams:
    """What counts as holding still: a slow gyro and an accelerometer that reads only gravity.

    The gyro limit tolerates breathing and a few deg/s of uncalibrated bias; the slowest
    calibration swing turns at well over 30 deg/s, so the two never meet.
    """

    window_s: float = 0.25
    gyr_max_dps: float = 12.0
    acc_dev_max_mps2: float = 0.5
    min_still_s: float = 0.5


def still_mask(
    gyr_radps: FloatArray, acc_mps2: FloatArray, rate_hz: float, p: StillParams
) -> BoolArray:
    """True where the sensor is held still (window-smoothed; NaN samples count as moving)."""
    win = max(1, round(p.window_s * rate_hz))
    gyr_dps = np.degrees(np.linalg.norm(np.nan_to_num(gyr_radps, nan=1e3), axis=1))
    acc_norm = np.linalg.norm(np.nan_to_num(acc_mps2, nan=1e3), axis=1)
    # Deviation from the local mean, not from g: an uncalibrated |a| can be 1 m/s^2 off g.
    acc_dev = np.abs(acc_norm - uniform_filter1d(acc_norm, 4 * win, mode="nearest"))
    slow = uniform_filter1d(gyr_dps, win, mode="nearest") < p.gyr_max_dps
    calm = maximum_filter1d(acc_dev, win, mode="nearest") < p.acc_dev_max_mps2
    return np.asarray(slow & calm, dtype=bool)


def still_runs(mask: BoolArray, rate_hz: float, min_s: float) -> list[tuple[int, int]]:
    return [(a, b) for a, b in runs(mask) if (b - a) >= min_s * rate_hz]


def dominant_axis(gyr_radps: FloatArray) -> tuple[FloatArray, float]:
    """Principal rotation axis (unit, sign arbitrary) and the out-of-plane RMS angle in degrees."""
    moment = gyr_radps.T @ gyr_radps
    eigval, eigvec = np.linalg.eigh(moment)
    lam = np.maximum(eigval, 0.0)
    off_plane_deg = float(np.degrees(np.arctan(np.sqrt((lam[0] + lam[1]) / max(lam[2], 1e-12)))))
    return eigvec[:, 2], off_plane_deg
