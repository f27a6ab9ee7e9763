"""The accelerometer's offset seen between two rests, where the leg's velocity is zero.

At rest |a| = g + b.up measures an offset b only along the directions the leg rested in:
standing, the thigh's up. A knee drive tilts the thigh forward, where an offset along the
standing forward tilts the angle, and no rest ever sees that. Between one rest and the next
the sensor's velocity starts and ends at zero, so its acceleration integrates to zero in
every world direction; along the vertical that is mean(up_S . a) - g = mean(up_S) . b, with
up_S the up direction in the sensor frame. A drive's window averages the directions the
thigh passed through, forward of the standing up: with the rests, b in the sagittal plane.

up_S is carried through the window by the gyro from the first rest's accelerometer, less
the bias the latest still run found without the body's sway (``rest_bias``): the plain mean
over the swaying rest before a set was 3 deg/s off (seed 33188), carried up_S 15 deg off in
its 4.8 s, and the mismatch check skipped the set's window. A constant tilt error in up_S
(the offset's own, at that rest) multiplies the world acceleration, whose integral is zero:
it enters only squared (0.5 mg for 3 deg). A drift from the gyro's bias enters with the
window's net displacement, none for a leg that comes back to where it stood.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation

from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.signal.rest_bias import Handoff
from hipsense.signal.row_buffer import RowBuffer

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MIN_WINDOW_S = 0.3
"""Shorter motions between rests are sway and fidgets: they see no new direction..."""
MIN_PIECE_S = 0.3
"""...and shorter pieces of a window cut by lost samples weigh the edge's velocity too much."""
MAX_WINDOW_S = 12.0
"""Longer windows (and pieces) are skipped: the gyro carries up_S with a drift that grows
with time. (8 s left out calibration swings of 8-12 s: realistic knee drives, block 33000,
0.7305 deg against 0.7232; 16 s gave the same as 12.)"""
MAX_SPAN_S = 30.0
"""A window cut by lost samples may be longer (only its first and last pieces count), up to
this long: the samples kept for it stay bounded."""
BIAS_S = 1.0
"""The gyro's bias for a window before any still run's is known: its mean over the rest
before it, at most this long."""
MAX_MISMATCH_DEG = 10.0
"""The gyro's up at the window's end against the accelerometer's there: further apart, the
window is skipped."""


def _prefix_products(m: FloatArray) -> FloatArray:
    """m[0] @ m[1] @ ... @ m[k] for every k: log2(N) batched products (Hillis-Steele)."""
    out = m.copy()
    step = 1
    while step < len(out):
        out[step:] = out[:-step] @ out[step:]  # the right side is read before the write
        step *= 2
    return out


def carried_up(rates_radps: FloatArray, up0: FloatArray, rate_hz: float) -> FloatArray:
    """up_S at each of N+1 samples (N+1, 3), from ``up0`` at the first, carried by the gyro's
    ``rates_radps`` (N, 3): the rate of each step into the next sample."""
    steps = Rotation.from_rotvec(rates_radps / rate_hz).as_matrix().reshape(-1, 3, 3)
    turned = np.concatenate([np.eye(3)[None], _prefix_products(steps)])
    return np.asarray(np.einsum("kji,j->ki", turned, up0))  # the frame at k, from the first


def _unit(v: FloatArray) -> FloatArray:
    return np.asarray(v / np.linalg.norm(v), dtype=np.float64)


def _equation(up: FloatArray, acc: FloatArray, rate_hz: float, dv_up_mps: float) -> FloatArray:
    """The terms (12) of one piece: trapezoid means over its time T of up_S and of
    up_S . a - g, less the vertical velocity it gained over T, weighted by its samples."""
    w = np.ones(len(up))
    w[[0, -1]] = 0.5
    duration = float(w.sum())  # in samples
    u = (w[:, None] * up).sum(axis=0) / duration
    y = float((w * np.einsum("ki,ki->k", up, acc)).sum() / duration) - STANDARD_GRAVITY_MPS2
    y -= dv_up_mps * rate_hz / duration
    n = float(len(up))
    return np.concatenate([n * np.outer(u, u).reshape(9), n * y * u])


