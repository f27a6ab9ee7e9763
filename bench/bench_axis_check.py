"""Speed of the gyroscope-vs-accelerometer axis check that ``analyze`` runs on every import.

Ten minutes of 100 Hz tumbling (rotation about all three axes); the fastest of 5 runs.

Run: .venv/bin/python bench/bench_axis_check.py
"""

from __future__ import annotations

import time

import numpy as np
from scipy.spatial.transform import Rotation

from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.signal.axis_check import check_axes

RATE_HZ = 100.0


def tumble(seconds: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.arange(0.0, seconds, 1.0 / RATE_HZ)
    f = np.array([0.23, 0.31, 0.17])
    r = Rotation.from_euler("zyx", np.array([0.8, 0.6, 0.7]) * np.sin(2 * np.pi * f * t[:, None]))
    gyr = (r[:-1].inv() * r[1:]).as_rotvec() * RATE_HZ
    return t[:-1], r[:-1].inv().apply([0.0, 0.0, STANDARD_GRAVITY_MPS2]), gyr


def main() -> None:
    t, acc, gyr = tumble(600.0)
    check_axes(t, acc, gyr, RATE_HZ)  # warm-up
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        check_axes(t, acc, gyr, RATE_HZ)
        best = min(best, time.perf_counter() - start)
    print(f"| axis check of 10 min at 100 Hz ({len(t):,} samples) | {1e3 * best:.0f} ms |")


if __name__ == "__main__":
    main()
