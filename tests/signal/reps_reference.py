"""The rep detector as it was before the vectorised scan: one Python step per sample.

Kept verbatim (only this docstring and ``detect_reps`` removed) as the oracle that the fast
detector must match event for event, bit for bit.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from hipsense.exercises import Exercise, Leg, RepParams, RepShape, get_exercise
from hipsense.signal.circles import circle_direction
from hipsense.signal.quality import Rep, RepJudge, measure_rep

FloatArray = npt.NDArray[np.float64]

TYPICAL_ROM_WINDOW = 5  # reps whose median range sets the adaptive start threshold
LOW_EPS_FRAC = 0.15  # "still at rest" band above the valley, as a fraction of the threshold
STEADY_BAND_DEG, STEADY_S = 0.75, 0.6  # idle and this steady: the rest level is here now


@dataclass(frozen=True)
class RepStarted:
    index: int  # index the rep will get if it completes
    start_s: float
    t_s: float  # when the start was recognised


@dataclass(frozen=True)
class RepPeak:
    index: int
    peak_s: float
    peak_deg: float
    t_s: float


@dataclass(frozen=True)
class RepCompleted:
    rep: Rep

    @property
    def t_s(self) -> float:
        return self.rep.detected_s


RepEvent = RepStarted | RepPeak | RepCompleted


@dataclass(frozen=True)
class DetectorState:
    """A snapshot for live displays, in the primary angle's own sign."""

    active: bool  # a rep is under way
    rest_deg: float  # current valley (rest level); NaN before the first sample
    start_deg: float  # the angle a rep must pass to start
    typical_rom_deg: float  # median range of the last reps (NaN before any)
    count: int


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
        # samples since the angle last sat at the valley: (t, y, primary, secondary)
        self._buf: deque[tuple[float, float, float, float]] = deque()

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
        events: list[RepEvent] = []
        ok = np.isfinite(t) & np.isfinite(p)
        for ti, pi, si in zip(t[ok].tolist(), p[ok].tolist(), s[ok].tolist(), strict=True):
            self._step(ti, pi, si, events)
        return events

    def finish(self) -> list[RepEvent]:
        """End of stream: an unfinished rep is not counted (it never came back down)."""
        self._active = False
        self._buf.clear()
        return []

    def _step(self, t: float, p: float, s: float, events: list[RepEvent]) -> None:
        dt = t - self._last_t
        if dt <= 0.0:
            return  # duplicate or out-of-order sample
        self._last_t = t
        y = self._sign * p
        alpha = dt / (self.params.smoothing_s + dt)
        self._smooth = y if self._smooth is None else self._smooth + alpha * (y - self._smooth)
        y = self._smooth
        self._buf.append((t, y, p, s))
        if self._active:
            self._step_active(t, y, events)
        else:
            self._step_idle(t, y, dt, events)

    def _step_idle(self, t: float, y: float, dt: float, events: list[RepEvent]) -> None:
        prm = self.params
        if math.isnan(self._valley):
            self._valley = y
        self._valley = min(y, self._valley + prm.valley_leak_dps * dt)
        rise = self.start_rise_deg()
        if not abs(y - self._steady_deg) <= STEADY_BAND_DEG:  # also true while NaN
            self._steady_deg, self._steady_s = y, t
        elif t - self._steady_s >= STEADY_S:  # resting at a new level (a weight shift)
            self._valley = min(y, self._steady_deg)
        if y <= self._valley + LOW_EPS_FRAC * rise:
            at_rest = self._buf[-1]
            self._buf.clear()
            self._buf.append(at_rest)
        while self._buf and t - self._buf[0][0] > prm.max_rep_s:
            self._buf.popleft()
        if y - self._valley >= rise and t - self._done_s >= prm.refractory_s and self._buf:
            self._active, self._peak, self._peak_s, self._peak_told = True, y, t, False
            self._start_valley = self._valley
            events.append(RepStarted(self.count + 1, self._buf[0][0], t))

    def _step_active(self, t: float, y: float, events: list[RepEvent]) -> None:
        prm = self.params
        if y > self._peak:
            self._peak, self._peak_s = y, t
        rom = self._peak - self._start_valley
        if not self._peak_told and y < self._peak - max(1.5, 0.15 * rom):
            self._peak_told = True
            events.append(RepPeak(self.count + 1, self._peak_s, self._sign * self._peak, t))
        start_s = self._buf[0][0]
        if y <= self._start_valley + prm.return_frac * rom:
            self._end_active(t, y)
            if t - start_s >= prm.min_rep_s:
                events.append(self._complete(self._measure(t)))
            self._buf.clear()
        elif t - start_s > prm.max_rep_s:
            self._end_active(t, y)  # a posture change, not a rep: start afresh from here
            self._buf.clear()

    def _end_active(self, t: float, y: float) -> None:
        self._active = False
        self._valley = y
        self._done_s = t

    def _measure(self, t: float) -> Rep:
        cols = np.array(self._buf, dtype=np.float64)
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
