"""Accelerometer corrections before fusion: the lever arm; and when the sensor rests.

The sensor sits 15-25 cm from the hip: a swing adds w' x r + w x (w x r) to its reading.
``estimate_lever_arm`` fits r (hip joint centre -> sensor, sensor frame) by least squares
over the calibration swings, where a - g*up = [w']x r + [w]x^2 r, pulled towards where the
anatomy puts it (``lever_prior``). ``compensate`` removes the term before fusion, with a
causal (backward) derivative so live and one-shot agree.

``RestDetector`` and ``GyroTrend`` tell rests from motion, for the accelerometer's in-use
offset (``rest_offset``) and the gyro's rest bias (``rest_bias``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from hipsense.exercises import Leg
from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.signal.thigh_frame import leg_sign

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MIN_LEVER_M, MAX_LEVER_M = 0.03, 0.6


def skew(v: FloatArray) -> FloatArray:
    """[v]x (N, 3, 3): the cross-product matrices of the rows of ``v`` (N, 3), so that
    ``skew(v)[i] @ u == np.cross(v[i], u)``; filled in place (no stacking), +0 on the
    diagonal. Shared with the rest bias's fit (``rest_bias``)."""
    out = np.zeros((len(v), 3, 3))
    x, y, w = v[:, 0], v[:, 1], v[:, 2]
    out[:, 0, 1], out[:, 0, 2] = -w, y
    out[:, 1, 0], out[:, 1, 2] = w, -x
    out[:, 2, 0], out[:, 2, 1] = -y, x
    return out


def _rigid_map(gyr: FloatArray, spin_up: FloatArray) -> FloatArray:
    """K (N, 3, 3) with K r = w' x r + w x (w x r)."""
    w = skew(gyr)
    return np.asarray(skew(spin_up) + w @ w, dtype=np.float64)


ALONG_THIGH_M = 0.20
"""The sensor sits 15-25 cm below the hip joint centre, along the thigh..."""
UNDER_SKIN_M = 0.075
"""...and the thigh's axis 6-9 cm under the skin, along the skin's normal: the sensor's z
or -z (it lies flat on the skin, either face out), whichever points to the front or the
outer side of the thigh."""
PRIOR_WEIGHT = 30.0
"""The pull towards ``lever_prior``: per swing sample, (m/s^2)^2 of residual per m^2 off it.
On realistic calibration swings the fit alone missed the simulator's true lever arm by 8 cm
(median; 20 cm p90, up to 85 cm: slow swings give little signal next to accelerometer noise
and offset and soft-tissue wobble), the anatomical guess alone by 2.4 cm (up to 5 cm), both
together by 2.5 cm (up to 7 cm; seeds 1000-1029 and 2000-2059); on clean swings 2.1 cm
alone, 2.4 cm together (seeds 2000-2029). The swings cannot tell which way the sensor's z
points (the right way fitted better 71 times in 90): the guess takes it from the thigh's
axes, which the mounting calibration knows."""


def lever_prior(thigh_axes_in_sensor: FloatArray, leg: Leg) -> FloatArray:
    """Where the anatomy puts the sensor (m, sensor frame): down the thigh from the hip, then
    out from its axis along the skin's normal. ``thigh_axes_in_sensor``: the mounting's rows,
    the thigh's forward, left and up (towards the hip, at the neutral stance) axes."""
    forward, left, up = np.asarray(thigh_axes_in_sensor, dtype=np.float64)
    z = np.array([0.0, 0.0, 1.0])
    normal = z - (z @ up) * up  # the sensor's face normal, across the thigh
    size = float(np.linalg.norm(normal))
    if size < 0.5:  # standing on its edge: no guess of the side it sits on
        return np.asarray(-ALONG_THIGH_M * up, dtype=np.float64)
    outward = forward - leg_sign(leg) * left  # the front plus the outer side
    normal *= np.sign(normal @ outward) / size  # face out or face in, the skin is outward
    return np.asarray(-ALONG_THIGH_M * up + UNDER_SKIN_M * normal, dtype=np.float64)