@dataclass(frozen=True, eq=False)
class Window:
    """One window's raw samples: from the last rest sample before a motion to the first one
    after it."""

    gyr_radps: FloatArray
    acc_mps2: FloatArray
    lost_before: BoolArray
    """Per sample: samples were lost just before it."""
    bias_radps: FloatArray
    """The gyro's bias: the latest still run's (``rest_bias``), else the gyro's mean over
    the rest before the window."""

    def terms(
        self, offset_mps2: FloatArray, lever_m: FloatArray | None, rate_hz: float
    ) -> FloatArray:
        """The window's terms (12; zeros if it teaches nothing). ``offset_mps2``: the offset
        known so far, for the up at the rests; ``lever_m``: hip -> sensor (sensor frame),
        for the velocity at the edges of lost samples (None: windows with losses skipped)."""
        gyr, acc = self.gyr_radps - self.bias_radps, self.acc_mps2
        first, last = _unit(acc[0] - offset_mps2), _unit(acc[-1] - offset_mps2)
        cuts = np.flatnonzero(self.lost_before[1:]) + 1
        short, long_ = round(MIN_PIECE_S * rate_hz), round(MAX_WINDOW_S * rate_hz)
        if not len(cuts):
            if not short <= len(gyr) <= long_:
                return np.zeros(12)
            up = carried_up(gyr[1:], first, rate_hz)
            if np.degrees(np.arccos(np.clip(up[-1] @ last, -1.0, 1.0))) > MAX_MISMATCH_DEG:
                return np.zeros(12)
            return _equation(up, acc, rate_hz, 0.0)
        out = np.zeros(12)
        if lever_m is None:
            return out
        head, tail = slice(0, cuts[0]), slice(cuts[-1], len(gyr))
        if short <= cuts[0] <= long_:  # from the rest to the first loss: moving at its end
            up = carried_up(gyr[head][1:], first, rate_hz)
            out += _equation(
                up, acc[head], rate_hz, float(up[-1] @ np.cross(gyr[cuts[0] - 1], lever_m))
            )
        if short <= len(gyr) - cuts[-1] <= long_:  # from the last loss to the rest, backwards
            up = carried_up(-gyr[tail][:0:-1], last, rate_hz)[::-1]
            out += _equation(
                up, acc[tail], rate_hz, -float(up[0] @ np.cross(gyr[cuts[-1]], lever_m))
            )
        return out


class RestWindows:
    """Streaming: the windows between rest runs (the rest flags of ``RestOffset``, ``lag``
    samples late), each handed on at the row that confirms its last sample. Windows with an
    unusable sample are skipped. Causal on the raw samples: any batch split gives the same
    windows at the same rows."""

    def __init__(self, rate_hz: float, lag: int) -> None:
        self.rate_hz, self.lag = float(rate_hz), lag
        self._min_n = max(2, round(MIN_WINDOW_S * rate_hz))
        self._max_n = max(self._min_n, round(MAX_SPAN_S * rate_hz))
        self._bias_n = max(1, round(BIAS_S * rate_hz))
        self._rows = RowBuffer(8)  # gyro, accelerometer, ok, lost before
        self._was_rest = False
        self._last_rest: int | None = None  # stream index of the latest rest sample
        self._run_start = 0  # stream index of the latest rest run's first sample
        self._bias: FloatArray | None = None  # the latest still run's, once one is known

    def closed(
        self,
        acc: FloatArray,
        gyr: FloatArray,
        ok: BoolArray,
        lost: BoolArray,
        rest: BoolArray,
        *,
        biases: Sequence[Handoff] = (),
    ) -> list[tuple[int, Window]]:
        """(row, window) for each window a row of this batch closes. ``rest`` per row:
        whether the sample ``lag`` rows earlier is at rest; ``biases``: the still runs' gyro
        biases due in this batch (``RestBiasTracker``), in order."""
        n, first = len(acc), self._rows.end
        if n == 0:
            return []
        self._rows.append(np.column_stack([gyr, acc, ok, lost]).astype(np.float64, copy=False))
        out = []
        prev = np.concatenate([[self._was_rest], rest[:-1]])
        for i in np.flatnonzero(rest != prev).tolist():  # a few run starts and ends
            j = first + i - self.lag  # the sample it determines
            if not rest[i]:
                self._last_rest = j - 1
                continue
            bias = self._bias_at(biases, i)
            found = None if self._last_rest is None else self._window(self._last_rest, j, bias)
            out += [] if found is None else [(i, found)]
            self._run_start = j
        self._bias = self._bias_at(biases, n)
        self._was_rest = bool(rest[-1])
        if self._was_rest:
            self._last_rest = first + n - 1 - self.lag
        self._trim()
        return out

    def _bias_at(self, biases: Sequence[Handoff], row: int) -> FloatArray | None:
        """The latest still run's bias known at this row of the batch."""
        due = bisect.bisect_right([h.at for h in biases], row)
        return self._bias if due == 0 else np.asarray(biases[due - 1].rest.bias_radps)

    def _window(self, start: int, stop: int, bias: FloatArray | None) -> Window | None:
        """The window from rest sample ``start`` to ``stop``, if one; ``bias``: the gyro's
        (None: its mean over the rest before the window)."""
        if not self._min_n <= stop - start <= self._max_n or start < self._rows.start:
            return None
        window = self._rows.rows(start, stop + 1)
        if not window[:, 6].all():
            return None
        if bias is None:
            since = max(self._run_start, start + 1 - self._bias_n, self._rows.start)
            bias = self._rows.rows(since, start + 1)[:, 0:3].mean(axis=0)
        return Window(window[:, 0:3], window[:, 3:6], window[:, 7] > 0, bias)

    def _trim(self) -> None:
        """Keep the rows a window may still need: from the rest before the latest rest sample
        while a window can still close on it, else the latest undetermined ones."""
        undetermined = self._rows.end - self.lag
        keep = undetermined - self._bias_n
        if self._last_rest is not None and undetermined - self._last_rest <= self._max_n:
            keep = min(keep, self._last_rest + 1 - self._bias_n)
        self._rows.drop_before(keep)
