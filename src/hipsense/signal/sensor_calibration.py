"""One-time sensor calibration: accelerometer offset and scale (six faces), gyro bias at rest.

Lay the sensor on each of its six faces in turn and hold each still for >= 1 s. Every still
pose gives one mean accelerometer vector whose true length is g; offsets and per-axis scales
are the least-squares fit of those lengths (started from the classic max/min per axis).
An uncalibrated 0.04 g offset tilts the gravity reference by up to 2.3 deg, which no mounting
calibration can remove everywhere in a swing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import least_squares

from hipsense.errors import CalibrationError
from hipsense.samples import STANDARD_GRAVITY_MPS2, SampleBatch
from hipsense.signal.motion_phases import StillParams, still_mask, still_runs

FloatArray = npt.NDArray[np.float64]
Vec3 = tuple[float, float, float]
FACE_NAMES = ("+x", "-x", "+y", "-y", "+z", "-z")


@dataclass(frozen=True)
class SensorCalibration:
    """calibrated acc = (raw - offset) * scale; calibrated gyro = raw - bias."""

    acc_offset_mps2: Vec3 = (0.0, 0.0, 0.0)
    acc_scale: Vec3 = (1.0, 1.0, 1.0)
    gyr_bias_radps: Vec3 = (0.0, 0.0, 0.0)
    residual_mps2: float = 0.0
    n_poses: int = 0

    def apply_arrays(
        self, acc_mps2: FloatArray, gyr_radps: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        acc = (np.asarray(acc_mps2) - np.array(self.acc_offset_mps2)) * np.array(self.acc_scale)
        return acc, np.asarray(gyr_radps) - np.array(self.gyr_bias_radps)

    def apply(self, batch: SampleBatch) -> SampleBatch:
        acc, gyr = self.apply_arrays(batch.acc_mps2, batch.gyr_radps)
        return SampleBatch(batch.sensor_id, batch.t_s, acc, gyr, batch.mag_ut,
                           batch.lost_before, batch.meta)  # fmt: skip

    def to_dict(self) -> dict[str, object]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> SensorCalibration:
        try:
            vec = {k: _vec3(d[k]) for k in ("acc_offset_mps2", "acc_scale", "gyr_bias_radps")}
            return cls(**vec, residual_mps2=float(d.get("residual_mps2", 0.0)),  # type: ignore[arg-type]
                       n_poses=int(d.get("n_poses", 0)))  # type: ignore[call-overload]  # fmt: skip
        except (KeyError, ValueError, TypeError) as exc:
            raise CalibrationError(
                f"saved sensor calibration is unusable ({exc}): redo it"
            ) from exc


def _vec3(v: object) -> Vec3:
    a = np.asarray(v, dtype=np.float64)
    if a.shape != (3,) or not np.isfinite(a).all():
        raise ValueError(f"expected 3 finite numbers, got {v!r}")
    return (float(a[0]), float(a[1]), float(a[2]))


def _pose_means(
    acc: FloatArray, gyr: FloatArray, rate_hz: float, min_pose_s: float
) -> tuple[FloatArray, FloatArray]:
    # Loosen the accelerometer test: an uncalibrated |a| may be off g by the very offsets sought.
    p = StillParams(acc_dev_max_mps2=3.0, gyr_max_dps=4.0)
    runs = still_runs(still_mask(gyr, acc, rate_hz, p), rate_hz, min_pose_s)
    trim = round(0.2 * rate_hz)  # leave out the settling at either end of a pose
    poses = [(a + trim, b - trim) for a, b in runs if b - a > 2 * trim + 1]
    acc_means = np.array([acc[a:b].mean(axis=0) for a, b in poses]).reshape(-1, 3)
    gyr_means = np.array([gyr[a:b].mean(axis=0) for a, b in poses]).reshape(-1, 3)
    return acc_means, gyr_means


def _missing_faces(acc_means: FloatArray) -> list[str]:
    unit = acc_means / np.linalg.norm(acc_means, axis=1, keepdims=True)
    seen = [(unit[:, i // 2] * (1 if i % 2 == 0 else -1) > 0.8).any() for i in range(6)]
    return [name for name, ok in zip(FACE_NAMES, seen, strict=True) if not ok]


def calibrate_sensor(
    acc_mps2: npt.ArrayLike, gyr_radps: npt.ArrayLike, rate_hz: float, min_pose_s: float = 1.0
) -> SensorCalibration:
    """Fit accelerometer offset/scale and gyro bias from a six-face recording."""
    acc, gyr = np.asarray(acc_mps2, dtype=np.float64), np.asarray(gyr_radps, dtype=np.float64)
    acc_means, gyr_means = _pose_means(acc, gyr, rate_hz, min_pose_s)
    missing = _missing_faces(acc_means) if len(acc_means) else list(FACE_NAMES)
    if missing:
        raise CalibrationError(
            "turn the sensor so each of its six faces points down in turn, holding each still"
            f" for {min_pose_s:.0f} s; not seen yet: {', '.join(missing)}"
        )
    top, bottom = acc_means.max(axis=0), acc_means.min(axis=0)
    start = np.concatenate([(top + bottom) / 2, 2 * STANDARD_GRAVITY_MPS2 / (top - bottom)])

    def residual(x: FloatArray) -> FloatArray:
        lengths = np.linalg.norm((acc_means - x[:3]) * x[3:], axis=1)
        return np.asarray(lengths - STANDARD_GRAVITY_MPS2, dtype=np.float64)

    fit = least_squares(residual, start)
    rms = float(np.sqrt(np.mean(fit.fun**2)))
    return SensorCalibration(
        acc_offset_mps2=_vec3(fit.x[:3]),
        acc_scale=_vec3(fit.x[3:]),
        gyr_bias_radps=_vec3(np.median(gyr_means, axis=0)),
        residual_mps2=rms,
        n_poses=len(acc_means),
    )
