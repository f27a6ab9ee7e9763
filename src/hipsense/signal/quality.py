"""Per-rep metrics, live quality flags and the set summary.

Flags that compare a rep with "the user's typical good rep" (``short-range``, ``rushed``)
use a reference taken from the reps so far in the set, including the rep being judged: the
75th percentile of their ranges and of their durations. An upper quantile rather than the
median keeps the reference on the good reps even when half the set is rushed or short.
The first ``min_reference_reps - 1`` reps of a set get no relative flags (there is no
reference yet: a first rep is neither short nor rushed compared with itself); every rep is
judged once, when completed, and never re-judged. Absolute flags (descent, hold, plane, and
``rushed`` below an exercise's ``min_rep_tempo_s``) depend on the rep alone.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from hipsense.exercises import (
    DOWN_LEG_MOVED,
    NO_HOLD,
    OFF_PLANE,
    RUSHED,
    SHORT_RANGE,
    SLOW_LOWERING_MISSED,
    QualityParams,
)
from hipsense.signal.sparc import sparc

FloatArray = npt.NDArray[np.float64]

REFERENCE_QUANTILE = 0.75
TOP_BAND_FRAC = 0.08  # within 8 % of the range (3° at least) of the extreme is "at the top"
TOP_BAND_MIN_DEG = 3.0
HOLD_LEVEL_FRAC = 0.75  # a hold is spent in the upper quarter of the range...
HOLD_SPEED_DPS = 8.0  # ...moving slower than this (a slow sag still counts as holding)
SPEED_BASE_S = 0.1  # speed over ±0.1 s, which averages out sample noise
MOVE_LO_FRAC, MOVE_HI_FRAC = 0.05, 0.95
MIN_JERK_5_95_SPAN = 0.6215  # fraction of a minimum-jerk movement between 5 % and 95 %


@dataclass(frozen=True)
class Rep:
    """One counted rep. Angles in the exercise's primary angle unless named otherwise.

    ``start_s`` is when the angle left its rest level and ``end_s`` (= ``detected_s``) when
    the detector confirmed the rep on the way back, so ``duration_s`` is a tempo measure.
    ``peak_deg`` is the extreme reached in the rep's direction (the lowest point for leg
    lowering), ``low_deg`` the rest/valley level it started from. ``descent_s``: leg
    lowering, the whole lowering (from its 5-95 % crossings, minimum-jerk scaled); other
    exercises, the part of the lowering seen before confirmation. ``hold_s`` is the longest
    stay in the upper quarter of the range while nearly still, ``off_plane_deg`` the range of
    the secondary angle during the rep. ``flags`` holds quality flags and, for hip circles,
    the direction (``outward``/``inward``).

    The SLR test with a second sensor on the other thigh watches that (down) leg during the
    raise: ``down_leg_tilt_deg`` is its largest tilt from rest between the rep's start and
    its peak (None: not watched), and when it moved (flag ``down-leg-moved``)
    ``down_leg_moved_s`` is when and ``down_leg_moved_deg`` this leg's angle then: the trial
    is measured there (``measured_deg``).
    """

    index: int
    start_s: float
    end_s: float
    duration_s: float
    peak_deg: float
    low_deg: float
    rom_deg: float
    hold_s: float
    descent_s: float
    off_plane_deg: float
    sparc: float
    flags: tuple[str, ...]
    detected_s: float
    down_leg_tilt_deg: float | None = None
    down_leg_moved_s: float | None = None
    down_leg_moved_deg: float | None = None

    @property
    def down_leg_moved(self) -> bool:
        return DOWN_LEG_MOVED in self.flags and self.down_leg_moved_deg is not None

    @property
    def measured_deg(self) -> float:
        """The rep's value as a test trial: the peak, or where the down leg moved."""
        if self.down_leg_moved and self.down_leg_moved_deg is not None:
            return self.down_leg_moved_deg
        return self.peak_deg


def _longest_run_s(t_s: FloatArray, mask: npt.NDArray[np.bool_]) -> float:
    """Longest contiguous time span where ``mask`` holds."""
    if not mask.any():
        return 0.0
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return float(np.max(t_s[ends] - t_s[starts]))


def _holding(t_s: FloatArray, y_deg: FloatArray, level_deg: float) -> npt.NDArray[np.bool_]:
    """Samples near the top and nearly still (speed from a ±SPEED_BASE_S difference)."""
    lo = np.searchsorted(t_s, t_s - SPEED_BASE_S)
    hi = np.minimum(np.searchsorted(t_s, t_s + SPEED_BASE_S, side="right") - 1, t_s.size - 1)
    span_s = np.maximum(t_s[hi] - t_s[lo], 1e-9)
    speed_dps = np.abs(y_deg[hi] - y_deg[lo]) / span_s
    return (y_deg >= level_deg) & (speed_dps < HOLD_SPEED_DPS)


