"""Stand-in gyro for invalid and lost samples, so orientation is propagated, never faked.

Invalid samples keep their slot but use the last valid gyro (causal: streaming and one-shot
runs agree). Lost samples get slots inserted with gyro interpolated between the neighbours;
none of these slots ever feeds the accelerometer correction or produces an angle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Expanded:
    gyr_radps: FloatArray
    acc_mps2: FloatArray
    acc_ok: BoolArray
    real_index: IntArray
    """Row of each input sample in the expanded arrays."""


def hold_last_valid(gyr: FloatArray, valid: BoolArray, last_gyr: FloatArray) -> FloatArray:
    """Replace invalid rows by the latest valid row (``last_gyr`` before the batch)."""
    idx = np.where(valid, np.arange(len(gyr)), -1)
    idx = np.maximum.accumulate(idx) if len(idx) else idx
    held = np.where((idx >= 0)[:, None], gyr[np.maximum(idx, 0)], last_gyr)
    return np.asarray(held, dtype=np.float64)


def expand_gaps(
    gyr: FloatArray,
    acc: FloatArray,
    acc_ok: BoolArray,
    missing_before: IntArray,
    last_gyr: FloatArray,
) -> Expanded:
    """Insert ``missing_before[i]`` interpolated-gyro slots before each sample i."""
    counts = 1 + np.asarray(missing_before, dtype=np.int64)
    ends = np.cumsum(counts) - 1
    owner = np.repeat(np.arange(len(gyr)), counts)
    pos = np.arange(int(counts.sum())) - np.repeat(ends - counts + 1, counts)
    frac = ((pos + 1) / counts[owner])[:, None]
    prev = np.vstack([last_gyr[None, :], gyr[:-1]]) if len(gyr) else gyr
    gyr_x = prev[owner] + frac * (gyr[owner] - prev[owner])
    real = np.zeros(len(owner), dtype=bool)
    real[ends] = True
    return Expanded(
        gyr_radps=gyr_x,
        acc_mps2=np.where(real[:, None], acc[owner], 0.0),
        acc_ok=real & acc_ok[owner],
        real_index=ends,
    )