def estimate_lever_arm(
    gyr_radps: FloatArray,
    acc_mps2: FloatArray,
    up_in_sensor: FloatArray,
    rate_hz: float,
    prior_m: FloatArray | None = None,
) -> FloatArray | None:
    """Least-squares lever arm (m, sensor frame) from swing samples, or None if implausible;
    with ``prior_m`` (``lever_prior``) pulled towards it by ``PRIOR_WEIGHT``."""
    if len(gyr_radps) < 10:
        return None
    spin_up = np.gradient(gyr_radps, axis=0) * rate_hz
    k = _rigid_map(gyr_radps, spin_up)
    # A constant accelerometer offset is fitted alongside, so it does not leak into r.
    design = np.concatenate([k, np.broadcast_to(np.eye(3), k.shape)], axis=2).reshape(-1, 6)
    rhs = (acc_mps2 - STANDARD_GRAVITY_MPS2 * up_in_sensor).reshape(-1)
    if prior_m is not None:  # ridge rows: sqrt(w n) (r - prior) = 0
        w = np.sqrt(PRIOR_WEIGHT * len(gyr_radps))
        design = np.vstack([design, np.hstack([w * np.eye(3), np.zeros((3, 3))])])
        rhs = np.concatenate([rhs, w * np.asarray(prior_m, dtype=np.float64)])
    r = np.linalg.lstsq(design, rhs, rcond=None)[0][:3]
    length = float(np.linalg.norm(r))
    return r if MIN_LEVER_M <= length <= MAX_LEVER_M else None


def compensate(
    acc_mps2: FloatArray,
    gyr_radps: FloatArray,
    prev_gyr_radps: FloatArray,
    lever_m: FloatArray,
    rate_hz: float,
    *,
    no_history: npt.NDArray[np.bool_] | None = None,
) -> FloatArray:
    """Accelerometer minus the rotation-induced acceleration at the sensor (causal).

    ``no_history`` marks samples right after a gap, whose rate change is unknown (taken as 0).
    """
    prev = np.vstack([prev_gyr_radps[None, :], gyr_radps[:-1]]) if len(gyr_radps) else gyr_radps
    spin_up = (gyr_radps - prev) * rate_hz
    if no_history is not None:
        spin_up[no_history] = 0.0
    induced = np.einsum("nij,j->ni", _rigid_map(gyr_radps, spin_up), lever_m)
    return np.asarray(acc_mps2 - induced, dtype=np.float64)


REST_RATE_RADPS = np.radians(12.0)
"""Slow enough that the thigh's own acceleration is negligible (w^2 r < 1 mg), fast enough
to pass an uncalibrated gyro's bias of a few deg/s."""
REST_NORM_DEV_MPS2 = 0.15
CONFIRM_S = 0.1
"""A sample counts as rest only once this much calm followed it (the offsets lag by as much)."""


def row_norms(v: FloatArray) -> FloatArray:
    """Row norms of (N, 3): ``np.linalg.norm(v, axis=1)``'s float operations, less overhead."""
    squared = v * v
    return np.asarray(np.sqrt(squared[:, 0] + squared[:, 1] + squared[:, 2]), dtype=np.float64)


def _ema(x: FloatArray, alpha: float, zi: FloatArray | None) -> tuple[FloatArray, FloatArray]:
    """Causal exponential average along axis 0, continued from ``zi`` (None: start at x[0])."""
    if zi is None:
        zi = (1 - alpha) * x[:1]
    y, zf = lfilter([alpha], [1.0, alpha - 1.0], x, axis=0, zi=zi)
    return np.asarray(y, dtype=np.float64), np.asarray(zf, dtype=np.float64)


