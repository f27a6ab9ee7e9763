"""The mounting: the thigh frame's axes in the sensor frame, with the fit's quality metrics.

Produced by ``calibration.calibrate_mounting`` (or from a known mounting, e.g. the
simulator's oracle), saved with ``to_dict`` and reused with ``from_dict``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from hipsense.errors import CalibrationError
from hipsense.exercises import Leg, Posture

FloatArray = npt.NDArray[np.float64]
Vec3 = tuple[float, float, float]


@dataclass(frozen=True)
class MountingCalibration:
    """R_TS (sensor -> thigh) as rows = thigh x, y, z axes in the sensor frame, plus quality."""

    posture: Posture
    leg: Leg
    thigh_axes_in_sensor: tuple[Vec3, Vec3, Vec3]
    still_motion_dps: float = 0.0
    swing_off_plane_deg: float = 0.0
    axis_residual_deg: float = 0.0
    neutral_repeatability_deg: float = 0.0
    n_swings: int = 0
    lever_arm_in_sensor_m: Vec3 | None = None
    """Hip joint centre -> sensor, sensor frame (fitted on standing swings), if plausible."""
    neutral_acc_in_sensor_mps2: Vec3 | None = None
    """Mean raw accelerometer at the neutral posture: the axes were fitted with the neutral up
    along it, i.e. for a zero accelerometer offset (see ``up_in_thigh``)."""
    rest_gyr_radps: Vec3 | None = None
    """Mean gyro over the still phases: the gyro's bias (body sway averages out)."""

    @property
    def r_ts(self) -> FloatArray:
        return np.array(self.thigh_axes_in_sensor, dtype=np.float64)

    def up_in_thigh(self, up_in_sensor: FloatArray, acc_offset_mps2: FloatArray) -> FloatArray:
        """The up vectors (N, 3) of a fusion that removed ``acc_offset_mps2`` (N, 3) from the
        accelerometer, in the thigh frame. The axes were fitted with the neutral up along the
        raw neutral reading; with an offset removed it reads (neutral - offset)/|...|, so each
        up is turned back by that shortest arc (u - v x u + v x (v x u) / (1 + c)), then into
        the thigh frame, without forming a matrix per sample. Without a recorded neutral, the
        axes as they are."""
        up = np.asarray(up_in_sensor, dtype=np.float64)
        if self.neutral_acc_in_sensor_mps2 is None:
            return in_frame(up, self.r_ts)
        neutral = np.array(self.neutral_acc_in_sensor_mps2)
        old = neutral / np.linalg.norm(neutral)
        new = neutral - np.asarray(acc_offset_mps2, dtype=np.float64)
        new /= np.linalg.norm(new, axis=1, keepdims=True)
        v, c = _cross(old, new), np.einsum("ij,j->i", new, old)
        v_up = _cross(v, up)
        turned = up - v_up + _cross(v, v_up) / (1.0 + c)[:, None]
        return in_frame(turned, self.r_ts)

    @property
    def quality(self) -> float:
        """0 (unusable) .. 1 (textbook): the weakest of the per-metric scores."""
        scores = (
            1 - self.still_motion_dps / 6.0,
            1 - self.swing_off_plane_deg / 30.0,
            1 - self.axis_residual_deg / 35.0,
            1 - self.neutral_repeatability_deg / 8.0,
        )
        return float(np.clip(min(scores), 0.0, 1.0))

    @property
    def grade(self) -> str:
        q = self.quality
        return "good" if q >= 0.6 else "fair" if q >= 0.3 else "poor"

    @classmethod
    def from_rotation(cls, r_ts: npt.ArrayLike, posture: Posture, leg: Leg) -> MountingCalibration:
        """A calibration from a known mounting (e.g. the simulator's oracle)."""
        m = np.asarray(r_ts, dtype=np.float64).reshape(3, 3)
        axes = tuple(tuple(float(v) for v in row) for row in m)
        return cls(posture, leg, axes)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["posture"], d["leg"] = self.posture.value, self.leg.value
        d["thigh_axes_in_sensor"] = [list(row) for row in self.thigh_axes_in_sensor]
        for key in _VECTORS:
            if d[key] is not None:
                d[key] = list(d[key])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> MountingCalibration:
        try:
            axes = np.asarray(d["thigh_axes_in_sensor"], dtype=np.float64)
            if axes.shape != (3, 3) or not np.allclose(axes @ axes.T, np.eye(3), atol=1e-6):
                raise ValueError("thigh_axes_in_sensor is not a rotation matrix")
            base = cls.from_rotation(axes, Posture(str(d["posture"])), Leg(str(d["leg"])))
            extra = {k: d[k] for k in _METRICS if k in d}
            for key in _VECTORS:
                if d.get(key) is not None:
                    vec = np.asarray(d[key], dtype=np.float64)
                    if vec.shape != (3,) or not np.isfinite(vec).all():
                        raise ValueError(f"{key} is not 3 finite numbers")
                    extra[key] = tuple(float(v) for v in vec)
            return cls(base.posture, base.leg, base.thigh_axes_in_sensor, **extra)  # type: ignore[arg-type]
        except (KeyError, ValueError, TypeError) as exc:
            raise CalibrationError(
                f"saved calibration is unusable ({exc}): calibrate again"
            ) from exc


def in_frame(v: FloatArray, r: FloatArray) -> FloatArray:
    """Rows of ``v`` (N, 3) turned by ``r`` (``v @ r.T``): with the same float operations for
    any N (a matrix product takes other BLAS paths for one row than for many, so a session's
    angles would depend on how its samples were batched in the last bits)."""
    return np.asarray(np.einsum("ij,kj->ik", v, r), dtype=np.float64)


def _cross(a: FloatArray, b: FloatArray) -> FloatArray:
    """Row-wise cross products of (N, 3) or (3,) arrays (``np.cross``, less overhead)."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


_VECTORS = ("lever_arm_in_sensor_m", "neutral_acc_in_sensor_mps2", "rest_gyr_radps")
_METRICS = (
    "still_motion_dps",
    "swing_off_plane_deg",
    "axis_residual_deg",
    "neutral_repeatability_deg",
    "n_swings",
)
