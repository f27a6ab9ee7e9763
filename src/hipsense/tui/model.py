"""What the screen shows, folded from session events (plain Python, no Textual).

High-rate ``AngleUpdate`` batches only extend a short trace per sensor; the app redraws from
this model on a frame timer, so many updates between two frames cost one redraw.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hipsense.events import (
    AngleUpdate,
    CalibrationUpdate,
    ExerciseChanged,
    FloatArray,
    LinkUpdate,
    QualityUpdate,
    RepUpdate,
    SessionEvent,
    SetUpdate,
    SlrUpdate,
)
from hipsense.exercises import Angle, Exercise, get_exercise
from hipsense.routines import symmetry_index_pct

TRACE_WINDOW_S = 12.0
PLOT_WINDOW_S = 10.0
DATA_NOTICE_S = 5.0  # how long a data-quality notice (lost samples...) stays up
MAX_PENDING_BATCHES = 64
LEGS = ("left", "right")


class AngleTrace:
    """The last ``TRACE_WINDOW_S`` seconds of one sensor's angles.

    Batches are kept as they come and joined (and the window cut) when the trace is read, or
    once ``MAX_PENDING_BATCHES`` have piled up: a 200 Hz stream costs one concatenation per
    frame, not one per batch.
    """

    def __init__(self) -> None:
        self._t_s: FloatArray = np.empty(0)
        self._flexion_deg: FloatArray = np.empty(0)
        self._abduction_deg: FloatArray = np.empty(0)
        self._pending: list[AngleUpdate] = []

    def extend(self, update: AngleUpdate) -> None:
        self._pending.append(update)
        if len(self._pending) >= MAX_PENDING_BATCHES:
            self._join()

    def _join(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        t = np.concatenate((self._t_s, *(u.t_s for u in pending)))
        flexion = np.concatenate((self._flexion_deg, *(u.flexion_deg for u in pending)))
        abduction = np.concatenate((self._abduction_deg, *(u.abduction_deg for u in pending)))
        keep = t >= t[-1] - TRACE_WINDOW_S if t.size else slice(None)
        self._t_s, self._flexion_deg, self._abduction_deg = t[keep], flexion[keep], abduction[keep]

    @property
    def t_s(self) -> FloatArray:
        self._join()
        return self._t_s

    @property
    def flexion_deg(self) -> FloatArray:
        self._join()
        return self._flexion_deg

    @property
    def abduction_deg(self) -> FloatArray:
        self._join()
        return self._abduction_deg

    def values(self, angle: Angle) -> FloatArray:
        return self.flexion_deg if angle is Angle.FLEXION else self.abduction_deg

    def latest(self, angle: Angle) -> float | None:
        """The newest angle, None while it is not shown (a burst's bridge not checked yet)."""
        values = self.values(angle)
        return float(values[-1]) if values.size and np.isfinite(values[-1]) else None


class SessionModel:
    """The session as the user sees it; ``apply`` folds one event in."""

    def __init__(
        self, roles: list[str], exercise_id: str, leg: str, target_deg: float | None = None
    ) -> None:
        self.roles = list(roles)
        self.traces: dict[str, AngleTrace] = {role: AngleTrace() for role in roles}
        self.links: dict[str, LinkUpdate] = {}
        self.calibration: dict[str, CalibrationUpdate] = {}
        self.slr: dict[str, SlrUpdate] = {}
        self.notice: str | None = None
        self._passing: tuple[str, float] | None = None  # a data notice and when it goes (s)
        self.recording = False
        self.angles_dirty = True
        self.state_dirty = True
        self.exercise: Exercise = get_exercise(exercise_id)
        self.target_deg: float | None = self.exercise.target_deg
        self._reset_sets()
        self.select(exercise_id, leg, target_deg=target_deg)

    def select(
        self,
        exercise_id: str,
        leg: str,
        target_reps: int | None = None,
        target_deg: float | None = None,
    ) -> None:
        """Show an exercise (or the other leg): bests reset; set tallies reset on a new drill."""
        same = exercise_id == self.exercise.id
        if not same:
            self.exercise = get_exercise(exercise_id)
            self._reset_sets()
        self.leg = leg
        self.target_reps = target_reps or self.exercise.target_reps
        if target_deg is None:  # the session's (e.g. the SLR's line) stays for the other leg
            target_deg = self.target_deg if same else self.exercise.target_deg
        self.target_deg = target_deg
        self.best_deg: dict[str, float] = {}
        self.last_rep: RepUpdate | None = None
        self.state_dirty = True

    def _reset_sets(self) -> None:
        self.reps = dict.fromkeys(LEGS, 0)
        self.set_open = dict.fromkeys(LEGS, False)
        self.sets_done: dict[str, SetUpdate] = {}
        self.last_set: SetUpdate | None = None

    @property
    def calibrating(self) -> bool:
        return any(c.phase != "done" for c in self.calibration.values())

    def primary_angle(self, role: str) -> float | None:
        trace = self.traces.get(role)
        return trace.latest(self.exercise.primary) if trace else None

    def add_angles(self, update: AngleUpdate) -> None:
        if update.role not in self.traces:
            self.roles.append(update.role)
            self.traces[update.role] = AngleTrace()
        self.traces[update.role].extend(update)
        self.angles_dirty = True
        if self._passing is not None and len(update.t_s):
            message, until_s = self._passing
            if float(update.t_s[-1]) >= until_s:
                self._passing = None
                if self.notice == message:
                    self.notice = None
                    self.state_dirty = True

    def apply(self, event: SessionEvent) -> None:
        self.state_dirty = True
        match event:
            case AngleUpdate():
                self.add_angles(event)
            case ExerciseChanged():
                self.select(event.exercise_id, event.leg, event.target_reps, event.target_deg)
            case RepUpdate():
                self._rep(event)
            case SetUpdate():
                self._set(event)
            case SlrUpdate():
                self.slr[event.leg] = event
            case LinkUpdate():
                self.links[event.role] = event
                self.recording = event.recording
            case CalibrationUpdate():
                self.calibration[event.role] = event
            case QualityUpdate():
                self.notice = event.message
                # A hiccup in the data is news for a few seconds, not for the rest of the set.
                passing = event.kind != "recording"
                self._passing = (event.message, event.t_s + DATA_NOTICE_S) if passing else None

    def _rep(self, rep: RepUpdate) -> None:
        if rep.exercise_id != self.exercise.id:
            return
        if rep.kind == "completed":
            if not self.set_open.get(rep.leg, False):
                self.reps[rep.leg] = 0
                self.set_open[rep.leg] = True
            self.reps[rep.leg] = self.reps.get(rep.leg, 0) + 1
            self.last_rep = rep
        if rep.peak_deg is not None:
            self.best_deg[rep.role] = max(self.best_deg.get(rep.role, rep.peak_deg), rep.peak_deg)

    def _set(self, update: SetUpdate) -> None:
        if update.exercise_id != self.exercise.id:
            return
        self.reps[update.leg] = update.rep_count
        self.target_reps = update.target_reps
        self.set_open[update.leg] = not update.done
        if update.done:
            self.last_set = update
            self.sets_done[update.leg] = update

    def start_set(self, leg: str) -> None:
        """A set starts now on ``leg``: its counter restarts and old notices go."""
        self.notice = None
        self.reps[leg] = 0
        self.set_open[leg] = True
        self.last_rep = None
        self.state_dirty = True

    @property
    def set_active(self) -> bool:
        return self.set_open.get(self.leg, False)

    def stop_set(self) -> None:
        self.set_open[self.leg] = False
        self.state_dirty = True

    def set_recording(self, on: bool) -> None:
        """Show the recording state at once (the next LinkUpdate confirms it)."""
        self.recording = on
        self.links = {role: replace(link, recording=on) for role, link in self.links.items()}
        self.state_dirty = True

    def symmetry_pct(self) -> float | None:
        """Left/right symmetry of the mean range of the last finished set on each leg."""
        if self.last_set is not None and self.last_set.symmetry_index_pct is not None:
            return self.last_set.symmetry_index_pct
        left, right = self.sets_done.get("left"), self.sets_done.get("right")
        if left is None or right is None or left.mean_rom_deg is None:
            return None
        if right.mean_rom_deg is None:
            return None
        return symmetry_index_pct(left.mean_rom_deg, right.mean_rom_deg)
