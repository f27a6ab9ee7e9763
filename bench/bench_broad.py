"""BROAD benchmark: 6D inclination error of hipsense's orientation vs optical ground truth.

Inclination error per sample = angle between world-up seen in the IMU frame by the estimate
and by ``opt_quat``; RMSE over ``movement`` samples (NaN excluded), per trial and averaged.
Data: D. Laidig et al., "BROAD", Data 6(7), 2021, CC BY 4.0 (../shared/data/broad).

Run: .venv/bin/python bench/bench_broad.py
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.io

from hipsense.exercises import Leg, Posture
from hipsense.signal.angles import compute_angles
from hipsense.signal.mounting import MountingCalibration
from hipsense.signal.orientation import (
    BROAD_PARAMS,
    VQF_DEFAULTS,
    OrientationParams,
    estimate_orientation_causal,
    estimate_orientation_offline,
    up_in_sensor,
)

BROAD_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "broad"
Estimator = Callable[[np.ndarray, np.ndarray, float], np.ndarray]


def inclination_rmse_deg(quat_est: np.ndarray, quat_true: np.ndarray, mask: np.ndarray) -> float:
    up_est, up_true = up_in_sensor(quat_est), up_in_sensor(quat_true)
    cos = np.clip(np.sum(up_est * up_true, axis=1), -1.0, 1.0)
    err = np.degrees(np.arccos(cos))
    use = mask & np.isfinite(err)
    return float(np.sqrt(np.mean(err[use] ** 2)))


def madgwick(gyr: np.ndarray, acc: np.ndarray, rate_hz: float, beta: float = 0.041) -> np.ndarray:
    """Plain 6D Madgwick (per-sample loop: a benchmark baseline only)."""
    dt, q = 1.0 / rate_hz, np.array([1.0, 0.0, 0.0, 0.0])
    out = np.empty((len(gyr), 4))
    for i in range(len(gyr)):
        w, x, y, z = q
        gx, gy, gz = gyr[i]
        q_dot = 0.5 * np.array(
            [
                -x * gx - y * gy - z * gz,
                w * gx + y * gz - z * gy,
                w * gy - x * gz + z * gx,
                w * gz + x * gy - y * gx,
            ]
        )
        a = acc[i] / (np.linalg.norm(acc[i]) or 1.0)
        f = np.array(
            [
                2 * (x * z - w * y) - a[0],
                2 * (w * x + y * z) - a[1],
                2 * (0.5 - x * x - y * y) - a[2],
            ]
        )
        j = np.array(
            [
                [-2 * y, 2 * z, -2 * w, 2 * x],
                [2 * x, 2 * w, 2 * z, 2 * y],
                [0.0, -4 * x, -4 * y, 0.0],
            ]
        )
        step = j.T @ f
        n = np.linalg.norm(step)
        if n > 0:
            q_dot -= beta * step / n
        q = q + q_dot * dt
        q /= np.linalg.norm(q)
        out[i] = q
    return out


def pipeline(params: OrientationParams, *, offline: bool) -> Estimator:
    """The whole angle pipeline's orientation (sample checks, gap bridging, the accelerometer
    offset learnt at rest), with an arbitrary mounting: only the quaternions are scored."""
    mounting = MountingCalibration.from_rotation(np.eye(3), Posture.STANDING, Leg.RIGHT)

    def run(g: np.ndarray, a: np.ndarray, r: float) -> np.ndarray:
        out = compute_angles(np.arange(len(g)) / r, a, g, r, posture=Posture.STANDING,
                             leg=Leg.RIGHT, calibration=mounting, offline=offline,
                             orientation=params)  # fmt: skip
        return out.quat_wxyz

    return run


def estimators(params: OrientationParams) -> dict[str, Estimator]:
    return {
        "hipsense live": lambda g, a, r: estimate_orientation_causal(g, a, r, params),
        "hipsense offline": lambda g, a, r: estimate_orientation_offline(g, a, r, params),
        "pipeline live": pipeline(params, offline=False),
        "pipeline offline": pipeline(params, offline=True),
        "vqf defaults live": lambda g, a, r: estimate_orientation_causal(g, a, r, VQF_DEFAULTS),
        "vqf defaults offline": lambda g, a, r: estimate_orientation_offline(g, a, r, VQF_DEFAULTS),
    }


def run(params: OrientationParams = BROAD_PARAMS, with_madgwick: bool = False) -> None:
    files = sorted(BROAD_DIR.glob("*.mat"))
    if not files:
        sys.exit(f"BROAD data not found in {BROAD_DIR}")
    methods = estimators(params)
    if with_madgwick:
        methods["madgwick b=0.041"] = madgwick
    table: dict[str, list[float]] = {m: [] for m in methods}
    names = []
    for f in files:
        d = scipy.io.loadmat(f)
        gyr, acc = d["imu_gyr"].astype(float), d["imu_acc"].astype(float)
        rate = float(d["sampling_rate"].item())
        mask = d["movement"].ravel().astype(bool)
        names.append(f.stem[:2])
        for m, est in methods.items():
            table[m].append(inclination_rmse_deg(est(gyr, acc, rate), d["opt_quat"], mask))
    print("BROAD inclination RMSE [deg]")
    print(f"{'method':<22}" + "".join(f"{n:>7}" for n in names) + f"{'mean':>8}")
    for m, vals in table.items():
        print(f"{m:<22}" + "".join(f"{v:7.3f}" for v in vals) + f"{np.mean(vals):8.3f}")


if __name__ == "__main__":
    run(with_madgwick="--madgwick" in sys.argv)
