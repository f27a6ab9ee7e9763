"""Vectorised checks of incoming IMU samples: non-finite, saturated, gaps, time jumps, disorder.

Bad samples are marked invalid (their angles become NaN, their accelerometer never corrects
the orientation) and reported as ``DataQualityEvent``s; nothing here raises on bad data.
``SampleChecker`` keeps the last timestamp so gaps across batch boundaries are seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

import numpy as np
import numpy.typing as npt

from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.words import counted

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


class DataQualityKind(StrEnum):
    NON_FINITE = "non_finite"
    SATURATED = "saturated"
    GAP = "gap"
    TIME_JUMP = "time_jump"
    NON_MONOTONIC = "non_monotonic"


@dataclass(frozen=True)
class DataQualityEvent:
    kind: DataQualityKind
    t_s: float
    n_samples: int
    message: str


@dataclass(frozen=True)
class DataQualityParams:
    """Full scales default to the protocol's +-16 g and +-2000 deg/s ranges."""

    acc_full_scale_mps2: float = 16.0 * STANDARD_GRAVITY_MPS2
    gyr_full_scale_radps: float = float(np.radians(2000.0))
    saturation_fraction: float = 0.995
    gap_factor: float = 1.5
    max_fill_s: float = 0.5
    max_blind_gap_s: float = 0.2
    short_gap_s: float = 0.12
    max_gap_rotation_deg: float = 30.0
    """Gaps are bridged by the gyro (a cubic through the edge rates and slopes). The bridge is
    trusted, and the samples after it stay valid, if the gap lasts up to ``short_gap_s`` (a
    0.1 s gap in a 260 deg/s swing is missed by < 1 deg), or up to ``max_blind_gap_s`` while
    the thigh turned less than ``max_gap_rotation_deg`` (gap x rate at its edges). Otherwise
    it may hide a knee drive's burst: the next samples are invalid until re-anchored."""


@dataclass(frozen=True, eq=False)
class CheckedSamples:
    """Per-sample verdicts for one batch."""

    valid: BoolArray
    acc_ok: BoolArray
    missing_before: IntArray
    reset_before: BoolArray
    fast_gap_before: BoolArray
    events: tuple[DataQualityEvent, ...]


_MESSAGES = {
    DataQualityKind.NON_FINITE: "{samples} with NaN/inf values ignored",
    DataQualityKind.SATURATED: "{samples} at the sensor's full scale (clipped) ignored",
    DataQualityKind.GAP: "{samples} lost; orientation carried over by the gyro",
    DataQualityKind.TIME_JUMP: "{dt:.2f} s without samples; orientation restarted",
    DataQualityKind.NON_MONOTONIC: "{samples} with time going backwards ignored",
}


def _message(kind: DataQualityKind, n: int, dt_s: float = 0.0, text: str | None = None) -> str:
    return (text or _MESSAGES[kind]).format(samples=counted(n, "sample"), dt=dt_s)


def _run_events(kind: DataQualityKind, mask: BoolArray, t_s: FloatArray) -> list[DataQualityEvent]:
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [
        DataQualityEvent(kind, float(t_s[a]), int(b - a), _message(kind, int(b - a)))
        for a, b in zip(starts, stops, strict=True)
    ]


def _finite(t_s: FloatArray, acc_mps2: FloatArray, gyr_radps: FloatArray) -> BoolArray:
    return np.asarray(
        np.isfinite(acc_mps2).all(1) & np.isfinite(gyr_radps).all(1) & np.isfinite(t_s)
    )


class GapKind(IntEnum):
    """How the bridge over a gap is treated (per sample, about the gap before it)."""

    TRUSTED = 0
    """Left to the fusion."""
    UNTRUSTED = 1
    """Re-anchored quickly until checked; its angles stay valid."""
    BLIND = 2
    """The same, its angles hidden until then."""
    DOUBTFUL = 3
    """Trusted by its length, doubted for a start or stop that may lie in it
    (``GapWatch.plan``)."""
    WATCHED = 4
    """Trusted, standing: only the mean of what follows may correct it (``GapWatch.plan``)."""
    LEANING = 5
    """Watched, its cubic leaning on its edges' slopes: its rows held for the repair
    (``GapWatch.plan``)."""


