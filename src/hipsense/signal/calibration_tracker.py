"""Streaming mounting calibration: guides the user phase by phase and calibrates when done.

The tracker buffers the routine (bounded by ``max_duration_s``), re-segments the buffer
vectorised on each batch, and emits ``CalibrationProgress`` for the UI. A false start
(moving before 2 s of stillness, a failed fit) restarts the routine with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from hipsense.errors import CalibrationError
from hipsense.exercises import Leg, Posture
from hipsense.signal.calibration import (
    CalibrationParams,
    MountingCalibration,
    calibrate_mounting,
    count_swings,
)
from hipsense.signal.motion_phases import dominant_axis, still_mask
from hipsense.signal.orientation import up_in_sensor

FloatArray = npt.NDArray[np.float64]


class CalibrationPhase(StrEnum):
    STILL = "still"
    MOVE = "move"
    STILL_AGAIN = "still_again"
    DONE = "done"


@dataclass(frozen=True)
class CalibrationProgress:
    phase: CalibrationPhase
    message: str
    fraction: float
    problem: str | None = None


def _messages(posture: Posture, swings: int) -> dict[CalibrationPhase, str]:
    if posture is Posture.STANDING:
        return {
            CalibrationPhase.STILL: "stand still",
            CalibrationPhase.MOVE: f"swing {swings}x slowly forward and back",
            CalibrationPhase.STILL_AGAIN: "stand still again",
            CalibrationPhase.DONE: "done",
        }
    return {
        CalibrationPhase.STILL: "lie still",
        CalibrationPhase.MOVE: "raise the straight leg, then lower it",
        CalibrationPhase.STILL_AGAIN: "rest the leg",
        CalibrationPhase.DONE: "done",
    }


class CalibrationTracker:
    def __init__(
        self,
        rate_hz: float,
        posture: Posture,
        leg: Leg,
        params: CalibrationParams | None = None,
        max_duration_s: float = 60.0,
    ) -> None:
        self.rate_hz, self.posture, self.leg = float(rate_hz), posture, leg
        self.params = params or CalibrationParams()
        self._max_n = round(max_duration_s * rate_hz)
        self._buf = np.empty((0, 10))
        self.calibration: MountingCalibration | None = None
        self._problem: str | None = None
        self._text = _messages(posture, self.params.min_swings)
        self.progress = CalibrationProgress(
            CalibrationPhase.STILL, self._text[CalibrationPhase.STILL], 0.0
        )

    def update(self, gyr: FloatArray, acc: FloatArray, quat: FloatArray) -> CalibrationProgress:
        """Feed samples (invalid ones already excluded); returns the current progress."""
        if self.calibration is not None:
            return self.progress
        self._buf = np.concatenate([self._buf, np.hstack([gyr, acc, quat])])
        if len(self._buf) > self._max_n:
            self._restart(len(self._buf) - self._max_n // 2, "that took too long: start again")
        self.progress = self._advance()
        return self.progress

    def _restart(self, drop: int, problem: str) -> None:
        self._buf = self._buf[drop:]
        self._problem = problem

    def _advance(self) -> CalibrationProgress:
        p, rate = self.params, self.rate_hz
        need = p.min_still_s * rate
        still = still_mask(self._buf[:, 0:3], self._buf[:, 3:6], rate, p.still)
        moving = np.flatnonzero(~still)
        first_move = int(moving[0]) if moving.size else len(still)
        if first_move < need:
            if moving.size and first_move < len(still):
                nxt = np.flatnonzero(still[first_move:])
                drop = first_move + int(nxt[0]) if nxt.size else len(still)
                self._restart(drop, "you moved during the still phase: hold still for 2 s")
            return self._report(CalibrationPhase.STILL, min(1.0, first_move / need))
        after = self._buf[first_move:]
        trailing = _trailing_true(still[first_move:])
        if self.posture is Posture.STANDING:
            moved = after[: len(after) - trailing]
            swings = _swings(moved, self._buf[:first_move, 3:6], p.swing_min_deg)
            if swings < p.accepted_swings or trailing == 0:
                return self._report(CalibrationPhase.MOVE, min(1.0, swings / p.min_swings))
            if trailing < need:
                return self._report(CalibrationPhase.STILL_AGAIN, trailing / need)
        elif trailing < p.still.min_still_s * rate:
            return self._report(CalibrationPhase.MOVE, 0.5 if len(after) > trailing else 0.0)
        return self._finish()

    def _finish(self) -> CalibrationProgress:
        b = self._buf
        try:
            self.calibration = calibrate_mounting(
                b[:, 0:3], b[:, 3:6], b[:, 6:10], self.rate_hz,
                posture=self.posture, leg=self.leg, params=self.params,
            )  # fmt: skip
        except CalibrationError as exc:
            # The closing still phase becomes the opening one of the next attempt.
            keep = round(self.params.min_still_s * self.rate_hz)
            self._restart(max(0, len(b) - keep), str(exc))
            return self._report(CalibrationPhase.STILL, 0.0)
        self._buf = np.empty((0, 10))
        return self._report(CalibrationPhase.DONE, 1.0)

    def _report(self, phase: CalibrationPhase, fraction: float) -> CalibrationProgress:
        return CalibrationProgress(phase, self._text[phase], float(fraction), self._problem)


def _trailing_true(mask: npt.NDArray[np.bool_]) -> int:
    false_at = np.flatnonzero(~mask)
    return len(mask) - (int(false_at[-1]) + 1 if false_at.size else 0)


def _swings(moved: FloatArray, still_acc: FloatArray, min_deg: float) -> int:
    """Live swing count in a provisional frame (neutral up + dominant gyro axis)."""
    if len(moved) < 3:
        return 0
    up0 = np.mean(still_acc, axis=0)
    up0 /= np.linalg.norm(up0)
    axis, _ = dominant_axis(moved[:, 0:3] - np.median(moved[:, 0:3], axis=0))
    y = axis - (axis @ up0) * up0
    frame = np.stack([np.cross(y, up0), y, up0]) / max(float(np.linalg.norm(y)), 1e-9)
    frame[2] = up0
    return count_swings(up_in_sensor(moved[:, 6:10]) @ frame.T, min_deg)
