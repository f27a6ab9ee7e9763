"""The accelerometer's offset while in use, learnt at rest and between rests.

``RestOffset`` estimates an uncalibrated accelerometer's offset b while in use: at rest
|a| = |g up + b| ~ g + b.up, so every rest pose measures b along its up direction. The
neutral posture's rest gives b along the neutral up, which is the part that tilts angles in
proportion to sin(angle); holds at other angles (an SLR's top) add their directions, and so
does each motion between two rests, where the velocity returns to zero (``between_rests``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.signal.between_rests import RestWindows, Window
from hipsense.signal.lever_arm import (
    CONFIRM_S,
    REST_TREND_RADPS2,
    GyroTrend,
    RestDetector,
    row_norms,
)
from hipsense.signal.rest_bias import RestBiasTracker
from hipsense.signal.row_buffer import RowBuffer

FloatArray = npt.NDArray[np.float64]

LOG_S = 10.0
"""Until the mounting is known, the sums after each of the latest rows this long are kept
(``offsets_at``): the calibration's closing still phase ended at most a batch ago."""
MAX_WAITING = 4
"""Windows closed before the mounting is known wait for it, the latest this many: the
calibration's swings and the still phases around them."""


class RestOffset:
    """Streaming least-squares offset from rest samples: (sum u u^T + ridge) b = sum u (|a|-g).

    Rest (``RestDetector``): a slow gyro and a steady |a| for at least ``min_rest_s`` before
    the sample and ``confirm_s`` after it (this leaves out the brief standstill at a swing's
    turning point, where the angular acceleration peaks, and a motion's first samples, which
    the averaged gyro still passes: they taught a clean sensor offsets of 0.05 m/s^2; an SLR's
    0.3-2 s hold at the top counts, and gives the offset along that direction too), whose
    gyro is steady over that run (``REST_TREND_RADPS2``: a slow turning point passes the
    rest, not the trend). u is the
    measured direction a/|a|, whose error (|b|/g) enters only squared. Once the mounting is
    known, each motion between two rests adds its own equation (``between_rests``), along its
    mean up: forward of the standing up for a knee drive, and of the calibration's swings
    (their window waits for the mounting, ``MAX_WAITING``). The gyro carries the up through a
    window less the bias of the latest still run (``RestBiasTracker``, without the body's
    sway). Directions never seen keep a zero offset (the ridge).
    Everything is causal with carried state, so any batch split gives identical offsets.
    """

    def __init__(
        self,
        rate_hz: float,
        min_rest_s: float = 0.15,
        ridge_s: float = 0.1,
        confirm_s: float = CONFIRM_S,
    ) -> None:
        self._detector = RestDetector(rate_hz, min_rest_s, confirm_s)
        self._lag = self._detector.lag
        self._trend = GyroTrend(self._detector.min_run + self._lag, rate_hz)
        self._pending = np.zeros((self._lag, 12))  # terms of samples not yet confirmed
        self._ridge = ridge_s * rate_hz * np.eye(3)
        self._sums = np.zeros(12)  # sum u u^T (9), sum u (|a| - g) (3)
        self._windows = RestWindows(rate_hz, self._lag)
        self._biases = RestBiasTracker(rate_hz)
        self._same_rests = self._biases.detects_like(self._detector)  # its rests: not twice
        self.mounted = False
        """Windows count once the mounting is known; those closed before wait for it
        (``MAX_WAITING``), each with the offset known as it closed."""
        self._waiting: list[tuple[Window, FloatArray]] = []
        self.lever_m: FloatArray | None = None
        """Hip -> sensor (sensor frame), once known: windows cut by lost samples count."""
        self.offset_mps2 = np.zeros(3)
        self._fed = 0  # rows fed so far
        self._log = RowBuffer(12)  # unmounted: the sums after each row, the latest ``LOG_S``
        self._log_n = round(LOG_S * rate_hz)
        self._late = np.zeros(12)  # the terms of the windows counted once the mounting was known

    def mounting_known(self, lever_m: tuple[float, float, float] | None) -> None:
        """From now on the windows between rests count (``mounted``); with the mounting's
        lever arm, those cut by lost samples too."""
        self.mounted = True
        self.lever_m = None if lever_m is None else np.asarray(lever_m, dtype=np.float64)
        rate_hz = self._windows.rate_hz
        for window, known in self._waiting:  # the calibration's swings: the first forward tilt
            self._late = self._late + window.terms(known, self.lever_m, rate_hz)
        if self._waiting:
            self._sums = self._sums + self._late
            self.offset_mps2 = self._solve(self._sums[None])[0]
        self._waiting = []

    def offsets_at(self, rows: npt.NDArray[np.int64]) -> FloatArray:
        """The offsets (N, 3) after these stream rows (counting every sample fed), as
        ``update`` gave them there, with the windows that waited for the mounting counted
        (``mounting_known``): for the samples fused again once the calibration is known, the
        same however the batches were cut. Rows of the latest ``LOG_S`` before the mounting
        was known; later ones, the offset now."""
        rows = np.asarray(rows, dtype=np.int64)
        log = self._log
        now = (rows >= self._fed - 1) | (rows < log.start) | (rows >= log.end)
        out = np.broadcast_to(self.offset_mps2, (len(rows), 3)).copy()
        if not now.all():
            kept = log.rows(log.start, log.end)[rows[~now] - log.start]
            out[~now] = self._solve(kept + self._late)
        return out

    def update(
        self,
        acc_mps2: FloatArray,
        gyr_radps: FloatArray,
        ok: npt.NDArray[np.bool_],
        lost: npt.NDArray[np.bool_] | None = None,
    ) -> FloatArray:
        """Offsets (N, 3) to subtract from each sample: the estimate from rest samples so far.
        ``lost``: samples after lost ones (or a time jump), which no window crosses."""
        n = len(acc_mps2)
        if n == 0:
            return np.zeros((0, 3))
        before = self._sums
        rows, sums = self._accumulate(acc_mps2, gyr_radps, ok, lost)
        self._fed += n
        held = np.searchsorted(rows, np.arange(n), side="right")  # solved rows up to each
        if not self.mounted:
            known = before[None] if sums is None else np.vstack([before[None], sums])
            self._log.append(known[held])
            self._log.drop_before(self._log.end - self._log_n)
        if sums is None:
            return np.broadcast_to(self.offset_mps2, (n, 3)).copy()
        solved = self._solve(sums)
        offsets = np.vstack([self.offset_mps2[None, :], solved])[held]
        self.offset_mps2 = offsets[-1]
        return np.asarray(offsets, dtype=np.float64)

    def learn(
        self,
        acc_mps2: FloatArray,
        gyr_radps: FloatArray,
        ok: npt.NDArray[np.bool_],
        lost: npt.NDArray[np.bool_] | None = None,
    ) -> FloatArray:
        """The offset after these samples, as ``update(...)[-1]`` gives it, solved once (a
        whole recording: thousands of rest samples, one 3x3 solve instead of one each)."""
        if len(acc_mps2):
            _, sums = self._accumulate(acc_mps2, gyr_radps, ok, lost)
            if sums is not None:
                self.offset_mps2 = self._solve(sums[-1:])[0]
        return self.offset_mps2.copy()

    def _solve(self, sums: FloatArray) -> FloatArray:
        info = sums[:, :9].reshape(-1, 3, 3) + self._ridge
        return np.asarray(np.linalg.solve(info, sums[:, 9:, None])[:, :, 0], dtype=np.float64)

    def _accumulate(
        self,
        acc_mps2: FloatArray,
        gyr_radps: FloatArray,
        ok: npt.NDArray[np.bool_],
        lost: npt.NDArray[np.bool_] | None,
    ) -> tuple[npt.NDArray[np.int64], FloatArray | None]:
        """Rows of this batch that confirmed a rest sample, and the running sums after each
        (None when none did)."""
        n = len(acc_mps2)
        confirmed = self._detector.confirmed(acc_mps2, gyr_radps, ok)  # sample i confirms i - lag
        rest = confirmed.copy() if self._same_rests else None
        at = np.flatnonzero(confirmed)
        with np.errstate(invalid="ignore"):  # NaN: the window is not all usable rows
            confirmed[at] = self._trend.update(gyr_radps, ok, at) < REST_TREND_RADPS2
        # Only confirmed samples change the sums: their terms are summed and solved, and
        # the offset is held in between (the same additions and solves as summing zeros for
        # the others, so the same bits).
        rows = np.flatnonzero(confirmed)
        lag = self._lag
        fresh = rows[rows >= lag] - lag  # confirmed samples of this batch
        tail = np.arange(max(0, n - lag), n)  # still to be confirmed by later samples
        wanted = np.concatenate((fresh, tail))
        terms = self._terms(acc_mps2[wanted], ok[wanted])
        carried = np.vstack([self._pending, terms[len(fresh) :]])
        picked = np.vstack([self._pending[rows[rows < lag]], terms[: len(fresh)]])
        lost = np.zeros(n, dtype=bool) if lost is None else lost
        biases = self._biases.update(gyr_radps, acc_mps2, ok, rest)
        closed = self._windows.closed(acc_mps2, gyr_radps, ok, lost, confirmed, biases=biases)
        for row, window in closed:  # closed by these rest samples
            k = int(np.searchsorted(rows, row))  # a rest sample's row: the sums so far
            known = self._solve((self._sums + picked[: k + 1].sum(axis=0))[None])[0]
            if self.mounted:
                picked[k] += window.terms(known, self.lever_m, self._windows.rate_hz)
            else:
                self._waiting = [*self._waiting, (window, known)][-MAX_WAITING:]
        self._pending = carried[len(carried) - lag :]
        if not rows.size:
            return rows, None
        sums = np.cumsum(np.vstack([self._sums, picked]), axis=0)[1:]
        self._sums = sums[-1]
        return rows, sums

    @staticmethod
    def _terms(acc: FloatArray, ok: npt.NDArray[np.bool_]) -> FloatArray:
        """Each sample's u u^T (9) and u (|a| - g) (3), u = a / |a|."""
        terms = np.zeros((len(acc), 12))
        a = np.where(ok[:, None], acc, np.nan)
        norm = row_norms(a)
        u = a / np.where(norm > 0, norm, np.nan)[:, None]  # only rest samples are used
        terms[:, :9] = (u[:, :, None] * u[:, None, :]).reshape(-1, 9)
        terms[:, 9:] = u * (norm - STANDARD_GRAVITY_MPS2)[:, None]
        return terms