def _movement_time_s(t_s: FloatArray, y_deg: FloatArray, low_y_deg: float, rom: float) -> float:
    """Duration of the first rise from ``low`` to ``low + rom``, from its 5-95 % crossing time.

    A smooth human movement follows a minimum-jerk profile closely; for it the 5 % and 95 %
    crossings are 62.2 % of the movement apart, so dividing by that gives the whole duration
    while staying clear of the noise at both ends.
    """
    level = (y_deg - low_y_deg) / rom
    i95 = int(np.argmax(level >= MOVE_HI_FRAC))
    below = np.flatnonzero(level[: i95 + 1] <= MOVE_LO_FRAC)
    i05 = int(below[-1]) if below.size else 0  # a rep that starts already above 5 %
    return float(t_s[i95] - t_s[i05]) / MIN_JERK_5_95_SPAN


def speed_sparc(t_s: FloatArray, primary: FloatArray, secondary: FloatArray) -> float:
    """SPARC of the angular speed, resampled onto a uniform grid (gaps are interpolated)."""
    if t_s.size < 4:
        return math.nan
    dt_s = _median(np.diff(t_s))
    grid = np.arange(t_s[0], t_s[-1], dt_s)
    if grid.size < 4:
        return math.nan
    p = np.interp(grid, t_s, primary)
    gaps = np.isnan(secondary).any()  # NaN secondary samples take the median of the rest
    fill = float(np.nanmedian(secondary)) if gaps else 0.0
    s = np.interp(grid, t_s, np.nan_to_num(secondary, nan=fill))
    speed = np.hypot(_gradient(p, dt_s), _gradient(s, dt_s))
    return sparc(speed, 1.0 / dt_s)


