"""The plain pipeline hipsense is measured against (issue 8): VQF with its default settings,
a still-then-move mounting calibration, and ``scipy.signal.find_peaks`` for the reps.

The calibration takes the mean accelerometer over the first 2 s as the neutral "up" and the
gyroscope's principal axis over the next 8 s as the flexion axis, signed so the bigger
excursion is flexion. Reps are peaks of the primary angle (valleys for leg lowering) with a
prominence of 10° at least 0.8 s apart, counted anywhere after the calibration.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.signal import find_peaks
from vqf import VQF

from hipsense.exercises import Angle, Exercise, Leg, Posture, RepShape
from hipsense.signal.angles import thigh_angles
from hipsense.signal.calibration import MountingCalibration
from hipsense.signal.motion_phases import dominant_axis

FloatArray = npt.NDArray[np.float64]
STILL_S, MOVE_S = 2.0, 8.0
PROMINENCE_DEG, MIN_GAP_S = 10.0, 0.8


def baseline_calibration(
    acc: FloatArray,
    gyr: FloatArray,
    quat: FloatArray,
    rate_hz: float,
    *,
    posture: Posture,
    leg: Leg,
) -> MountingCalibration:
    n_still, n_move = round(STILL_S * rate_hz), round((STILL_S + MOVE_S) * rate_hz)
    up0 = np.mean(acc[:n_still], axis=0)
    up0 /= np.linalg.norm(up0)
    axis, _ = dominant_axis(gyr[n_still:n_move])
    y = axis - (axis @ up0) * up0
    y /= np.linalg.norm(y)
    standing = posture is Posture.STANDING
    rows = [np.cross(y, up0), y, up0] if standing else [up0, y, np.cross(up0, y)]
    cal = MountingCalibration.from_rotation(np.stack(rows), posture, leg)
    flex, _ = thigh_angles(quat[n_still:n_move], cal)
    if np.nanmax(flex) < -np.nanmin(flex):  # the bigger excursion is flexion
        rows = [-rows[0], -rows[1], rows[2]] if standing else [rows[0], -rows[1], -rows[2]]
        cal = MountingCalibration.from_rotation(np.stack(rows), posture, leg)
    return cal


def baseline_angles(
    t_s: FloatArray, acc: FloatArray, gyr: FloatArray, rate_hz: float, *, posture: Posture, leg: Leg
) -> tuple[FloatArray, FloatArray, float]:
    """(flexion_deg, abduction_deg, end of the calibration in s) from default VQF."""
    out = VQF(1.0 / rate_hz).updateBatch(np.ascontiguousarray(gyr), np.ascontiguousarray(acc))
    quat = out["quat6D"]
    flex, abd = thigh_angles(
        quat, baseline_calibration(acc, gyr, quat, rate_hz, posture=posture, leg=leg)
    )
    return flex, abd, float(t_s[0] + STILL_S + MOVE_S)


def baseline_rep_times(t_s: FloatArray, primary_deg: FloatArray, exercise: Exercise) -> FloatArray:
    """Times of the peaks find_peaks calls reps (after the calibration window)."""
    y = -primary_deg if exercise.rep.shape is RepShape.LOWER else primary_deg
    rate_hz = 1.0 / float(np.median(np.diff(t_s)))
    peaks, _ = find_peaks(
        np.nan_to_num(y, nan=float(np.nanmin(y))),
        prominence=PROMINENCE_DEG,
        distance=max(1, round(MIN_GAP_S * rate_hz)),
    )
    return np.asarray(t_s[peaks], dtype=np.float64)


def primary_of(exercise: Exercise, flex: FloatArray, abd: FloatArray) -> FloatArray:
    return abd if exercise.primary is Angle.ABDUCTION else flex
