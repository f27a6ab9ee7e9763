"""Run the orientation over gap-filled samples, restarting it where a gap cannot be bridged.

A gap is bridged with interpolated gyro (``gap_fill``). A short gap can still hide a whole
knee drive whose edges look calm, so the first sample after every gap is checked: if its
accelerometer is trustworthy (|a| close to g, slow rotation) and disagrees with the
propagated up direction, the inclination is snapped to it (heading and gyro bias kept) and
that sample is invalid.
The loop runs once per gap, never per sample.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.signal.gap_fill import Expanded
from hipsense.signal.orientation import OrientationEstimator, up_in_sensor

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

REST_RATE_RADPS = np.radians(5.0)
REST_NORM_ALPHA = 0.02
TRUSTED_SPIN_UP_RADPS2 = 3.0
MAX_GAP_MISMATCH_DEG = 8.0
STRICT_MISMATCH_DEG = 2.0
QUICK_TAU_ACC_S = 0.5
"""While samples are hidden after an untrusted bridge, the accelerometer pulls the
inclination back this fast (x4 the usual), so a wrong bridge is gone when they show again."""
TRUSTED_ACC_DEV_MPS2 = 0.4
TRUSTED_RATE_RADPS = np.radians(30.0)


def probation(trigger: BoolArray, carried: int, n: int) -> tuple[BoolArray, int]:
    """The ``n`` samples from each trigger on (``carried`` left from the previous batch)."""
    idx = np.arange(len(trigger))
    last = np.maximum.accumulate(np.where(trigger, idx, -(10**9))) if len(idx) else idx
    since = np.where(last >= 0, idx - last, idx + (n - carried))
    mask = since < n
    left = int(n - since[-1] - 1) if len(idx) and mask[-1] else 0
    return np.asarray(mask), max(left, 0)


class GapWatch:
    """After each gap, the first trusted sample (within ``max_wait_s``) decides on re-anchoring.

    Samples after a gap during fast motion stay invalid until that decision.
    """

    def __init__(self, rate_hz: float, max_wait_s: float = 2.0, calm_s: float = 0.1) -> None:
        self.rate_hz = float(rate_hz)
        self._max_wait = max(1, round(max_wait_s * rate_hz))
        self._calm_n = max(1, round(calm_s * rate_hz))
        self._left, self._kind, self._run = 0, 0, 0
        self._last_gyr = np.zeros(3)
        # |a| at rest, learnt: an uncalibrated accelerometer can read 1 m/s^2 off g.
        self._rest_norm_zi = np.array([(1 - REST_NORM_ALPHA) * STANDARD_GRAVITY_MPS2])

    def trusted(self, acc: FloatArray, gyr: FloatArray, ok: BoolArray) -> BoolArray:
        """Samples whose accelerometer reads gravity alone: slow, not (de)celerating, and
        with the length the sensor reads at rest."""
        acc, gyr = np.where(ok[:, None], acc, 0.0), np.where(ok[:, None], gyr, 0.0)
        prev = np.vstack([self._last_gyr[None, :], gyr[:-1]]) if len(gyr) else gyr
        if len(gyr):
            self._last_gyr = gyr[-1]
        rate = np.linalg.norm(gyr, axis=1)
        spin_up = np.linalg.norm(gyr - prev, axis=1) * self.rate_hz
        norm = np.linalg.norm(acc, axis=1)
        rest = ok & (rate < REST_RATE_RADPS)
        ref = np.full(len(norm), np.nan)
        before = float(self._rest_norm_zi[0] / (1 - REST_NORM_ALPHA))  # EMA so far
        if rest.any():
            ema, self._rest_norm_zi = lfilter(
                [REST_NORM_ALPHA], [1.0, REST_NORM_ALPHA - 1.0], norm[rest], zi=self._rest_norm_zi
            )
            ref[rest] = ema
        ref = _ffill(ref, before)
        steady = np.abs(norm - ref) < TRUSTED_ACC_DEV_MPS2
        calm_motion = (rate < TRUSTED_RATE_RADPS) & (spin_up < TRUSTED_SPIN_UP_RADPS2)
        return np.asarray(ok & steady & calm_motion)

    def _calm(self, trust: BoolArray, gap: BoolArray) -> BoolArray:
        """Trusted samples that end ``calm_n`` trusted ones in a row (no jolt just before),
        counted from the last gap: the leg may have started to move in it."""
        idx = np.arange(len(trust))
        breaks = np.maximum(np.where(~trust, idx, -2), np.where(gap, idx - 1, -2))
        last_bad = np.maximum.accumulate(breaks) if len(idx) else idx
        run = np.where(last_bad >= -1, idx - last_bad, idx + 1 + self._run)  # -2: no break
        if len(idx):
            self._run = int(run[-1])
        return np.asarray(run >= self._calm_n)

    def plan(
        self, gap: BoolArray, kind: IntArray, acc: FloatArray, gyr: FloatArray, ok: BoolArray
    ) -> tuple[BoolArray, BoolArray, BoolArray, BoolArray]:
        """(check here, check strictly, hidden, quick) per sample of the batch.

        ``kind`` per gap: 0 a trusted bridge, 1 untrusted (re-anchor quickly until checked,
        angles stay valid), 2 blind (the same, angles hidden until then).
        """
        n, trust = len(gap), self._calm(self.trusted(acc, gyr, ok), gap)
        check, strict, hidden, quick = (np.zeros(n, dtype=bool) for _ in range(4))
        starts = [(0, self._left, self._kind)] if self._left > 0 else []
        starts += [(int(i), self._max_wait, int(kind[i])) for i in np.flatnonzero(gap)]
        self._left, self._kind = 0, 0
        for k, (a, wait, what) in enumerate(starts):
            stop = min(starts[k + 1][0] if k + 1 < len(starts) else n, a + wait)
            found = np.flatnonzero(trust[a:stop])
            end = a + int(found[0]) + 1 if found.size else stop
            hidden[a:end], quick[a:end] = what == 2, what > 0
            if found.size:
                check[end - 1], strict[end - 1] = True, what > 0
            elif stop == n and a + wait > n:
                self._left, self._kind = a + wait - n, what
        return check, strict, hidden, quick


def _mismatch(quat: FloatArray, acc: FloatArray, limit_deg: float) -> bool:
    cos = float(up_in_sensor(quat[None, :])[0] @ acc) / float(np.linalg.norm(acc))
    return bool(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))) > limit_deg)


def _ffill(values: FloatArray, first: float) -> FloatArray:
    """Forward-fill NaNs, starting from ``first``."""
    idx = np.where(np.isfinite(values), np.arange(len(values)), -1)
    idx = np.maximum.accumulate(idx) if len(idx) else idx
    return np.asarray(np.where(idx >= 0, values[np.maximum(idx, 0)], first), dtype=np.float64)


def propagate(
    estimator: OrientationEstimator,
    x: Expanded,
    reset_before: BoolArray,
    check: BoolArray,
    strict: BoolArray,
    *,
    quick: BoolArray | None = None,
) -> tuple[FloatArray, BoolArray]:
    """Quaternions at the real samples, and which real samples a failed bridge invalidates.

    ``reset_before`` / ``check`` are per real sample (gap too long / just after a gap);
    ``strict`` checks (after a gap during fast motion) re-anchor on a smaller mismatch;
    ``quick`` samples (hidden after such a gap) fuse with a short accelerometer time constant.
    """
    rows = x.real_index
    n_rows = len(x.gyr_radps)
    quick_x = np.zeros(n_rows, dtype=bool)
    if quick is not None and n_rows:
        quick_x = np.asarray(quick, dtype=bool)[np.searchsorted(rows, np.arange(n_rows))]
    switches = set((np.flatnonzero(np.diff(quick_x)) + 1).tolist())
    resets = set(rows[np.flatnonzero(reset_before)].tolist())
    checks = set((rows[np.flatnonzero(check)] + 1).tolist()) - resets
    limits = np.full(len(x.gyr_radps), MAX_GAP_MISMATCH_DEG)
    limits[rows[strict]] = STRICT_MISMATCH_DEG
    cuts = sorted((resets | checks | switches) - {0, len(x.gyr_radps)})
    parts: list[FloatArray] = []
    failed: list[int] = []
    end = len(x.gyr_radps)

    def anchor(row: int) -> None:  # check the sample just processed, re-anchor if off
        ok = parts and x.acc_ok[row]
        if ok and _mismatch(parts[-1][-1], x.acc_mps2[row], limits[row]):
            estimator.realign(x.acc_mps2[row])
            failed.append(row)

    for a, b in itertools.pairwise([0, *cuts, end]):
        if a in resets:
            estimator.reset()
        elif a in checks:
            anchor(a - 1)
        if a == 0 or a in switches:
            estimator.set_quick(QUICK_TAU_ACC_S if quick_x[a] else None)
        parts.append(estimator.update(x.gyr_radps[a:b], x.acc_mps2[a:b], x.acc_ok[a:b]))
    if end in checks:  # the last check falls on the batch's last sample
        anchor(end - 1)
    quat_x = np.concatenate(parts) if parts else np.empty((0, 4))
    bad_rows = np.zeros(len(quat_x), dtype=bool)
    bad_rows[failed] = True
    return quat_x[rows], bad_rows[rows]
