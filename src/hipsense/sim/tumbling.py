"""A sensor tumbling about all three axes: what the simulator's near-planar drills are not.

Used to check the gyroscope-vs-accelerometer axis check on motion that reveals every axis.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation

from hipsense.samples import STANDARD_GRAVITY_MPS2

FloatArray = npt.NDArray[np.float64]


def tumbling(seconds: float, rate_hz: float = 100.0) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(t_s, acc_mps2, gyr_radps) of pure rotation (no linear acceleration, no noise)."""
    t = np.arange(0.0, seconds, 1.0 / rate_hz)
    f = np.array([0.23, 0.31, 0.17])
    r = Rotation.from_euler("zyx", np.array([0.8, 0.6, 0.7]) * np.sin(2 * np.pi * f * t[:, None]))
    gyr = (r[:-1].inv() * r[1:]).as_rotvec() * rate_hz
    acc = r[:-1].inv().apply([0.0, 0.0, STANDARD_GRAVITY_MPS2])
    return t[:-1], np.asarray(acc, dtype=np.float64), np.asarray(gyr, dtype=np.float64)
