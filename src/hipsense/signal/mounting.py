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

    @property
    def r_ts(self) -> FloatArray:
        return np.array(self.thigh_axes_in_sensor, dtype=np.float64)

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
        if self.lever_arm_in_sensor_m is not None:
            d["lever_arm_in_sensor_m"] = list(self.lever_arm_in_sensor_m)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> MountingCalibration:
        try:
            axes = np.asarray(d["thigh_axes_in_sensor"], dtype=np.float64)
            if axes.shape != (3, 3) or not np.allclose(axes @ axes.T, np.eye(3), atol=1e-6):
                raise ValueError("thigh_axes_in_sensor is not a rotation matrix")
            base = cls.from_rotation(axes, Posture(str(d["posture"])), Leg(str(d["leg"])))
            extra = {k: d[k] for k in _METRICS if k in d}
            lever = d.get("lever_arm_in_sensor_m")
            if lever is not None:
                arm = np.asarray(lever, dtype=np.float64)
                if arm.shape != (3,) or not np.isfinite(arm).all():
                    raise ValueError("lever_arm_in_sensor_m is not 3 finite numbers")
                extra["lever_arm_in_sensor_m"] = tuple(float(v) for v in arm)
            return cls(base.posture, base.leg, base.thigh_axes_in_sensor, **extra)  # type: ignore[arg-type]
        except (KeyError, ValueError, TypeError) as exc:
            raise CalibrationError(
                f"saved calibration is unusable ({exc}): calibrate again"
            ) from exc


_METRICS = (
    "still_motion_dps",
    "swing_off_plane_deg",
    "axis_residual_deg",
    "neutral_repeatability_deg",
    "n_swings",
)
