"""Streaming rep detector: arrays in, a batch of rep events out, constant work per sample.

The primary angle (negated for exercises whose rep goes down, like leg lowering) is lightly
smoothed, then a hysteresis state machine runs on it:

- idle: a *valley* tracks the rest level as a leaky minimum (it follows slow offset drift
  at up to ``valley_leak_dps``) that also jumps to any level held steady for ``STEADY_S``
  (a weight shift or a settled leg). A rep starts when the angle rises ``start_rise_deg`` above
  the valley; that threshold adapts to the user: ``max(min_rise_deg, start_frac ×`` median
  range of the last reps``)``, so small genuine reps count while fidgets below
  ``min_rise_deg`` never do.
- active: the peak is tracked; the rep completes as soon as the angle is back below
  ``valley + return_frac × (peak − valley)``, i.e. on the way down, so it is announced
  before the leg is fully at rest. Too short candidates (twitches) and too long ones
  (posture changes) are dropped silently: only ``RepCompleted`` announces a rep and it is
  never retracted. ``RepStarted``/``RepPeak`` are provisional cues for a live display.

Work per sample is constant; a rep's metrics are computed once, when it completes, over its
own buffered samples (bounded by ``max_rep_s``). Offline analysis (``detect_reps``) is this
same detector run over the whole arrays.

For speed, only what is inherently sequential runs per sample in Python: the low-pass and
the idle state's leaky valley, as tight loops over floats. An active rep's peak cue and end
are found by a vectorised search. Both do exactly the float operations of a per-sample step,
so events are bit-identical for any batching (``tests/signal/reps_reference.py`` keeps the
per-sample detector as the oracle).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from hipsense.exercises import Exercise, Leg, RepParams, RepShape, get_exercise
from hipsense.signal.circles import circle_direction
from hipsense.signal.quality import Rep, RepJudge, measure_rep
from hipsense.signal.rep_events import DetectorState, RepCompleted, RepEvent, RepPeak, RepStarted
from hipsense.signal.rep_samples import Cols, low_pass

FloatArray = npt.NDArray[np.float64]

TYPICAL_ROM_WINDOW = 5  # reps whose median range sets the adaptive start threshold
LOW_EPS_FRAC = 0.15  # "still at rest" band above the valley, as a fraction of the threshold
STEADY_BAND_DEG, STEADY_S = 0.75, 0.6  # idle and this steady: the rest level is here now
ACTIVE_WINDOW = 256  # first window searched for a rep's end (then doubled)


class RepDetector:
    """``update(t_s, primary_deg, secondary_deg)`` per batch; ``finish()`` at the end.

    NaN samples (invalid or lost) are skipped. ``params`` defaults to the exercise's own.
    ``leg`` is kept for consumers; angles are leg-symmetric, so detection ignores it.
    """

    def __init__(
        self, exercise: Exercise | str, params: RepParams | None = None, *, leg: Leg | None = None
    ) -> None:
        self.exercise = get_exercise(exercise) if isinstance(exercise, str) else exercise
        self.params = params or self.exercise.rep
        self._sign = -1.0 if self.params.shape is RepShape.LOWER else 1.0
        self._judge = RepJudge(self.exercise.quality)
        self.leg = leg  # for consumers: detection itself is the same for either leg
        self.reps: list[Rep] = []
        self._roms: deque[float] = deque(maxlen=TYPICAL_ROM_WINDOW)
        self._rise_deg = self.params.min_rise_deg
        self._smooth: float | None = None
        self._last_t = -math.inf
        self._valley = math.nan
        self._active = False
        self._peak = -math.inf
        self._peak_s = math.nan
        self._peak_told = False
        self._start_valley = math.nan
        self._done_s = -math.inf
        self._steady_deg, self._steady_s = math.nan, -math.inf
        # held samples (a rep's candidates, bounded by max_rep_s) and where the rep buffer
        # starts among them: it restarts whenever the angle sits at the valley
        self._cols, self._buf_start = Cols.empty(), 0

    @property
    def count(self) -> int:
        return len(self.reps)

    @property
    def state(self) -> DetectorState:
        typical = float(np.median(self._roms)) if self._roms else math.nan
        rest = self._start_valley if self._active else self._valley
        start = self._sign * (rest + self._rise_deg)
        return DetectorState(self._active, self._sign * rest, start, typical, self.count)

    def start_rise_deg(self) -> float:
        """Current start threshold above the valley (adapts as reps complete)."""
        return self._rise_deg

    def update(
        self, t_s: npt.ArrayLike, primary_deg: npt.ArrayLike, secondary_deg: npt.ArrayLike
    ) -> list[RepEvent]:
        t = np.asarray(t_s, dtype=np.float64).ravel()
        p = np.asarray(primary_deg, dtype=np.float64).ravel()
        s = np.asarray(secondary_deg, dtype=np.float64).ravel()
        if not t.shape == p.shape == s.shape:
            raise ValueError(f"update: t_s {t.shape}, primary {p.shape}, secondary {s.shape}")
        ok = np.isfinite(t) & np.isfinite(p)
        t, p, s = t[ok], p[ok], s[ok]
        # a sample counts only if it is later than every earlier one (no duplicates/reorders)
        before = np.maximum.accumulate(np.concatenate(([self._last_t], t)))[:-1]
        new = t > before
        if not new.any():
            return []
        t, p, s, dt = t[new], p[new], s[new], t[new] - before[new]
        self._last_t = float(t[-1])
        cols = self._cols.extend(t, self._smoothed(dt, self._sign * p), p, s, dt)
        events: list[RepEvent] = []
        k = len(self._cols)
        while k < len(cols):
            k = (
                self._scan_active(cols, k, events)
                if self._active
                else self._run_idle(cols, k, events)
            )
        self._cols = cols.tail(self._buf_start)
        self._buf_start = 0
        return events

    def finish(self) -> list[RepEvent]:
        """End of stream: an unfinished rep is not counted (it never came back down)."""
        self._active = False
        self._cols, self._buf_start = Cols.empty(), 0
        return []

    def _smoothed(self, dt: FloatArray, y: FloatArray) -> FloatArray:
        with np.errstate(invalid="ignore"):  # inf/inf for the very first sample (unused)
            alpha = dt / (self.params.smoothing_s + dt)
        out = low_pass(self._smooth, alpha, y)
        self._smooth = float(out[-1])
        return out

    def _run_idle(self, c: Cols, k: int, events: list[RepEvent]) -> int:
        """The idle state machine from sample ``k`` until a rep starts (its index + 1) or the
        data ends; a tight loop on floats because the leaky valley is a running recurrence."""
        prm = self.params
        leak, rise, low = prm.valley_leak_dps, self._rise_deg, LOW_EPS_FRAC * self._rise_deg
        max_rep, refractory, done_s = prm.max_rep_s, prm.refractory_s, self._done_s
        tl, yl, dtl = c.lists
        valley, steady_deg, steady_s, b = (
            self._valley,
            self._steady_deg,
            self._steady_s,
            self._buf_start,
        )
        n = len(tl)
        if math.isnan(valley) and k < n:  # the very first sample
            valley = yl[k]
        while k < n:
            t, y = tl[k], yl[k]
            v = valley + leak * dtl[k]
            valley = v if v < y else y  # min(y, v) as Python's min picks it
            if not abs(y - steady_deg) <= STEADY_BAND_DEG:  # also true while NaN
                steady_deg, steady_s = y, t
            elif t - steady_s >= STEADY_S:  # resting at a new level (a weight shift)
                valley = steady_deg if steady_deg < y else y
            if y <= valley + low:
                b = k  # at rest: the rep buffer restarts here
            while b <= k and t - tl[b] > max_rep:
                b += 1
            k += 1
            if y - valley >= rise and t - done_s >= refractory and b < k:
                self._active, self._peak, self._peak_s, self._peak_told = True, y, t, False
                self._start_valley = valley
                events.append(RepStarted(self.count + 1, tl[b], t))
                break
        self._valley, self._steady_deg, self._steady_s, self._buf_start = (
            valley,
            steady_deg,
            steady_s,
            b,
        )
        return k

    def _scan_active(self, c: Cols, k: int, events: list[RepEvent]) -> int:
        """The active state from sample ``k``: vectorised search for the peak cue and the end
        in growing windows (a rep is at most ``max_rep_s`` long)."""
        width = ACTIVE_WINDOW
        while k < len(c):
            j = min(len(c), k + width)
            end = self._active_window(c, k, j, events)
            if end is not None:
                return end
            k, width = j, 2 * width
        return k

    def _active_window(self, c: Cols, k: int, j: int, events: list[RepEvent]) -> int | None:
        prm = self.params
        t, y = c.t[k:j], c.y[k:j]
        running = np.maximum.accumulate(np.concatenate(([self._peak], y)))
        peak, record = running[1:], y > running[:-1]
        rom = peak - self._start_valley
        start_s = float(c.t[self._buf_start])
        back = y <= self._start_valley + prm.return_frac * rom
        ends = np.flatnonzero(back | (t - start_s > prm.max_rep_s))
        last = int(ends[0]) if ends.size else len(y) - 1
        if not self._peak_told:
            told = np.flatnonzero(
                y[: last + 1] < peak[: last + 1] - np.maximum(1.5, 0.15 * rom[: last + 1])
            )
            if told.size:
                m = int(told[0])
                self._peak_told = True
                peak_s = self._peak_time(t, record, m)
                events.append(
                    RepPeak(self.count + 1, peak_s, self._sign * float(peak[m]), float(t[m]))
                )
        self._peak_s, self._peak = self._peak_time(t, record, last), float(peak[last])
        if not ends.size:
            return None
        te = float(t[last])
        self._active, self._valley, self._done_s = False, float(y[last]), te
        if back[last] and te - start_s >= prm.min_rep_s:
            events.append(self._complete(self._measure(c, k + last, te)))
        self._buf_start = k + last + 1  # the buffer is emptied after a rep or a posture change
        return k + last + 1

    def _peak_time(self, t: FloatArray, record: npt.NDArray[np.bool_], m: int) -> float:
        """When the running peak at window sample ``m`` was first reached."""
        hits = np.flatnonzero(record[: m + 1])
        return float(t[hits[-1]]) if hits.size else self._peak_s

    def _measure(self, c: Cols, last: int, t: float) -> Rep:
        cols = c.block(self._buf_start, last + 1)
        rep = measure_rep(
            self.count + 1,
            cols[:, 0],
            cols[:, 1],
            cols[:, 2],
            cols[:, 3],
            sign=self._sign,
            low_y_deg=self._start_valley,
            detected_s=t,
        )
        if self.params.shape is RepShape.CIRCLE:  # one flexion cycle per circle
            direction = circle_direction(cols[:, 2], cols[:, 3])
            rep = replace(rep, flags=(direction,))
        return rep

    def _complete(self, rep: Rep) -> RepCompleted:
        rep = self._judge.judge(rep)
        self.reps.append(rep)
        self._roms.append(rep.rom_deg)
        typical = float(np.median(self._roms))
        self._rise_deg = max(self.params.min_rise_deg, self.params.start_frac * typical)
        return RepCompleted(rep)


def detect_reps(
    t_s: npt.ArrayLike,
    primary_deg: npt.ArrayLike,
    secondary_deg: npt.ArrayLike,
    exercise: Exercise | str,
    params: RepParams | None = None,
    *,
    leg: Leg | None = None,
) -> list[Rep]:
    """Offline: the streaming detector over the whole recording, returning its reps."""
    detector = RepDetector(exercise, params, leg=leg)
    detector.update(t_s, primary_deg, secondary_deg)
    detector.finish()
    return list(detector.reps)


__all__ = [
    "DetectorState",
    "RepCompleted",
    "RepDetector",
    "RepEvent",
    "RepPeak",
    "RepStarted",
    "detect_reps",
]
