"""Ground truth of a simulated session: thigh angles by the thigh_frame convention, reps
measured on the noise-free thigh trajectory, and the segments that tile the session."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hipsense.exercises import Angle, Leg, Posture
from hipsense.signal.thigh_frame import UP_IN_BODY, angles_from_up
from hipsense.sim.keyframes import RepWindow, Segment
from hipsense.sim.kinematics import thigh_attitude
from hipsense.sim.tracks import FloatArray, QuinticTrack

_PEAK_GRID_HZ = 400.0  # peaks are flat: sampling error < 0.001 degree


@dataclass(frozen=True)
class TruthRep:
    """One rep as performed: window, and the extremes of its primary angle (degrees)."""

    exercise_id: str
    leg: Leg
    index: int
    start_s: float
    end_s: float
    peak_deg: float
    low_deg: float
    peak_s: float


def posture_per_sample(t_s: FloatArray, segments: list[Segment]) -> npt.NDArray[np.str_]:
    starts = np.array([s.start_s for s in segments])
    labels = np.array([str(s.posture) for s in segments])
    return labels[np.clip(np.searchsorted(starts, t_s, side="right") - 1, 0, len(labels) - 1)]


def truth_angles(
    values: FloatArray, leg: Leg, posture: npt.NDArray[np.str_]
) -> tuple[FloatArray, FloatArray]:
    """Thigh flexion/abduction (degrees) relative to the body, by ``angles_from_up``."""
    r_bt = thigh_attitude(values, leg)
    flex, abd = np.zeros(len(values)), np.zeros(len(values))
    for p in Posture:
        sel = posture == str(p)
        up_in_thigh = np.einsum("nji,j->ni", r_bt[sel], UP_IN_BODY[p])
        flex[sel], abd[sel] = angles_from_up(up_in_thigh, leg, p)
    return flex, abd


def truth_rep(w: RepWindow, track: QuinticTrack, sensor_leg: Leg, posture: str) -> TruthRep:
    t = np.linspace(w.start_s, w.end_s, max(3, math.ceil((w.end_s - w.start_s) * _PEAK_GRID_HZ)))
    flex, abd = truth_angles(track(t), w.leg, np.full(len(t), posture))
    angle = flex if w.primary is Angle.FLEXION else abd
    k = int(np.argmax(angle))
    low = float(np.min(angle[k:] if w.swing_like else angle))
    peak = float(angle[k])
    if w.leg is not sensor_leg:  # the other thigh is not simulated: keep its intention
        peak, low = w.planned_peak_deg, w.planned_low_deg
    return TruthRep(w.exercise_id, w.leg, w.index, w.start_s, w.end_s, peak, low, float(t[k]))


def posture_at(segments: list[Segment], t_s: float) -> str:
    for s in segments:
        if s.start_s <= t_s < s.end_s:
            return str(s.posture)
    return str(segments[-1].posture)
