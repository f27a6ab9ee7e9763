"""SPARC: spectral arc length smoothness of a speed profile (Balasubramanian et al. 2015).

Smooth movements have a compact, single-lobed speed spectrum, so a short arc length; jerky
ones add spectral bumps and lengthen it. Values are negative: closer to 0 is smoother
(about -1.4 for a minimum-jerk reach). Chosen over log dimensionless jerk because it is
robust to measurement noise.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def sparc(
    speed: FloatArray,
    rate_hz: float,
    *,
    pad_level: int = 4,
    cutoff_hz: float = 10.0,
    amplitude_threshold: float = 0.05,
) -> float:
    """Spectral arc length of a uniformly sampled speed profile (NaN if it cannot be computed).

    The spectrum is zero-padded (``pad_level`` doublings), normalised to its DC peak, cut at
    ``cutoff_hz`` and then adaptively at the last frequency whose magnitude still reaches
    ``amplitude_threshold``.
    """
    speed = np.asarray(speed, dtype=np.float64)
    if speed.size < 4 or not np.all(np.isfinite(speed)) or not np.any(speed):
        return math.nan
    n_fft = 1 << (math.ceil(math.log2(speed.size)) + pad_level)
    freq_hz = np.fft.rfftfreq(n_fft, d=1.0 / rate_hz)
    mag = np.abs(np.fft.rfft(speed, n_fft))
    mag = mag / mag.max()
    keep = freq_hz <= cutoff_hz
    freq_hz, mag = freq_hz[keep], mag[keep]
    above = np.flatnonzero(mag >= amplitude_threshold)
    last = int(above[-1]) + 1
    freq_hz, mag = freq_hz[:last], mag[:last]
    if freq_hz.size < 2:
        return 0.0
    span_hz = freq_hz[-1] - freq_hz[0]
    arc = np.sqrt((np.diff(freq_hz) / span_hz) ** 2 + np.diff(mag) ** 2)
    return -float(arc.sum())
