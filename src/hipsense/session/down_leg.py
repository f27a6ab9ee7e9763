"""The down leg during straight leg raises, when a second sensor is on the other thigh.

The session hands every batch (``add_samples``) and every pipeline's events (``watch``) to
``DownLegWatch``. It keeps the last stretch of each sensor's accelerometer samples and
angles, bounded by the longest rep plus the rest before it; when a rep of the raised leg is
confirmed it checks the other thigh over that rep's start to its peak
(``signal.down_leg``) and returns the rep, and its event, with the result. The peak comes
well before a rep is confirmed, and the check uses the other sensor's samples up to
``LATE_S`` before the confirmation only (they arrive interleaved with the raised leg's,
tens of ms late at most): the result does not depend on how batches of the two sensors
interleave. No samples from the other thigh over the raise
(disconnected, gaps, garbage): the rep is not watched and stays as it was.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from hipsense.events import AngleUpdate, RepUpdate, SessionEvent
from hipsense.exercises import DOWN_LEG_MOVED, Exercise, Leg, leg_of_role
from hipsense.samples import SampleBatch
from hipsense.signal.down_leg import REST_S, DownLegCheck, check_down_leg
from hipsense.signal.quality import Rep

FloatArray = npt.NDArray[np.float64]

WATCHED_EXERCISES = frozenset({"slr", "assisted-slr"})
# The other sensor's samples arrive up to tens of ms after the raised leg's: a check uses
# only those older than this at the rep's confirmation, so replay and analyze (which have
# them all) check on the same samples as live.
LATE_S = 0.15
MARGIN_S = 5.0  # kept beyond the longest rep and its rest: late batches, the peak's search


class _Track:
    """One sensor's recent rows (time first), dropped once older than ``keep_s``."""

    def __init__(self, keep_s: float) -> None:
        self.keep_s = keep_s
        self._t: list[FloatArray] = []
        self._v: list[FloatArray] = []
        self._newest_s = -math.inf

    def add(self, t_s: FloatArray, values: FloatArray) -> None:
        t = np.asarray(t_s, dtype=np.float64)
        if not t.size or len(values) != t.size:
            return
        self._t.append(t)
        self._v.append(np.asarray(values, dtype=np.float64))
        finite = t[np.isfinite(t)]
        if finite.size:
            self._newest_s = max(self._newest_s, float(finite.max()))
        while len(self._t) > 1 and not (self._t[0] >= self._newest_s - self.keep_s).any():
            del self._t[0], self._v[0]

    def rows(self) -> tuple[FloatArray, FloatArray]:
        if not self._t:
            return np.empty(0), np.empty(0)
        return np.concatenate(self._t), np.concatenate(self._v)


@dataclass(frozen=True)
class _Roles:
    """Which leg each sensor is on (the session's pipelines)."""

    legs: dict[str, Leg]

    def other(self, leg: Leg) -> str | None:
        return next((r for r, g in self.legs.items() if g is not leg), None)


def other_thigh(sensor_ids: Iterable[str], analysed: str, leg: Leg) -> str | None:
    """Of a recording's sensors, the one on the thigh other than ``leg``'s (its role names
    that leg, e.g. ``left_thigh``, as ``leg_of_role`` reads it), besides the ``analysed``
    one; None if it has none."""
    return next((s for s in sensor_ids if s != analysed and leg_of_role(s, leg) is leg.other), None)


class DownLegWatch:
    """Watches the other thigh during the SLR's raises (two sensors, one per thigh)."""

    def __init__(self, exercise: Exercise, legs: dict[str, Leg]) -> None:
        keep_s = exercise.rep.max_rep_s + REST_S + MARGIN_S
        self.roles = _Roles(dict(legs))
        self._acc = {role: _Track(keep_s) for role in legs}
        self._angles = {role: _Track(keep_s) for role in legs}

    @classmethod
    def for_session(
        cls, exercise: Exercise, legs: dict[str, Leg], previous: DownLegWatch | None = None
    ) -> DownLegWatch | None:
        """A watch when the exercise is a straight leg raise and both thighs carry a sensor;
        the ``previous`` watch's recent samples carried over (a drill picked again, or the
        other raise: the first raise after it has the rest before it)."""
        if exercise.id not in WATCHED_EXERCISES or len(set(legs.values())) < 2:
            return None
        watch = cls(exercise, legs)
        if previous is not None:
            for mine, theirs in ((watch._acc, previous._acc), (watch._angles, previous._angles)):
                for role, track in mine.items():
                    if role in theirs:
                        theirs[role].keep_s = track.keep_s
                        mine[role] = theirs[role]
        return watch

    def add_samples(self, batch: SampleBatch) -> None:
        track = self._acc.get(batch.sensor_id)
        if track is not None:
            track.add(batch.t_s, batch.acc_mps2)

    def watch(
        self, reps: list[Rep], leg: Leg, events: Sequence[SessionEvent]
    ) -> list[SessionEvent]:
        """Go through one pipeline's ``events`` in order: its angles are kept, and each
        completed rep of ``leg`` (one of ``reps``, the pipeline's) is checked, amended in
        ``reps`` and in its event."""
        out: list[SessionEvent] = []
        for e in events:
            if isinstance(e, AngleUpdate) and e.role in self._angles:
                self._angles[e.role].add(e.t_s, e.flexion_deg)
            elif isinstance(e, RepUpdate) and e.kind == "completed" and e.leg == leg.value:
                out.append(self._checked(reps, leg, e))
                continue
            out.append(e)
        return out

    def _checked(self, reps: list[Rep], leg: Leg, e: RepUpdate) -> RepUpdate:
        k = e.index - 1
        if not 0 <= k < len(reps) or reps[k].index != e.index:
            return e
        rep = self.amend(reps[k], e.role, leg)
        reps[k] = rep
        moved_deg = rep.measured_deg if rep.down_leg_moved else None
        return replace(e, flags=rep.flags, down_leg_moved_deg=moved_deg)

    def amend(self, rep: Rep, role: str, leg: Leg) -> Rep:
        """``rep`` of ``role``'s sensor (on ``leg``) with the other thigh's check, if watched."""
        down = self.roles.other(leg)
        if down is None:
            return rep
        t_up, flex = self._angles[role].rows()
        check = self.check(rep, t_up, flex, down)
        if check is None:
            return rep
        flags = rep.flags + ((DOWN_LEG_MOVED,) if check.moved else ())
        return replace(
            rep,
            flags=flags,
            down_leg_tilt_deg=check.tilt_deg,
            down_leg_moved_s=check.moved_at_s,
            down_leg_moved_deg=check.raised_at_move_deg,
        )

    def check(
        self, rep: Rep, t_up: FloatArray, flex_deg: FloatArray, down: str
    ) -> DownLegCheck | None:
        peak_s = peak_time_s(rep, t_up, flex_deg)
        if peak_s is None:
            return None
        t_down, acc = self._acc[down].rows()
        arrived = t_down <= rep.end_s - LATE_S  # what live has, however late the rest came
        t_down, acc = t_down[arrived], acc[arrived]
        return check_down_leg(t_down, acc, t_up, flex_deg, start_s=rep.start_s, peak_s=peak_s)


def peak_time_s(rep: Rep, t_s: FloatArray, flex_deg: FloatArray) -> float | None:
    """When the raised leg was highest between the rep's start and its confirmation."""
    inside = (t_s >= rep.start_s) & (t_s <= rep.end_s) & np.isfinite(flex_deg)
    if not inside.any():
        return None
    t, y = t_s[inside], flex_deg[inside]
    return float(t[int(np.argmax(y))])
