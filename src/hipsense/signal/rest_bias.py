"""The gyroscope's bias from still runs, without the body's postural sway in it.

Standing or lying "still", the body sways: the thigh turns at 1-2 deg/s, and the plain mean
of the gyro over a 2 s still phase (or VQF's rest estimate, the gyro low-passed with 0.5 s)
takes that for bias, up to 1 deg/s off, which tilts the estimate by bias x tau_acc (2.5 deg)
through the set that follows. Over a still run the gyro integrates the sway's rotation plus
bias x time; the accelerometer sees the sway's tilt (gravity turning in the sensor frame,
a - a_ref = a_ref x rotation for small angles), so the bias across gravity is the slope the
gyro's integral has beyond the tilt the accelerometer saw. Sway turns the thigh about a
pivot (the hip, the ankles), so the accelerometer also reads the tangential acceleration
alpha x r: r is fitted per run alongside (without it half of the error remained; with it,
seeds 1000-1029: 0.03 / 0.07 deg/s median / p90 across gravity, against 0.3 / 1.0 deg/s for
the plain mean). The component along gravity turns nothing the accelerometer can see: it stays
the plain mean, with a larger uncertainty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import uniform_filter1d

from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.signal.lever_arm import RestDetector, skew
from hipsense.signal.row_buffer import RowBuffer

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MIN_RUN_S = 1.0
"""Shorter still runs give no estimate: the slope of 1 s already carries 0.1 deg/s of noise."""
MAX_RUN_S = 30.0
"""A longer rest continues as a new run (drift; the buffer stays bounded)."""
SPIN_UP_WINDOW_S = 0.1
"""The gyro is smoothed over this before differentiating it for the angular acceleration
(gyro noise; 0.05 s and 0.2 s gave 0.08 and 0.07 deg/s p90 against 0.07)."""
MAX_TURN_DEG = 5.0
"""A run whose gyro (less the bias found) turned further is no rest: small-angle model."""
CALM_TURN_DEG = 1.5
"""Up to this much turning the run counts as calm: its along-gravity mean is trusted more."""
SIGMA_TILT_DPS_S = 0.1
"""Uncertainty across gravity: this / the run's duration (p90 0.13 deg/s on runs of 1-1.5 s,
0.07 overall), at least ``MIN_SIGMA_DPS``."""
MIN_SIGMA_DPS = 0.02
SIGMA_VERTICAL_DPS = (0.15, 0.5)
"""Uncertainty along gravity (a twist about the vertical is invisible): calm, not calm."""


@dataclass(frozen=True)
class RestBias:
    """One still run's gyro bias (sensor frame) and how well it is known, across gravity
    (``up``: the run's mean accelerometer direction) and along it."""

    bias_radps: tuple[float, float, float]
    up: tuple[float, float, float]
    sigma_tilt_dps: float
    sigma_vertical_dps: float
    duration_s: float

    def covariance_dps2(self) -> FloatArray:
        """The estimate's covariance, (deg/s)^2, sensor frame."""
        u = np.asarray(self.up)
        along = np.outer(u, u)
        return np.asarray(
            self.sigma_tilt_dps**2 * (np.eye(3) - along) + self.sigma_vertical_dps**2 * along,
            dtype=np.float64,
        )


def still_bias(
    gyr_radps: FloatArray,
    acc_mps2: FloatArray,
    rate_hz: float,
    ok: BoolArray | None = None,
    t_s: FloatArray | None = None,
) -> RestBias | None:
    """The bias over one still run, or None if too short or it moved. ``ok``: samples whose
    accelerometer is usable (the gyro of all is). ``t_s``: the samples' times, if some are
    missing (without them, consecutive at ``rate_hz``); each stretch between missing samples
    gets its own reference tilt, as the rotation across the gap is unknown."""
    n, dt = len(gyr_radps), 1.0 / rate_hz
    if n == 0:
        return None
    ok = np.ones(n, dtype=bool) if ok is None else np.asarray(ok, dtype=bool)
    t = np.arange(n) * dt if t_s is None else np.asarray(t_s, dtype=np.float64) - t_s[0]
    if t[-1] + dt < MIN_RUN_S or ok.sum() * dt < MIN_RUN_S / 2:
        return None
    gyr = np.asarray(gyr_radps, dtype=np.float64)
    mean = gyr.mean(axis=0)
    piece = np.cumsum(np.concatenate([[0], np.diff(t) > 1.5 * dt]))
    starts = np.flatnonzero(np.diff(np.concatenate([[-1], piece])) != 0)
    # the gyro's rotation less the plain mean (a gap adds a constant: the piece's own tilt)
    turned = np.cumsum(gyr - mean, axis=0) * dt
    spin_up = np.zeros_like(gyr)
    k = max(1, round(SPIN_UP_WINDOW_S * rate_hz))
    for a, b in zip(starts, [*starts[1:], n], strict=True):  # a few stretches per run
        if b - a > 1:
            smooth = uniform_filter1d(gyr[a:b], k, axis=0, mode="nearest")
            spin_up[a:b] = np.gradient(smooth, dt, axis=0)
    a_g = np.asarray(acc_mps2, dtype=np.float64) / STANDARD_GRAVITY_MPS2
    ref = a_g[ok].mean(axis=0)
    # a/g = c_piece + c x (turned - (bias - mean) t) + (alpha x r)/g: linear in the pieces'
    # c, the slope s = (bias - mean) x c and r.
    y = (a_g - np.cross(ref, turned))[ok]
    labels = np.unique(piece[ok], return_inverse=True)[1]
    n_ok, n_pieces = int(ok.sum()), int(labels.max()) + 1
    design = np.zeros((n_ok, 3, 3 * n_pieces + 6))
    eye = np.eye(3)
    for j in range(3):
        design[np.arange(n_ok), j, 3 * labels + j] = 1.0
    design[:, :, 3 * n_pieces : 3 * n_pieces + 3] = (t[ok] - t[ok].mean())[:, None, None] * eye
    design[:, :, 3 * n_pieces + 3 :] = skew(spin_up[ok]) / STANDARD_GRAVITY_MPS2
    sol = np.linalg.lstsq(design.reshape(-1, design.shape[2]), y.reshape(-1), rcond=None)[0]
    up = ref / np.linalg.norm(ref)
    bias = mean + np.cross(up, sol[3 * n_pieces : 3 * n_pieces + 3])
    wander = turned - np.outer(t, bias - mean)  # what the body turned, bias removed
    wander -= (wander[starts] - wander[starts[0]])[piece]  # gaps: each piece from its start
    turn_deg = float(np.degrees(np.linalg.norm(wander - wander[0], axis=1).max()))
    if turn_deg > MAX_TURN_DEG:
        return None
    duration_s = float(t[-1]) + dt
    return RestBias(
        (float(bias[0]), float(bias[1]), float(bias[2])),
        (float(up[0]), float(up[1]), float(up[2])),
        max(MIN_SIGMA_DPS, SIGMA_TILT_DPS_S / duration_s),
        SIGMA_VERTICAL_DPS[0] if turn_deg <= CALM_TURN_DEG else SIGMA_VERTICAL_DPS[1],
        duration_s,
    )


@dataclass(frozen=True)
class Handoff:
    """A still run's bias so far, due before sample ``at`` of the batch. Each hand-off of one
    ``run`` replaces the previous one (it covers the same samples and more)."""

    at: int
    run: int
    rest: RestBias


class RestBiasTracker:
    """Streaming: still runs (``RestDetector``) of the samples fed, each one's ``still_bias``
    handed on where the run is seen to end (``lag`` samples after its last one) and, while it
    lasts, at ``MIN_RUN_S`` into it and each time it doubled (a long rest, a still sensor: VQF's
    motion bias estimate drifts there, 0.03 deg/s in its first second); a rest longer than
    ``MAX_RUN_S`` continues as a new run. Any batch split gives the same hand-offs at the
    same samples."""

    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = float(rate_hz)
        self._min_n = max(1, round(MIN_RUN_S * rate_hz))
        self._max_n = max(self._min_n, round(MAX_RUN_S * rate_hz))
        self._run = 0  # runs started so far (each hand-off names its run)
        self.reset()

    def reset(self) -> None:
        """Forget the open run (the orientation restarts after a time jump)."""
        self._detector = RestDetector(self.rate_hz)
        self._rows = RowBuffer(7)  # gyro, accelerometer, ok: the open run (up to 30 s)
        self._start: int | None = None  # stream index of the open run's first sample
        self._next = 0  # stream index before which its next estimate is due
        self._last = 0  # stream index its last estimate reached

    def detects_like(self, detector: RestDetector) -> bool:
        """Whether ``detector`` flags the same rests as this tracker's own, on the same
        samples (then its flags can be handed to ``update``)."""
        mine = self._detector
        return (detector.min_run, detector.lag, detector.rate_hz) == (
            mine.min_run,
            mine.lag,
            mine.rate_hz,
        )

    def offset_changed(self, step_mps2: FloatArray) -> None:
        """The accelerometer offset removed grew by ``step_mps2``: the buffered samples become
        what they would have been (a step within a run would read as a tilt)."""
        self._rows.subtract(slice(3, 6), np.asarray(step_mps2, dtype=np.float64))

    def update(
        self, gyr: FloatArray, acc: FloatArray, ok: BoolArray, rest: BoolArray | None = None
    ) -> list[Handoff]:
        """The hand-offs due in this batch, in order. ``rest``: a default ``RestDetector``'s
        flags over these same samples, if the caller has them (not detected twice)."""
        n, lag = len(gyr), self._detector.lag
        if n == 0:
            return []
        first = self._rows.end
        self._rows.append(np.column_stack([gyr, acc, ok]).astype(np.float64, copy=False))
        if rest is None:
            rest = self._detector.confirmed(acc, gyr, ok)  # sample i confirms first + i - lag
        out: list[Handoff] = []
        edges = np.flatnonzero(np.diff(np.concatenate([[self._start is not None], rest])))
        for i in [*edges.tolist(), n]:  # a few run starts and ends per batch
            stop = first + i - lag  # rest confirmed up to here (exclusive)
            if self._start is not None:
                while self._next <= stop:  # due while the run lasts
                    out += self._estimate(self._next, self._next + lag - first)
                    self._last = self._next
                    if self._next - self._start >= self._max_n:  # a long rest: a new run
                        self._start, self._run = self._next, self._run + 1
                        self._next = self._start + self._min_n
                    else:
                        twice = self._start + 2 * (self._next - self._start)
                        self._next = min(twice, self._start + self._max_n)
                if i < n:  # the run ended
                    if stop - self._start >= self._min_n and stop != self._last:
                        out += self._estimate(stop, i)
                    self._start = None
            elif i < n:
                self._start, self._run = stop, self._run + 1
                self._next = stop + self._min_n
        self._rows.drop_before(self._start if self._start is not None else self._rows.end - lag)
        return out

    def _estimate(self, stop: int, at: int) -> list[Handoff]:
        """The open run's estimate over its samples before ``stop``, due before ``at``."""
        assert self._start is not None
        rows = self._rows.rows(self._start, stop)
        found = still_bias(rows[:, 0:3], rows[:, 3:6], self.rate_hz, rows[:, 6] > 0)
        return [] if found is None else [Handoff(max(0, at), self._run, found)]
