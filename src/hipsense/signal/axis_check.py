"""Do the gyroscope's axes match the accelerometer's? A check for imported recordings.

A logger that permutes or flips one sensor's axes makes every orientation silently wrong.
The gravity direction ``u`` seen by the accelerometer is fixed in the world, so in the
sensor frame it turns as ``du/dt = u × ω`` (= ``-ω × u``). In low-passed samples where the
acceleration is about 1 g and the sensor turns, each of the 48 signed axis permutations
``P`` of the gyroscope is scored by the RMS of ``du/dt - u × Pω`` over the RMS of
``du/dt``: about 0.02 for pure rotation, 0.15-0.5 for limb motion (its linear
acceleration tilts ``u``), above 1 for a wrong mapping. The 24 proper ones (rotations) can
be undone; the 24 improper ones ("mirrored": an odd number of flips) are reported, never
applied. All scores come from second moments, so 10 min at 100 Hz takes ~15 ms.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, sosfiltfilt

from hipsense.samples import STANDARD_GRAVITY_MPS2

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Matrix3 = tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]

IDENTITY: Matrix3 = ((1, 0, 0), (0, 1, 0), (0, 0, 1))


def _signed_permutations() -> npt.NDArray[np.int64]:
    """All 48 signed permutation matrices, the identity first."""
    mats = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            m = np.zeros((3, 3), dtype=np.int64)
            m[np.arange(3), perm] = signs
            mats.append(m)
    return np.stack(mats)


_CANDIDATES = _signed_permutations()
_PROPER = np.round(np.linalg.det(_CANDIDATES)).astype(np.int64) > 0


class AxisVerdict(StrEnum):
    CONSISTENT = "consistent"  # the gyroscope's axes fit as they are
    PERMUTED = "permuted"  # one rotation of the axes fits, unambiguously: apply it
    MIRRORED = "mirrored"  # only a mirrored mapping fits: cannot be undone, warn
    MISMATCH = "mismatch"  # the axes do not fit, and no single mapping clearly does: warn
    UNCLEAR = "unclear"  # too little usable motion to tell


@dataclass(frozen=True)
class AxisCheckParams:
    cutoff_hz: float = 2.0  # low-pass: keeps limb motion, drops tissue wobble and noise
    gravity_tol: float = 0.05  # quiet enough: | |a| - g | within this fraction of g
    min_rate_radps: float = 0.3  # meaningful ω, well above a few deg/s of gyro bias
    min_motion_rad: float = 1.5  # total travel of the gravity direction needed to judge
    max_residual: float = 0.5  # a fix must explain the gravity motion this well
    noisy_residual: float = 0.8  # if even the best fits worse, the motion is too disturbed
    min_ratio: float = 2.0  # a clear winner fits this many times better than the others
    consistent_ratio: float = 1.5  # identity this close to the best: nothing to fix
    same_rates: float = 0.3  # mappings this close in recorded rates (relative RMS) are alike


@dataclass(frozen=True)
class AxisCheck:
    """``matrix`` is the best mapping, ``gyro' = matrix @ gyro`` (rows: new x, y, z), among
    proper ones unless the verdict is ``MIRRORED``. Residuals are relative (see the module)."""

    verdict: AxisVerdict
    matrix: Matrix3
    residual: float
    identity_residual: float
    second_residual: float  # the best of the mappings giving other rates: ``ratio``
    motion_rad: float  # how far the gravity direction travelled in the usable samples
    usable_s: float

    @property
    def ratio(self) -> float:
        return self.second_residual / self.residual if self.residual > 0 else float("inf")

    @property
    def label(self) -> str:
        return axes_label(self.matrix)

    @property
    def message(self) -> str:
        """One line for the user."""
        if self.usable_s == 0.0:
            return "could not tell whether the gyroscope's axes match: no quiet turning to judge by"
        return _MESSAGES[self.verdict].format(
            label=self.label, fit=self.residual, ident=self.identity_residual, rad=self.motion_rad
        )


_CHECK = "check the logger's axis settings"
_MESSAGES = {
    AxisVerdict.CONSISTENT: "gyroscope axes match the accelerometer's (fit {fit:.2f})",
    AxisVerdict.PERMUTED: "gyroscope axes do not match the accelerometer's: using gyro = "
    "{label} (fit {fit:.2f} vs {ident:.2f}); " + _CHECK,
    AxisVerdict.MIRRORED: "gyroscope axes do not match the accelerometer's; only the mirrored "
    "gyro = {label} fits ({fit:.2f} vs {ident:.2f}), which cannot be undone: angles are "
    "unreliable; " + _CHECK,
    AxisVerdict.MISMATCH: "gyroscope does not agree with the accelerometer (fit {ident:.2f}) "
    "and no axis mapping clearly fixes it (best gyro = {label}, fit {fit:.2f}): angles are "
    "unreliable; " + _CHECK,
    AxisVerdict.UNCLEAR: "could not tell whether the gyroscope's axes match the "
    "accelerometer's (gravity turned {rad:.1f} rad in quiet samples; fit {ident:.2f} as "
    "recorded, {fit:.2f} for gyro = {label})",
}


def axes_label(matrix: Matrix3) -> str:
    """``(x, −z, y)``: which raw axis, with its sign, feeds each of the new x, y, z."""
    names = []
    for row in matrix:
        j = next(k for k, v in enumerate(row) if v)
        names.append(("−" if row[j] < 0 else "") + "xyz"[j])
    return "(" + ", ".join(names) + ")"


def apply_axes(gyr_radps: FloatArray, check: AxisCheck) -> FloatArray:
    """``gyr @ matrix.T`` (the gyroscope in the accelerometer's axes) if the verdict is
    ``PERMUTED``; otherwise ``gyr_radps`` itself (a mirrored mapping is never applied)."""
    if check.verdict is not AxisVerdict.PERMUTED:
        return gyr_radps
    return gyr_radps @ np.asarray(check.matrix, dtype=np.float64).T


def check_axes(
    t_s: FloatArray,
    acc_mps2: FloatArray,
    gyr_radps: FloatArray,
    rate_hz: float,
    params: AxisCheckParams = AxisCheckParams(),
) -> AxisCheck:
    """Score all 48 signed permutations of the gyroscope against the accelerometer."""
    u, d, w, dt = _usable(t_s, acc_mps2, gyr_radps, rate_hz, params)
    motion_rad = float(np.sum(np.linalg.norm(d, axis=1) * dt))
    if len(w) < 3:
        return _verdict(np.ones(len(_CANDIDATES)), np.eye(3), 0.0, 0.0, params)
    return _verdict(_residuals(u, d, w), w.T @ w, motion_rad, float(np.sum(dt)), params)


def _usable(
    t_s: FloatArray,
    acc_mps2: FloatArray,
    gyr_radps: FloatArray,
    rate_hz: float,
    p: AxisCheckParams,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Gravity direction, its rate, the gyroscope and the time step, at the usable samples."""
    span = int(np.ceil(2 * rate_hz / p.cutoff_hz))  # samples a filtered sample depends on
    if len(t_s) < 2 * span:
        empty = np.empty((0, 3))
        return empty, empty, empty, np.empty(0)
    sos = butter(2, min(p.cutoff_hz, 0.4 * rate_hz), fs=rate_hz, output="sos")
    bad: BoolArray = ~np.all(np.isfinite(np.hstack([acc_mps2, gyr_radps])), axis=1)
    acc = sosfiltfilt(sos, _fill(acc_mps2, bad), axis=0)
    gyr = sosfiltfilt(sos, _fill(gyr_radps, bad), axis=0)  # the same filter keeps both in step
    norm = np.linalg.norm(acc, axis=1)
    u = acc / np.maximum(norm, 1e-9)[:, None]
    d = np.gradient(u, t_s, axis=0)
    dt = np.gradient(t_s)
    keep = (
        (np.abs(norm - STANDARD_GRAVITY_MPS2) < p.gravity_tol * STANDARD_GRAVITY_MPS2)
        & (np.linalg.norm(gyr, axis=1) > p.min_rate_radps)
        & (dt < 1.5 / rate_hz)  # not next to a gap in the recording
    )
    if bad.any():  # nor near non-finite samples
        keep &= np.convolve(bad, np.ones(2 * span + 1), mode="same") == 0
    return u[keep], d[keep], gyr[keep], dt[keep]


def _fill(x: FloatArray, bad: BoolArray) -> FloatArray:
    """Non-finite samples interpolated over, only so that the filter does not spread them."""
    if not bad.any() or bad.all():
        return np.nan_to_num(x)
    i, good = np.arange(len(x)), np.flatnonzero(~bad)
    return np.stack([np.interp(i, good, x[good, k]) for k in range(3)], axis=1)


def _residuals(u: FloatArray, d: FloatArray, w: FloatArray) -> FloatArray:
    """Relative residual of each candidate, from moments (no per-candidate pass over samples).

    ``|d - u×Pw|² = |d|² - 2 (d×u)·Pw + |Pw|² - (u·Pw)²`` with ``|u| = 1`` and ``|Pw| = |w|``.
    """
    p = _CANDIDATES.reshape(-1, 9).astype(np.float64)
    cross = (np.cross(d, u).T @ w).reshape(9)  # Σ (d×u) wᵀ
    uw = (u[:, :, None] * w[:, None, :]).reshape(-1, 9)  # u·Pw = uw · vec(P)
    sum_d2 = float(np.sum(d * d))
    err = sum_d2 - 2 * p @ cross + np.sum(w * w) - np.einsum("ci,ij,cj->c", p, uw.T @ uw, p)
    rel: FloatArray = np.sqrt(np.maximum(err, 0.0) / max(sum_d2, 1e-12))
    return rel


def _verdict(
    residuals: FloatArray,
    rate_moments: FloatArray,
    motion_rad: float,
    usable_s: float,
    p: AxisCheckParams,
) -> AxisCheck:
    """Identity if it fits about as well as anything; else the best mapping if it fits and
    clearly beats every mapping that would change the recorded rates; else a mismatch if
    identity is clearly beaten.

    Motion about one main axis cannot tell mappings apart that only differ about the other
    axes: they fit alike but also give about the same rates, so choosing either is harmless.
    For the same reason a mirror is reported only if no proper mapping gives its rates.
    """
    ident = float(residuals[0])
    winner = int(np.argmin(residuals))
    best = float(residuals[winner])
    if motion_rad < p.min_motion_rad:
        verdict = AxisVerdict.UNCLEAR
    elif ident <= p.consistent_ratio * best:
        verdict = AxisVerdict.CONSISTENT if ident <= p.noisy_residual else AxisVerdict.UNCLEAR
        winner = 0
    else:
        alike_proper = ~_distinct(winner, rate_moments, p) & _PROPER
        if alike_proper.any():
            winner = int(np.argmin(np.where(alike_proper, residuals, np.inf)))
        fit = float(residuals[winner])
        if fit <= p.max_residual and _second(residuals, winner, rate_moments, p) >= (
            p.min_ratio * fit
        ):
            verdict = AxisVerdict.PERMUTED if _PROPER[winner] else AxisVerdict.MIRRORED
        elif ident >= p.min_ratio * best:
            verdict = AxisVerdict.MISMATCH
        else:
            verdict = AxisVerdict.UNCLEAR
    return AxisCheck(
        verdict=verdict,
        matrix=_as_matrix3(_CANDIDATES[winner]),
        residual=float(residuals[winner]),
        identity_residual=ident,
        second_residual=_second(residuals, winner, rate_moments, p),
        motion_rad=motion_rad,
        usable_s=usable_s,
    )


def _distinct(winner: int, rate_moments: FloatArray, p: AxisCheckParams) -> BoolArray:
    """Candidates that would move the recorded rates by more than ``same_rates`` (RMS
    |P'ω - Pω| over RMS |ω|) from the winner's: ``Σ|Dω|² = tr(D C Dᵀ)``, ``C = Σ ω ωᵀ``."""
    diff = (_CANDIDATES - _CANDIDATES[winner]).astype(np.float64)
    spread = np.einsum("cij,jk,cik->c", diff, rate_moments, diff)
    distinct: BoolArray = spread > p.same_rates**2 * max(float(np.trace(rate_moments)), 1e-12)
    return distinct


def _second(
    residuals: FloatArray, winner: int, rate_moments: FloatArray, p: AxisCheckParams
) -> float:
    """The best residual among the mappings that would really change the rates."""
    return float(np.min(residuals[_distinct(winner, rate_moments, p)]))


def _as_matrix3(m: npt.NDArray[np.int64]) -> Matrix3:
    r = [(int(row[0]), int(row[1]), int(row[2])) for row in m]
    return (r[0], r[1], r[2])
