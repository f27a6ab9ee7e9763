"""The straight leg raise test's down leg: did it move while the other leg went up?

A tester watches the leg on the floor: its knee lifting or bending, or the leg rolling
outward. When it moves, the tester stops and measures the raised leg there. With a second
sensor on the down thigh this module does the same from that sensor alone.

It needs no mounting calibration of the down thigh's sensor (supine, that leg never raises,
so its own pipeline may never calibrate). Lying on the floor, the down thigh is horizontal:
lifting it turns it about a horizontal axis across the body, rolling it outward turns it
about its own (horizontal) long axis, so both tilt the sensor against gravity by the angle
the leg moved. The measure is that tilt: the angle between the gravity direction the sensor
reads now and the one it read at rest just before the raise, whatever its axes.

The gravity direction is the accelerometer's, averaged over ``SMOOTH_S``, not the fused
orientation: the down thigh is nearly still (a few degrees over a second or more), so its
linear acceleration is a tiny fraction of g, while the fused orientation would carry the
gyroscope's bias drift and the fusion's start-up state into a check of a few degrees. The
average is centred, so a steady tilt is not delayed and the moment the threshold is passed
is where it happened (the data after the peak is there when a rep is confirmed).

An accelerometer bias along gravity (up to 0.1 g on cheap sensors) shrinks every tilt by
``g / |g + b|`` to first order; across gravity it changes tilts only to second order. The
reading's magnitude at rest measures exactly that first-order part, so tilts are scaled by
``|reading at rest| / g`` (a six-face calibration, when the sensor has one, removes the bias
before this and leaves the scale at 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hipsense.masks import runs
from hipsense.samples import STANDARD_GRAVITY_MPS2

FloatArray = npt.NDArray[np.float64]

# A correct down thigh follows the pelvis a little: about 3 % of the raised leg's angle, so
# 2.4-2.7° for an 80-90° raise, plus a few tenths of a degree of noise and breathing. A knee
# lifting a few cm off the floor is about 5° of thigh, which a tester sees. 4° sits 1.3° above
# the largest pelvis follow and 1° below what a tester calls a lift.
TILT_THRESHOLD_DEG = 4.0
SMOOTH_S = 0.2  # averages out sensor noise and soft-tissue wobble (10-16 Hz)
REST_S = 0.5  # the rest direction: the down thigh's mean over this long before the raise
MIN_REST_SAMPLES = 3
SUSTAIN_S = 0.3  # a move stays past the threshold this long (a jolt, spread by SMOOTH_S, less)
MAX_GAP_S = 0.3  # a longer hole in the down thigh's data around the raise: not watched
MIN_NORM_MPS2 = 0.3 * STANDARD_GRAVITY_MPS2  # a smaller mean reading has no direction
MAX_BIAS_SCALE = 0.2  # a rest reading further than 20 % from g is no bias: not corrected


@dataclass(frozen=True)
class DownLegCheck:
    """The down thigh during one raise of the other leg (``start_s`` to the peak).

    ``tilt_deg``: its largest tilt from rest then. ``moved_at_s``: when it first passed the
    threshold, and ``raised_at_move_deg`` the raised leg's angle at that moment (None if the
    raised leg's angles do not cover it)."""

    moved: bool
    moved_at_s: float | None
    tilt_deg: float
    raised_at_move_deg: float | None


def check_down_leg(
    down_t_s: npt.ArrayLike,
    down_acc_mps2: npt.ArrayLike,
    raised_t_s: npt.ArrayLike,
    raised_deg: npt.ArrayLike,
    *,
    start_s: float,
    peak_s: float,
    threshold_deg: float = TILT_THRESHOLD_DEG,
) -> DownLegCheck | None:
    """Check one raise. None when the down thigh's data does not cover the rest before it
    and the raise itself (a disconnected sensor, gaps, garbage): not watched."""
    t, acc = _clean(down_t_s, down_acc_mps2)
    if not (math.isfinite(start_s) and math.isfinite(peak_s)) or peak_s < start_s:
        return None
    if not _covers(t, start_s, peak_s):
        return None
    u, ok = _directions(t, acc)
    rest = ok & (t >= start_s - REST_S) & (t <= start_s)
    if np.count_nonzero(rest) < MIN_REST_SAMPLES:
        return None
    rest_u = u[rest].mean(axis=0)
    rest_u /= np.linalg.norm(rest_u)
    after = ok & (t >= start_s)
    t_a = t[after]
    tilt = _angle_deg(u[after], rest_u) * _bias_scale(acc[rest])
    during = t_a <= peak_s
    if not during.any():
        return None
    moved_s = _first_move_s(t_a, tilt, threshold_deg, peak_s)
    tilt_deg = float(tilt[during].max())
    if moved_s is None:
        return DownLegCheck(False, None, tilt_deg, None)
    return DownLegCheck(True, moved_s, tilt_deg, _at(raised_t_s, raised_deg, moved_s))


