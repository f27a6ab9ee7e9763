"""Events the session emits for the live app, the plain CLI and JSON consumers.

They decouple presentation from the signal layer: every field is a plain value with its unit.
The live app only consumes these and calls ``SessionControl``; it never reaches into signal/.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

LinkState = Literal["scanning", "connecting", "connected", "reconnecting", "disconnected"]
CalibrationPhase = Literal[
    "still", "swings", "still-again", "lie-still", "first-raise", "done", "failed"
]
RepKind = Literal["started", "peak", "completed"]


@dataclass(frozen=True, eq=False)
class AngleUpdate:
    """A batch of angles from one sensor (coalesce these: they arrive at the sample rate)."""

    role: str
    t_s: FloatArray
    flexion_deg: FloatArray
    abduction_deg: FloatArray


@dataclass(frozen=True)
class CalibrationUpdate:
    role: str
    phase: CalibrationPhase
    message: str
    fraction: float


@dataclass(frozen=True)
class RepUpdate:
    role: str
    exercise_id: str
    leg: str
    kind: RepKind
    index: int
    t_s: float
    peak_deg: float | None = None
    rom_deg: float | None = None
    duration_s: float | None = None
    flags: tuple[str, ...] = ()
    down_leg_moved_deg: float | None = None  # SLR: this leg's angle when the other one moved


@dataclass(frozen=True)
class SetUpdate:
    role: str
    exercise_id: str
    leg: str
    rep_count: int
    target_reps: int
    mean_rom_deg: float | None
    best_rom_deg: float | None
    rom_cv_pct: float | None
    mean_duration_s: float | None
    flag_counts: tuple[tuple[str, int], ...]
    symmetry_index_pct: float | None
    done: bool


@dataclass(frozen=True)
class SlrUpdate:
    """State of the straight-leg-raise assessment (best of three per leg)."""

    leg: str
    trial_peaks_deg: tuple[float, ...]
    best_deg: float | None
    grade: int | None
    passed: bool | None
    pass_line_deg: float
    knee_line_deg: float
    previous_best_deg: float | None
    change_deg: float | None
    real_change: bool | None
    trials_counted: tuple[bool, ...] = ()  # per trial: False for a rushed raise set aside
    # per trial: measured where the down leg moved (a second sensor on the other thigh)
    trials_down_leg_moved: tuple[bool, ...] = ()


@dataclass(frozen=True)
class LinkUpdate:
    role: str
    name: str
    state: LinkState
    battery_pct: int | None
    rate_hz: float | None
    loss_pct: float
    recording: bool


@dataclass(frozen=True)
class QualityUpdate:
    role: str
    kind: str
    t_s: float
    message: str


@dataclass(frozen=True)
class ExerciseChanged:
    exercise_id: str
    leg: str
    target_reps: int
    target_deg: float | None


@dataclass(frozen=True)
class SetCounting:
    """A set started (``counting``) or the count stopped (the user's pause): recorded, so
    that replay and analyze count only what the live session counted."""

    exercise_id: str
    leg: str
    counting: bool


SessionEvent = (
    AngleUpdate
    | CalibrationUpdate
    | RepUpdate
    | SetUpdate
    | SlrUpdate
    | LinkUpdate
    | QualityUpdate
    | ExerciseChanged
    | SetCounting
)


class SessionControl(Protocol):
    """What the live app may ask of the running session."""

    def start_set(self) -> None: ...
    def stop_set(self) -> None: ...
    def switch_leg(self) -> None: ...
    def select_exercise(self, exercise_id: str, target_reps: int | None = None) -> None:
        """Switch drills; sets count to ``target_reps`` (None: the drill's usual target)."""

    def toggle_recording(self) -> bool: ...
    def recalibrate(self) -> None: ...
