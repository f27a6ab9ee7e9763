"""The thigh frame and the heading-free angle convention shared by estimator and simulator.

Body frame B (per posture): x anterior, y to the person's left, z up the trunk (head-ward).
Standing, B is aligned with the world (z up). Supine, B's x (anterior) points up.

Thigh frame T (per leg): x anterior, y left, z proximal (knee -> hip). At the neutral
posture T coincides with B. The thigh attitude relative to the body is

    R_BT = R_x(s * abduction) @ R_y(-flexion),   s = -1 for the right leg, +1 for the left

so flexion swings the knee forward (it is applied first, in the sagittal plane) and
abduction then tilts that plane away from the midline. Only the up direction expressed in
the thigh frame enters the inverse (``angles_from_up``), so angles never depend on heading.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hipsense.exercises import Leg, Posture

FloatArray = npt.NDArray[np.float64]

UP_IN_BODY: dict[Posture, FloatArray] = {
    Posture.STANDING: np.array([0.0, 0.0, 1.0]),
    Posture.SUPINE: np.array([1.0, 0.0, 0.0]),
}
NEUTRAL_FLEXION_OFFSET_DEG: dict[Posture, float] = {Posture.STANDING: 0.0, Posture.SUPINE: 90.0}


def leg_sign(leg: Leg) -> float:
    """Sign that turns a rotation about the body's +x axis into abduction for this leg."""
    return -1.0 if leg is Leg.RIGHT else 1.0


def rot_x(angle_rad: npt.ArrayLike) -> FloatArray:
    a = np.asarray(angle_rad, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2
    )


def rot_y(angle_rad: npt.ArrayLike) -> FloatArray:
    a = np.asarray(angle_rad, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2
    )


def rot_z(angle_rad: npt.ArrayLike) -> FloatArray:
    a = np.asarray(angle_rad, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2
    )


def thigh_rotation(
    flexion_deg: npt.ArrayLike, abduction_deg: npt.ArrayLike, leg: Leg
) -> FloatArray:
    """R_BT (..., 3, 3): body-from-thigh rotation for the given angles."""
    flex = np.radians(np.asarray(flexion_deg, dtype=np.float64))
    abd = np.radians(np.asarray(abduction_deg, dtype=np.float64))
    return rot_x(leg_sign(leg) * abd) @ rot_y(-flex)


def wrap_deg(angle_deg: FloatArray) -> FloatArray:
    """Wrap angles into [-180, 180)."""
    return (angle_deg + 180.0) % 360.0 - 180.0


def angles_from_up(
    up_in_thigh: FloatArray, leg: Leg, posture: Posture
) -> tuple[FloatArray, FloatArray]:
    """(flexion_deg, abduction_deg) from the unit up vector expressed in the thigh frame (N, 3).

    Exact inverse of ``thigh_rotation`` for standing (|abduction| < 90°); for supine the
    flexion is exact and abduction is the part of a sideways tilt that gravity can see.
    """
    ux, uy, uz = up_in_thigh[..., 0], up_in_thigh[..., 1], up_in_thigh[..., 2]
    flexion = wrap_deg(np.degrees(np.arctan2(ux, uz)) - NEUTRAL_FLEXION_OFFSET_DEG[posture])
    abduction = leg_sign(leg) * np.degrees(np.arctan2(uy, np.hypot(ux, uz)))
    return flexion, abduction