def _first_move_s(
    t: FloatArray, tilt: FloatArray, threshold_deg: float, peak_s: float
) -> float | None:
    """When the tilt first passed the threshold, by the peak, to stay past it for SUSTAIN_S
    (a jolt of the body as the other leg kicks up is no move of the down leg)."""
    for first, stop in runs(tilt >= threshold_deg):
        if t[first] > peak_s:
            return None
        if t[stop - 1] - t[first] >= SUSTAIN_S:
            return _crossing_s(t, tilt, first, threshold_deg)
    return None


def _clean(t_s: npt.ArrayLike, acc_mps2: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Finite samples in increasing time order (duplicates and reorders dropped)."""
    t = np.asarray(t_s, dtype=np.float64).ravel()
    acc = np.asarray(acc_mps2, dtype=np.float64).reshape(-1, 3)
    if t.size != len(acc):
        return np.empty(0), np.empty((0, 3))
    ok = np.isfinite(t) & np.isfinite(acc).all(axis=1)
    t, acc = t[ok], acc[ok]
    before = np.maximum.accumulate(np.concatenate(([-np.inf], t)))[:-1]
    later = t > before
    return t[later], acc[later]


def _covers(t: FloatArray, start_s: float, peak_s: float) -> bool:
    """Samples from before the rest window to the peak with no hole longer than MAX_GAP_S."""
    inside = t[(t >= start_s - REST_S) & (t <= peak_s)]
    if inside.size < 2:
        return False
    edges = np.concatenate(([start_s - REST_S], inside, [peak_s]))
    return bool(np.diff(edges).max() <= MAX_GAP_S)


def _directions(t: FloatArray, acc: FloatArray) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Unit gravity directions from a centred moving average over SMOOTH_S, and where the
    average is long enough to have one."""
    lo = np.searchsorted(t, t - SMOOTH_S / 2, side="left")
    hi = np.searchsorted(t, t + SMOOTH_S / 2, side="right")
    csum = np.concatenate((np.zeros((1, 3)), np.cumsum(acc, axis=0)))
    mean = (csum[hi] - csum[lo]) / (hi - lo)[:, None]
    norm = np.linalg.norm(mean, axis=1)
    ok = norm >= MIN_NORM_MPS2
    return mean / np.where(ok, norm, 1.0)[:, None], ok


def _bias_scale(rest_acc_mps2: FloatArray) -> float:
    """``|reading at rest| / g``: undoes the shrink of tilts by a bias along gravity."""
    scale = float(np.linalg.norm(rest_acc_mps2.mean(axis=0))) / STANDARD_GRAVITY_MPS2
    return scale if abs(scale - 1.0) <= MAX_BIAS_SCALE else 1.0


def _angle_deg(u: FloatArray, ref: FloatArray) -> FloatArray:
    """Angle between unit vectors (atan2 form: exact for the small angles this is about)."""
    cross = np.linalg.norm(np.cross(u, ref), axis=1)
    return np.asarray(np.degrees(np.arctan2(cross, u @ ref)), dtype=np.float64)


def _crossing_s(t: FloatArray, tilt: FloatArray, i: int, threshold_deg: float) -> float:
    """When ``tilt`` reached the threshold, between sample ``i`` and the one before it."""
    if i == 0:
        return float(t[0])
    t0, t1, y0, y1 = t[i - 1], t[i], tilt[i - 1], tilt[i]
    return float(t0 + (t1 - t0) * (threshold_deg - y0) / (y1 - y0))


def _at(t_s: npt.ArrayLike, deg: npt.ArrayLike, when_s: float) -> float | None:
    """``deg`` at ``when_s``, interpolated between its finite samples around it."""
    t = np.asarray(t_s, dtype=np.float64).ravel()
    y = np.asarray(deg, dtype=np.float64).ravel()
    if t.size != y.size:
        return None
    ok = np.isfinite(t) & np.isfinite(y)
    t, y = t[ok], y[ok]
    after = int(np.searchsorted(t, when_s, side="left"))
    if after >= t.size or (after == 0 and t[0] > when_s):
        return None
    if t[after] == when_s or after == 0:
        return float(y[after])
    if t[after] - t[after - 1] > MAX_GAP_S:
        return None
    return float(np.interp(when_s, t[after - 1 : after + 1], y[after - 1 : after + 1]))
