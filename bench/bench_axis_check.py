"""Speed of the gyroscope-vs-accelerometer axis check that ``analyze`` runs on every import.

Ten minutes of 100 Hz tumbling (rotation about all three axes); the fastest of 5 runs.

Run: .venv/bin/python bench/bench_axis_check.py
"""

from __future__ import annotations

import time

from hipsense.signal.axis_check import check_axes
from hipsense.sim.tumbling import tumbling

RATE_HZ = 100.0


def main() -> None:
    t, acc, gyr = tumbling(600.0, RATE_HZ)
    check_axes(t, acc, gyr, RATE_HZ)  # warm-up
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        check_axes(t, acc, gyr, RATE_HZ)
        best = min(best, time.perf_counter() - start)
    print(f"| axis check of 10 min at 100 Hz ({len(t):,} samples) | {1e3 * best:.0f} ms |")


if __name__ == "__main__":
    main()
