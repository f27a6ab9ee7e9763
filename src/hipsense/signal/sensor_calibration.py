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
from hipsense.masks import runs
from hipsense.samples import STANDARD_GRAVITY_MPS2, SampleBatch
from hipsense.signal.motion_phases import StillParams, still_mask, still_runs

FloatArray = npt.NDArray[np.float64]
Vec3 = tuple[float, float, float]
FACE_NAMES = ("+x", "-x", "+y", "-y", "+z", "-z")
"""A face is named by the sensor axis that points up (reads +g) while it lies on it."""
SETTLE_S = 0.2
# A hand-turned sensor turns at tens of deg/s; an uncalibrated gyro reads up to ~5 deg/s at
# rest. The accelerometer test is relative to its local mean (|a| may be off g by the offset).
POSE_STILL = StillParams(acc_dev_max_mps2=0.6, gyr_max_dps=8.0)
MAX_FACE_TILT_DEG = 20.0


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
    runs = still_runs(still_mask(gyr, acc, rate_hz, POSE_STILL), rate_hz, min_pose_s)
    trim = round(SETTLE_S * rate_hz)  # leave out the settling at either end of a pose
    poses = [(a + trim, b - trim) for a, b in runs if b - a > 2 * trim + 1]
    acc_means = np.array([acc[a:b].mean(axis=0) for a, b in poses]).reshape(-1, 3)
    gyr_means = np.array([gyr[a:b].mean(axis=0) for a, b in poses]).reshape(-1, 3)
    return acc_means, gyr_means


def _faces_seen(acc_means: FloatArray) -> list[str]:
    unit = acc_means / np.linalg.norm(acc_means, axis=1, keepdims=True)
    seen = [(unit[:, i // 2] * (1 if i % 2 == 0 else -1) > 0.8).any() for i in range(6)]
    return [name for name, ok in zip(FACE_NAMES, seen, strict=True) if ok]


def _missing_faces(acc_means: FloatArray) -> list[str]:
    seen = _faces_seen(acc_means)
    return [name for name in FACE_NAMES if name not in seen]


def fit_poses(acc_means: FloatArray, gyr_means: FloatArray) -> SensorCalibration:
    """Offset/scale whose corrected pose lengths are g (least squares); gyro bias = median."""
    top, bottom = acc_means.max(axis=0), acc_means.min(axis=0)
    start = np.concatenate([(top + bottom) / 2, 2 * STANDARD_GRAVITY_MPS2 / (top - bottom)])

    def residual(x: FloatArray) -> FloatArray:
        lengths = np.linalg.norm((acc_means - x[:3]) * x[3:], axis=1)
        return np.asarray(lengths - STANDARD_GRAVITY_MPS2, dtype=np.float64)

    fit = least_squares(residual, start)
    return SensorCalibration(
        acc_offset_mps2=_vec3(fit.x[:3]),
        acc_scale=_vec3(fit.x[3:]),
        gyr_bias_radps=_vec3(np.median(gyr_means, axis=0)),
        residual_mps2=float(np.sqrt(np.mean(fit.fun**2))),
        n_poses=len(acc_means),
    )


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
    return fit_poses(acc_means, gyr_means)


@dataclass(frozen=True)
class FaceProgress:
    """Where a guided six-face calibration stands, for a prompt."""

    done: tuple[str, ...]
    message: str
    problem: str | None = None
    calibration: SensorCalibration | None = None


class SixFaceGuide:
    """Streaming six-face calibration: feed raw batches, it finds each still face itself.

    A still run of ``pose_s`` is taken as soon as it is long enough; a face already taken,
    a tilted pose or a pose left too soon is refused with the reason. Done after six faces.
    """

    def __init__(self, rate_hz: float, pose_s: float = 1.0, max_wait_s: float = 60.0) -> None:
        self.rate_hz = float(rate_hz)
        self._pose_n = round((pose_s + 2 * SETTLE_S) * rate_hz)
        self._max_n = round(max_wait_s * rate_hz)
        self._buf = np.empty((0, 6))
        self._need_move = False  # the pose just taken is still being held
        self._acc: list[FloatArray] = []
        self._gyr: list[FloatArray] = []
        self._faces: list[str] = []
        self._problem: str | None = None
        self.calibration: SensorCalibration | None = None

    def update(self, acc_mps2: npt.ArrayLike, gyr_radps: npt.ArrayLike) -> FaceProgress:
        if self.calibration is None:
            new = np.hstack([np.asarray(acc_mps2, float), np.asarray(gyr_radps, float)])
            self._buf = np.concatenate([self._buf, new])[-self._max_n :]
            self._consume()
        return self.progress

    @property
    def progress(self) -> FaceProgress:
        if self.calibration is not None:
            return FaceProgress(tuple(self._faces), "done", None, self.calibration)
        left = [f for f in FACE_NAMES if f not in self._faces]
        n = len(self._faces)
        what = "turn the sensor to a new face" if self._need_move else "hold it still"
        message = f"{n}/6 faces: lay the sensor with {' or '.join(left)} up, {what}"
        return FaceProgress(tuple(self._faces), message, self._problem)

    def _consume(self) -> None:
        acc, gyr = self._buf[:, :3], self._buf[:, 3:]
        still = still_mask(gyr, acc, self.rate_hz, POSE_STILL)
        if self._need_move:  # wait for the end of the pose already taken
            moving = np.flatnonzero(~still)
            self._buf = self._buf[int(moving[0]) :] if moving.size else self._buf[:0]
            self._need_move = not moving.size
            if self._need_move:
                return
            acc, gyr, still = acc[int(moving[0]) :], gyr[int(moving[0]) :], still[moving[0] :]
        for a, b in runs(still):
            if b - a >= self._pose_n:
                self._take(acc[a : a + self._pose_n], gyr[a : a + self._pose_n])
                self._buf, self._need_move = self._buf[a + self._pose_n :], True
                return
            if b < len(still) and b - a >= 0.5 * self.rate_hz:
                self._problem = "moved too soon: hold each face still for 2 s"
        self._buf = self._buf[runs(still)[-1][0] :] if still[-1:].any() else self._buf[-1:]

    def _take(self, acc: FloatArray, gyr: FloatArray) -> None:
        trim = round(SETTLE_S * self.rate_hz)
        mean_acc, mean_gyr = acc[trim:-trim].mean(axis=0), gyr[trim:-trim].mean(axis=0)
        unit = mean_acc / np.linalg.norm(mean_acc)
        axis = int(np.argmax(np.abs(unit)))
        face = f"{'+' if unit[axis] > 0 else '-'}{'xyz'[axis]}"
        tilt_deg = float(np.degrees(np.arccos(min(1.0, abs(float(unit[axis]))))))
        if tilt_deg > MAX_FACE_TILT_DEG:
            self._problem = f"the sensor was tilted {tilt_deg:.0f} deg: lay it flat on a face"
        elif face in self._faces:
            self._problem = f"{face} up was done already: turn to another face"
        else:
            self._faces.append(face)
            self._acc.append(mean_acc)
            self._gyr.append(mean_gyr)
            self._problem = None
            if len(self._faces) == len(FACE_NAMES):
                self.calibration = fit_poses(np.array(self._acc), np.array(self._gyr))