class RestDetector:
    """Streaming rest detection: a slow gyro and a steady |a| for at least ``min_rest_s``
    before a sample and ``confirm_s`` after it (this leaves out the brief standstill at a
    swing's turning point, where the angular acceleration peaks, and a motion's first samples,
    which the averaged gyro still passes). Causal with carried state: any batch split gives
    the same flags. Shared by the accelerometer's offset (``rest_offset``) and the gyro's
    rest bias (``rest_bias``)."""

    def __init__(
        self, rate_hz: float, min_rest_s: float = 0.15, confirm_s: float = CONFIRM_S
    ) -> None:
        self.rate_hz = float(rate_hz)
        self.min_run = max(1, round(min_rest_s * rate_hz))
        self.lag = max(0, round(confirm_s * rate_hz))
        self._alpha_gyr = 1.0 - np.exp(-1.0 / (0.05 * rate_hz))  # gyro noise only
        self._alpha_norm = 1.0 - np.exp(-1.0 / (0.1 * rate_hz))
        self._gyr_zi: FloatArray | None = None
        self._norm_zi: FloatArray | None = None
        self._run = 0

    def confirmed(self, acc: FloatArray, gyr: FloatArray, ok: npt.NDArray[np.bool_]) -> BoolArray:
        """Per sample i: whether sample i - ``lag`` is at rest (calm ``min_run`` samples up to
        it and ``lag`` samples after it)."""
        if ok.all():  # nothing to blank out
            norm = row_norms(acc)
        else:
            gyr = np.where(ok[:, None], gyr, 0.0)
            norm = np.where(ok, row_norms(np.where(ok[:, None], acc, 0.0)), 0.0)
        gyr_avg, self._gyr_zi = _ema(gyr, self._alpha_gyr, self._gyr_zi)
        norm_avg, self._norm_zi = _ema(norm, self._alpha_norm, self._norm_zi)
        calm = (
            ok
            & (row_norms(gyr_avg) < REST_RATE_RADPS)
            & (np.abs(norm - norm_avg) < REST_NORM_DEV_MPS2)
        )
        idx = np.arange(len(calm))
        last_bad = np.maximum.accumulate(np.where(~calm, idx, -1))
        run = np.where(last_bad >= 0, idx - last_bad, idx + 1 + self._run)
        self._run = int(run[-1])
        # Confirmed ``lag`` samples later: calm before *and* after (a motion's onset passes
        # the averaged gyro, its |a| is not g).
        return np.asarray(run >= self.min_run + self.lag)


class GyroTrend:
    """The gyro's least-squares rate of change (rad/s^2, norm over the axes) over the ``n``
    rows ending at a sample, the rows before the batch carried (the same sums for any batch
    split); NaN where the window holds an unusable row or not enough rows yet."""

    def __init__(self, n: int, rate_hz: float) -> None:
        self.n = max(2, n)
        k = np.arange(self.n) - (self.n - 1) / 2
        self._weights = k / float(np.sum(k * k)) * rate_hz
        self._window = np.full((self.n - 1, 3), np.nan)

    def update(
        self, gyr: FloatArray, ok: npt.NDArray[np.bool_], at: npt.NDArray[np.intp] | None = None
    ) -> FloatArray:
        """The trend at each of the batch's samples, or only at the indices ``at``."""
        rows = np.vstack([self._window, np.where(ok[:, None], gyr, np.nan)])
        self._window = rows[len(rows) - (self.n - 1) :]
        windows = np.lib.stride_tricks.sliding_window_view(rows, self.n, axis=0)  # (N, 3, n)
        if at is not None:
            windows = windows[at]
        return np.asarray(np.linalg.norm(windows @ self._weights, axis=1), dtype=np.float64)


REST_TREND_RADPS2 = np.radians(8.0)
"""A rest whose gyro changes faster than this over its calm run is a swing's slow turning
point, not a rest: its tangential acceleration (1.3 rad/s^2 x 0.4 m, read as 24 mg off g at
27 deg of flexion) taught a clean sensor an offset of 6 mg across the thigh, which tilted
its fusion 0.35-0.39 deg (seeds 14001, 14008 of the benchmark's sampling). Still phases
change by 0-4 deg/s^2 (clean) and 3-12 (with sway and wobble, 99th percentile)."""
