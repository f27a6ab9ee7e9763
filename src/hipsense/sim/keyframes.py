"""Keyframe builder: exercise generators append poses; the result is one C2 track.

Channels: thigh flexion, abduction and long-axis twist relative to the body (degrees),
body pitch in the world (0 standing, -90 supine; degrees), hip forward and up (metres),
body yaw about the vertical relative to the heading (pelvis rotation when walking; degrees).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from hipsense.exercises import Angle, Leg, Posture
from hipsense.sim.plan import SegmentKind
from hipsense.sim.tracks import FloatArray, QuinticTrack

CHANNELS = ("flex", "abd", "twist", "pitch", "hip_x", "hip_z", "yaw")
CH = {name: i for i, name in enumerate(CHANNELS)}
STANDING_HIP_M = 0.9
SUPINE_HIP_M = 0.1
POSTURE_POSE: dict[Posture, dict[str, float]] = {
    Posture.STANDING: {"pitch": 0.0, "hip_z": STANDING_HIP_M},
    Posture.SUPINE: {"pitch": -90.0, "hip_z": SUPINE_HIP_M},
}


@dataclass(frozen=True)
class RepWindow:
    """Where the generator put one rep; truth peak/low are measured on the track later."""

    exercise_id: str
    leg: Leg
    index: int
    start_s: float
    end_s: float
    primary: Angle
    swing_like: bool  # low is the back/across extreme after the peak
    planned_peak_deg: float
    planned_low_deg: float


@dataclass(frozen=True)
class Segment:
    """A stretch of the session (still, calibration swings, a set, a transition…)."""

    kind: SegmentKind
    start_s: float
    end_s: float
    exercise_id: str | None
    posture: Posture
    leg: Leg


class KeyframeBuilder:
    """Appends keyframes in time order; channels not named keep their value and rest."""

    def __init__(self, posture: Posture) -> None:
        start = np.zeros(len(CHANNELS))
        for name, value in POSTURE_POSE[posture].items():
            start[CH[name]] = value
        self._t: list[float] = [0.0]
        self._value: list[FloatArray] = [start]
        self._vel: list[FloatArray] = [np.zeros(len(CHANNELS))]
        self._acc: list[FloatArray] = [np.zeros(len(CHANNELS))]
        self._turn: list[bool] = [False]
        self.reps: list[RepWindow] = []
        self.segments: list[Segment] = []
        self.contacts: list[tuple[float, float]] = []  # (foot strike time, relative strength)

    @property
    def now_s(self) -> float:
        return self._t[-1]

    def current(self, name: str) -> float:
        return float(self._value[-1][CH[name]])

    def key(
        self,
        dt_s: float,
        pose: Mapping[str, float] | None = None,
        *,
        turn: bool = False,
        vel: Mapping[str, float] | None = None,
        acc: Mapping[str, float] | None = None,
        **targets: float,
    ) -> float:
        """Add a keyframe ``dt_s`` after the last, setting the channels named in ``pose`` and
        ``targets``; ``turn`` gives swing-like curvature at extremes. Returns its time."""
        if dt_s <= 0:
            raise ValueError(f"keyframes must advance in time, got dt_s={dt_s}")
        value = self._value[-1].copy()
        for name, target in {**(pose or {}), **targets}.items():
            value[CH[name]] = target
        self._t.append(self._t[-1] + dt_s)
        self._value.append(value)
        self._vel.append(_channel_vector(vel))
        self._acc.append(_channel_vector(acc))
        self._turn.append(turn)
        return self._t[-1]

    def hold(self, dt_s: float) -> float:
        return self.key(dt_s)

    def segment(
        self, kind: SegmentKind, start_s: float, posture: Posture, leg: Leg, exercise_id: str | None
    ) -> None:
        self.segments.append(Segment(kind, start_s, self.now_s, exercise_id, posture, leg))

    def track(self) -> QuinticTrack:
        t = np.asarray(self._t)
        value = np.asarray(self._value)
        acc = np.asarray(self._acc)
        turn_acc = _turn_accelerations(t, value)
        turns = np.asarray(self._turn)[:, None] & (np.asarray(self._vel) == 0.0) & (acc == 0.0)
        return QuinticTrack(t, value, np.asarray(self._vel), np.where(turns, turn_acc, acc))


def _channel_vector(values: Mapping[str, float] | None) -> FloatArray:
    out = np.zeros(len(CHANNELS))
    for name, v in (values or {}).items():
        out[CH[name]] = v
    return out


def _turn_accelerations(t: FloatArray, value: FloatArray) -> FloatArray:
    """At local extremes, the curvature half-cosine swings into and out of them would have
    (pendulum-like turnarounds); zero where the keyframe is not an extreme."""
    acc = np.zeros_like(value)
    if len(t) < 3:
        return acc
    d_in = (value[1:-1] - value[:-2]) / (np.diff(t)[:-1, None] ** 2)
    d_out = (value[1:-1] - value[2:]) / (np.diff(t)[1:, None] ** 2)
    extreme = (value[1:-1] - value[:-2]) * (value[1:-1] - value[2:]) > 0
    acc[1:-1] = np.where(extreme, -0.25 * np.pi**2 * (d_in + d_out), 0.0)
    return acc