def _median(x: FloatArray) -> float:
    """``np.median`` of finite values, in its float operations (without its overhead)."""
    k = x.size
    if k == 0 or not np.isfinite(x).all():
        return float(np.median(x))
    part = np.partition(x, [(k - 1) // 2, k // 2])
    if k % 2:
        return float(part[k // 2])
    return float((part[k // 2 - 1] + part[k // 2]) / 2.0)


def _gradient(f: FloatArray, dx: float) -> FloatArray:
    """``np.gradient(f, dx)`` of at least 2 samples, in its float operations."""
    out = np.empty_like(f)
    out[1:-1] = (f[2:] - f[:-2]) / (2.0 * dx)
    out[0] = (f[1] - f[0]) / dx
    out[-1] = (f[-1] - f[-2]) / dx
    return out


def _upper_quantile(ordered: list[float], q: float) -> float:
    """``np.quantile(values, q)`` (linear) of finite values kept ``ordered``, in its float
    operations: a rep's judgement stays O(log n) in a long set instead of O(n)."""
    n = len(ordered)
    virtual = (n - 1) * q
    below = math.floor(virtual)
    if virtual >= n - 1:
        return ordered[-1]
    a, b = ordered[below], ordered[below + 1]
    gamma = virtual - below
    diff = b - a
    return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma


def measure_rep(
    index: int,
    t_s: FloatArray,
    y_deg: FloatArray,
    primary_deg: FloatArray,
    secondary_deg: FloatArray,
    *,
    sign: float,
    low_y_deg: float,
    detected_s: float,
) -> Rep:
    """Metrics of one rep from its samples (start to confirmation), before any flags.

    ``y_deg`` is the smoothed primary angle times ``sign`` (so the rep always goes up);
    ``low_y_deg`` is the valley it started from, in the same units.
    """
    peak_y = float(np.max(y_deg))
    rom = peak_y - low_y_deg
    band = max(TOP_BAND_MIN_DEG, TOP_BAND_FRAC * rom)
    at_top = y_deg >= peak_y - band
    if sign > 0:  # raise: only the lowering seen before confirmation (top edge -> now)
        descent_s = float(t_s[-1] - t_s[np.flatnonzero(at_top)[-1]])
    else:  # lower: the whole lowering is over before the rep can complete
        descent_s = _movement_time_s(t_s, y_deg, low_y_deg, rom)
    secondary = secondary_deg[np.isfinite(secondary_deg)]
    off_plane = float(np.ptp(secondary)) if secondary.size else math.nan
    return Rep(
        index=index,
        start_s=float(t_s[0]),
        end_s=float(t_s[-1]),
        duration_s=float(t_s[-1] - t_s[0]),
        peak_deg=sign * peak_y,
        low_deg=sign * low_y_deg,
        rom_deg=rom,
        hold_s=_longest_run_s(t_s, _holding(t_s, y_deg, low_y_deg + HOLD_LEVEL_FRAC * rom)),
        descent_s=descent_s,
        off_plane_deg=off_plane,
        sparc=speed_sparc(t_s, primary_deg, secondary_deg),
        flags=(),
        detected_s=detected_s,
    )


@dataclass
class RepJudge:
    """Flags each completed rep against the reps so far (live, decided once per rep)."""

    params: QualityParams
    min_reference_reps: int = 3
    roms_deg: list[float] = field(default_factory=list)
    durations_s: list[float] = field(default_factory=list)
    _ordered: tuple[list[float], list[float]] = field(
        default_factory=lambda: ([], []), repr=False, compare=False
    )
    _seen: list[int] = field(default_factory=lambda: [0, 0], repr=False, compare=False)

    def judge(self, rep: Rep) -> Rep:
        """Return ``rep`` with its flags; it joins the reference for the reps after it."""
        roms, durations = self.roms_deg, self.durations_s
        roms.append(rep.rom_deg)
        durations.append(rep.duration_s)
        p = self.params
        flags = list(rep.flags)
        if len(roms) >= self.min_reference_reps:
            ref_rom, ref_s = self._reference(roms, 0), self._reference(durations, 1)
            if rep.rom_deg < p.short_range_ratio * ref_rom:
                flags.append(SHORT_RANGE)
            if rep.duration_s < p.rushed_ratio * ref_s:
                flags.append(RUSHED)
        quick = p.min_rep_tempo_s is not None and rep.duration_s < p.min_rep_tempo_s
        if quick and RUSHED not in flags:
            flags.append(RUSHED)
        if p.min_descent_s is not None and rep.descent_s < p.min_descent_s:
            flags.append(SLOW_LOWERING_MISSED)
        if p.min_hold_s is not None and rep.hold_s < p.min_hold_s:
            flags.append(NO_HOLD)
        if p.max_off_plane_deg is not None and rep.off_plane_deg > p.max_off_plane_deg:
            flags.append(OFF_PLANE)
        return replace(rep, flags=tuple(flags))

    def _reference(self, values: list[float], which: int) -> float:
        """The ``REFERENCE_QUANTILE`` of ``values``; their finite ones are kept ordered as
        they grow (numpy decides when there are others)."""
        ordered, seen = self._ordered[which], self._seen
        if seen[which] + 1 != len(values):  # first use, or the list changed outside judge()
            ordered[:] = sorted(v for v in values if math.isfinite(v))
        elif math.isfinite(values[-1]):
            bisect.insort(ordered, values[-1])
        seen[which] = len(values)
        if len(ordered) != len(values):
            return float(np.quantile(values, REFERENCE_QUANTILE))
        return _upper_quantile(ordered, REFERENCE_QUANTILE)


@dataclass(frozen=True)
class SetSummary:
    count: int
    target_reps: int
    mean_rom_deg: float
    best_rom_deg: float
    best_peak_deg: float
    rom_cv_pct: float
    mean_duration_s: float
    flag_counts: tuple[tuple[str, int], ...]

    @property
    def target_met(self) -> bool:
        return self.count >= self.target_reps


def summarise_set(reps: list[Rep], target_reps: int) -> SetSummary:
    """Count against target, range (mean, best, consistency as CV %), tempo and flags."""
    if not reps:
        return SetSummary(0, target_reps, math.nan, math.nan, math.nan, math.nan, math.nan, ())
    roms = np.array([r.rom_deg for r in reps])
    mean_rom = float(roms.mean())
    peaks = np.array([r.peak_deg for r in reps])
    best_peak = float(peaks[np.argmax(np.abs(peaks))])
    counts = Counter(f for r in reps for f in r.flags)
    return SetSummary(
        count=len(reps),
        target_reps=target_reps,
        mean_rom_deg=mean_rom,
        best_rom_deg=float(roms.max()),
        best_peak_deg=best_peak,
        rom_cv_pct=float(100.0 * roms.std() / mean_rom) if mean_rom > 0 else math.nan,
        mean_duration_s=float(np.mean([r.duration_s for r in reps])),
        flag_counts=tuple(sorted(counts.items())),
    )


def symmetry_index(left: float, right: float) -> float:
    """SI = (R − L) / (0.5 (R + L)) × 100 %; below 10 % is usually called symmetric."""
    mean = 0.5 * (right + left)
    return math.nan if mean == 0 else 100.0 * (right - left) / mean