class SampleChecker:
    """Streaming checker; ``check`` is vectorised over a batch and remembers the last time."""

    def __init__(self, rate_hz: float, params: DataQualityParams = DataQualityParams()) -> None:
        self.rate_hz = float(rate_hz)
        self.params = params
        self._last_t_s: float | None = None
        self._last_rate_radps = 0.0
        self._open_runs: set[DataQualityKind] = set()

    def _continued(
        self, kind: DataQualityKind, mask: BoolArray, t_s: FloatArray
    ) -> list[DataQualityEvent]:
        """Run events; a run that continues from the previous batch is not reported again."""
        if not mask.any():  # the usual case: nothing to report, no run left open
            if len(mask):
                self._open_runs.discard(kind)
            return []
        events = _run_events(kind, mask, t_s)
        if kind in self._open_runs and len(mask) and mask[0]:
            events = events[1:]
        if len(mask):
            self._open_runs.discard(kind)
            if mask[-1]:
                self._open_runs.add(kind)
        return events

    @property
    def _latest_t_s(self) -> float:
        """The latest time checked so far (NaN before the first)."""
        return np.nan if self._last_t_s is None else self._last_t_s

    def _steps(
        self, t_s: FloatArray, finite: BoolArray, lost_before: IntArray
    ) -> tuple[FloatArray, BoolArray, IntArray]:
        """(time since the latest sample before, time going backwards, samples missing before
        each); ``lost_before``: counted missing before each."""
        last = self._latest_t_s
        # Compare with the latest time so far: one backwards glitch flags one sample only.
        t_ok = np.where(np.isfinite(t_s), t_s, np.nan)
        dt = t_ok - np.fmax.accumulate(np.concatenate([[last], t_ok]))[:-1]
        backwards = finite & (dt <= 0)
        period = 1.0 / self.rate_hz
        with np.errstate(invalid="ignore"):
            gap_steps = np.where(finite & ~backwards, np.rint(dt / period) - 1, 0).astype(np.int64)
        gap_steps = np.where(dt > self.params.gap_factor * period, np.maximum(gap_steps, 1), 0)
        return dt, backwards, np.maximum(gap_steps, lost_before)

    def ends_after_gap(
        self, t_s: FloatArray, acc_mps2: FloatArray, gyr_radps: FloatArray, lost_before: IntArray
    ) -> bool:
        """Whether ``check`` would bridge lost samples right before the batch's last sample
        (a gap, not a time jump). Nothing is remembered."""
        if not len(t_s):
            return False
        last = self._latest_t_s
        step_s = float(t_s[-1]) - float(np.fmax.reduce(t_s[:-1], initial=last))
        if not lost_before[-1] and step_s <= self.params.gap_factor / self.rate_hz:
            return False  # the usual batch (this runs per batch): on time, nothing counted lost
        steps = self._steps(t_s, _finite(t_s, acc_mps2, gyr_radps), lost_before)[2][-1]
        return bool(steps > 0 and not self._jumps(steps * (1.0 / self.rate_hz)))

    def _jumps(self, gap_s: FloatArray | float) -> BoolArray:
        """Gaps too long to bridge: the orientation restarts after them."""
        return np.asarray(gap_s > self.params.max_fill_s)

    def check(
        self,
        t_s: FloatArray,
        acc_mps2: FloatArray,
        gyr_radps: FloatArray,
        lost_before: IntArray | None = None,
    ) -> CheckedSamples:
        """``lost_before``: samples counted missing before each (none if not given)."""
        p = self.params
        if lost_before is None:
            lost_before = np.zeros(len(t_s), dtype=np.int64)
        finite = _finite(t_s, acc_mps2, gyr_radps)
        with np.errstate(invalid="ignore"):
            sat_acc = (np.abs(acc_mps2) >= p.saturation_fraction * p.acc_full_scale_mps2).any(1)
            sat_gyr = (np.abs(gyr_radps) >= p.saturation_fraction * p.gyr_full_scale_radps).any(1)
        saturated = finite & (sat_acc | sat_gyr)
        last = self._latest_t_s
        dt, backwards, gap_steps = self._steps(t_s, finite, lost_before)
        gap_s = np.asarray(gap_steps * (1.0 / self.rate_hz), dtype=np.float64)
        jump = self._jumps(gap_s)
        fast = self._untrusted_gap(gyr_radps, gap_s) & ~jump
        runs = {
            DataQualityKind.NON_FINITE: ~finite,
            DataQualityKind.SATURATED: saturated,
            DataQualityKind.NON_MONOTONIC: backwards,
        }
        events = [e for k, m in runs.items() for e in self._continued(k, m, t_s)]
        events += self._gap_events(t_s, gap_steps, fast, dt)
        valid = finite & ~saturated & ~backwards
        finite_t = t_s[np.isfinite(t_s)]
        if finite_t.size:  # bad values still come with a real timestamp
            self._last_t_s = float(np.fmax(np.max(finite_t), last))
        return CheckedSamples(
            valid=valid,
            acc_ok=valid,
            missing_before=np.where(jump, 0, gap_steps),
            reset_before=jump,
            fast_gap_before=fast,
            events=tuple(sorted(events, key=lambda e: e.t_s)),
        )

    def gap_kind(self, checked: CheckedSamples) -> IntArray:
        """Per sample: the ``GapKind`` of the bridge before it, trusted, untrusted or blind."""
        blind = checked.missing_before > self.params.max_blind_gap_s * self.rate_hz
        fast = checked.fast_gap_before
        kind = np.where(fast, np.where(blind, GapKind.BLIND, GapKind.UNTRUSTED), GapKind.TRUSTED)
        return np.asarray(kind, dtype=np.int64)

    def _untrusted_gap(self, gyr_radps: FloatArray, gap_s: FloatArray) -> BoolArray:
        if not (gap_s > 0).any():  # no gap: only the last rate is needed, for the next batch
            if len(gap_s):
                last = np.nan_to_num(gyr_radps[-1:], posinf=0.0, neginf=0.0)
                self._last_rate_radps = float(np.linalg.norm(last, axis=1)[0])
            return np.zeros(len(gap_s), dtype=bool)
        rate = np.linalg.norm(np.nan_to_num(gyr_radps, posinf=0.0, neginf=0.0), axis=1)
        before = np.concatenate([[self._last_rate_radps], rate[:-1]])
        if len(rate):
            self._last_rate_radps = float(rate[-1])
        swept_deg = np.degrees(gap_s * np.maximum(rate, before))
        p = self.params
        fast = (gap_s > p.short_gap_s) & (swept_deg > p.max_gap_rotation_deg)
        return np.asarray((gap_s > 0) & (fast | (gap_s > p.max_blind_gap_s)))

    def _gap_events(
        self, t_s: FloatArray, gap_steps: IntArray, reset: BoolArray, dt: FloatArray
    ) -> list[DataQualityEvent]:
        out = []
        for i in np.flatnonzero(gap_steps > 0):
            n, gap_s = int(gap_steps[i]), float(np.nan_to_num(dt[i]))
            if gap_steps[i] / self.rate_hz > self.params.max_fill_s:
                kind, msg = DataQualityKind.TIME_JUMP, _MESSAGES[DataQualityKind.TIME_JUMP]
            else:
                kind, msg = DataQualityKind.GAP, _MESSAGES[DataQualityKind.GAP]
                if reset[i]:
                    msg = "{samples} lost during motion; re-anchoring the orientation"
            out.append(DataQualityEvent(kind, float(t_s[i]), n, _message(kind, n, gap_s, msg)))
        return out
