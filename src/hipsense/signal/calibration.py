"""Mounting calibration: the thigh frame's axes in the sensor frame, from a short routine.

Standing: hold still >= 2 s, swing the straight leg slowly forward and back 3 times, hold
still >= 2 s again. Supine: lie still >= 2 s, then raise the leg (the first raise is used).

The still phases give the up direction at the neutral posture (thigh z when standing,
thigh x when supine). The swing/raise gives the flexion axis as the dominant gyro axis
(PCA), orthogonalised against the neutral up. Signs: standing, the larger excursion is
flexion; supine, the raise (against gravity) is flexion. y then points to the person's left
(right-handed frame), which with ``thigh_frame.leg_sign`` makes abduction positive away
from the midline for either leg.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.signal import find_peaks

from hipsense.errors import CalibrationError
from hipsense.exercises import Leg, Posture
from hipsense.masks import runs
from hipsense.signal.lever_arm import estimate_lever_arm, lever_prior
from hipsense.signal.motion_phases import StillParams, dominant_axis, still_mask
from hipsense.signal.mounting import MountingCalibration
from hipsense.signal.orientation import up_in_sensor
from hipsense.signal.rest_bias import RestBias, still_bias
from hipsense.signal.thigh_frame import angles_from_up
from hipsense.words import counted

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
__all__ = [
    "CalibrationParams",
    "MountingCalibration",
    "calibrate_mounting",
    "calibration_still_mask",
    "count_swings",
    "seams",
    "span_s",
    "still_spans",
]


@dataclass(frozen=True)
class CalibrationParams:
    still: StillParams = field(default_factory=StillParams)
    min_still_s: float = 2.0
    min_swings: int = 3
    """Swings asked for; ``accepted_swings`` suffice for the fit (a lost packet may eat one)."""
    accepted_swings: int = 2
    swing_min_deg: float = 8.0
    max_off_plane_deg: float = 25.0
    max_axis_tilt_deg: float = 30.0
    min_raise_deg: float = 5.0
    clear_raise_deg: float = 15.0
    rest_return_deg: float = 8.0
    seam_margin_deg: float = 1.0
    """The accelerometer's direction may step this much more than the gyro turned between two
    samples; a larger step is a seam (samples lost or hidden in between), see ``seams``."""


def seams(
    gyr_radps: FloatArray,
    acc_mps2: FloatArray,
    rate_hz: float,
    margin_deg: float,
    t_s: FloatArray,
) -> BoolArray:
    """True where the leg moved between a sample and the previous one unseen: across a gap in
    ``t_s`` (samples lost, or hidden while the orientation re-anchored) the accelerometer's
    direction stepped further than the gyro could have turned it (1.5x its rate over one
    sample period, plus ``margin_deg``). The fused up is no witness: it also steps while the
    fusion settles or re-anchors, the leg at rest."""
    seam = np.zeros(len(acc_mps2), dtype=bool)
    if len(acc_mps2) < 2:
        return seam
    a = acc_mps2 / np.linalg.norm(acc_mps2, axis=1, keepdims=True)
    step_deg = np.degrees(np.arccos(np.clip(np.sum(a[1:] * a[:-1], axis=1), -1.0, 1.0)))
    turn_deg = np.degrees(np.linalg.norm(gyr_radps[1:], axis=1)) / rate_hz
    moved = ~(step_deg <= 1.5 * turn_deg + margin_deg)  # NaN counts as moved
    seam[1:] = moved & (np.diff(t_s) > 1.5 / rate_hz)
    return seam


def calibration_still_mask(
    gyr_radps: FloatArray,
    acc_mps2: FloatArray,
    rate_hz: float,
    p: CalibrationParams,
    t_s: FloatArray,
) -> BoolArray:
    """Still samples, a still run never spanning a seam (see ``seams``).

    The calibration sees only the samples that were fused and valid: a burst lost as a raise
    began, and the samples hidden until the orientation re-anchored, joined the rest before
    it to the hold at the top. Both read as still, and without the seam they formed one
    "still" phase whose mean up was 20 deg into the raise.
    """
    still = still_mask(gyr_radps, acc_mps2, rate_hz, p.still)
    return still & ~seams(gyr_radps, acc_mps2, rate_hz, p.seam_margin_deg, t_s)


def mask_reach(p: CalibrationParams, rate_hz: float) -> int:
    """Samples of context that make ``calibration_still_mask`` exact at a sample: it depends
    on samples at most 2.5 still windows (+1) away (its 4-window accelerometer mean, then a
    1-window maximum; a seam on the sample before), so three windows and two samples."""
    return 3 * max(1, round(p.still.window_s * rate_hz)) + 2


def still_spans(
    mask: BoolArray, t_s: FloatArray, rate_hz: float, min_s: float
) -> list[tuple[int, int]]:
    """Still runs [start, stop) lasting at least ``min_s`` in time (lost samples inside a run
    count: the leg did not move across them, see ``seams``)."""
    return [(a, b) for a, b in runs(mask) if span_s(t_s, a, b, rate_hz) >= min_s]


def span_s(t_s: FloatArray, start: int, stop: int, rate_hz: float) -> float:
    """Duration of samples [start, stop), each lasting one sample period (plus a microsecond,
    so that n samples at ``rate_hz`` last n / rate_hz despite rounding)."""
    return 0.0 if stop <= start else float(t_s[stop - 1] - t_s[start]) + 1.0 / rate_hz + 1e-6


def _unit(v: FloatArray) -> FloatArray:
    return v / np.linalg.norm(v)


def _angle_deg(a: FloatArray, b: FloatArray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b, -1.0, 1.0))))


def still_up(acc: FloatArray) -> FloatArray:
    """The mean direction of these (still) accelerometer readings: the sensor's up."""
    return _unit(np.nanmean(acc / np.linalg.norm(acc, axis=1, keepdims=True), axis=0))


def _no_raise(raise_deg: float) -> str:
    return (
        f"no leg raise seen (only {raise_deg:.0f} deg): after lying still, raise the straight leg"
    )


def _raise_span(
    acc: FloatArray,
    up_s: FloatArray,
    first: slice,
    later: list[tuple[int, int]],
    p: CalibrationParams,
) -> slice:
    """From the end of the first rest to the leg's return to rest after a clear raise.

    A small first raise can wander sideways as much as it rises, so raises are taken until
    one reached ``clear_raise_deg``; the axis fit weights them by their rise.
    """
    up0 = still_up(acc[first])
    rise_deg = np.degrees(np.arccos(np.clip(up_s @ up0, -1.0, 1.0)))
    stop = len(acc)
    for a, b in later:
        if _angle_deg(still_up(acc[a:b]), up0) < p.rest_return_deg:
            stop = a
            if np.max(rise_deg[first.stop : a], initial=0.0) >= p.clear_raise_deg:
                return slice(first.stop, stop)
    # No return after a clear raise: the clear raise the recording ends in, if it holds one
    # (its rest, just begun, is not a still phase yet), with the small ones before it.
    if np.max(rise_deg[first.stop :], initial=0.0) >= p.clear_raise_deg:
        stop = len(acc)
    return slice(first.stop, stop)


def _segments(  # noqa: PLR0917
    gyr: FloatArray,
    acc: FloatArray,
    up_s: FloatArray,
    t_s: FloatArray,
    rate_hz: float,
    posture: Posture,
    p: CalibrationParams,
) -> tuple[slice, slice, slice | None]:
    """(first still, movement, second still or None for supine)."""
    mask = calibration_still_mask(gyr, acc, rate_hz, p, t_s)
    still = still_spans(mask, t_s, rate_hz, p.still.min_still_s)
    where = "stand" if posture is Posture.STANDING else "lie"
    first_long = [r for r in still if span_s(t_s, *r, rate_hz) >= p.min_still_s]
    late_start = bool(still) and t_s[still[0][0]] - t_s[0] > 0.5
    if not still or late_start or not first_long or first_long[0] != still[0]:
        raise CalibrationError(
            f"you moved during the still phase: {where} still for 2 s before you start"
        )
    first = slice(*still[0])
    later = still[1:]
    if posture is Posture.SUPINE:
        raised = _raise_span(acc, up_s, first, later, p)
        if raised.stop <= raised.start:  # still to the end: nothing to fit an axis on
            raise CalibrationError(_no_raise(0.0))
        return first, raised, None
    long_later = (r for r in later if span_s(t_s, *r, rate_hz) >= p.min_still_s)
    as_seen = (r for r in later if lasted_as_seen_then(gyr, acc, t_s, rate_hz, p, r[0]) is not None)
    last = next(long_later, None) or next(as_seen, None)
    if last is None:
        raise CalibrationError("stand still again for 2 s after the swings, then finish")
    return first, slice(first.stop, last[0]), slice(*last)


def lasted_as_seen_then(  # noqa: PLR0917
    gyr: FloatArray,
    acc: FloatArray,
    t_s: FloatArray,
    rate_hz: float,
    p: CalibrationParams,
    start: int,
) -> int | None:
    """Where (the end of the samples that showed it) the still phase from ``start`` had
    lasted ``min_still_s`` as the samples up to then showed it, which is what the live guide
    judges; None if it did not. The still mask's accelerometer windows see up to half a
    second ahead: a knee drive right after it took 0.47 s off a 2.25 s still phase, which the
    guide had accepted, so ``analyze`` refused what live calibrated."""
    stop = int(np.searchsorted(t_s, t_s[start] + p.min_still_s - 1.0 / rate_hz, side="left"))
    if stop >= len(t_s) or span_s(t_s, start, stop + 1, rate_hz) < p.min_still_s:
        return None
    seen = slice(max(0, start - mask_reach(p, rate_hz)), stop + 1)  # what the mask there needs
    then = calibration_still_mask(gyr[seen], acc[seen], rate_hz, p, t_s[seen])
    return stop + 1 if then[start - seen.start :].all() else None


def _axis_and_metrics(
    gyr_move: FloatArray, up: FloatArray, posture: Posture, p: CalibrationParams
) -> tuple[FloatArray, float, float]:
    axis, off_plane_deg = dominant_axis(gyr_move)
    tilt_deg = float(np.degrees(np.arcsin(min(1.0, abs(float(axis @ up))))))
    bad = off_plane_deg > p.max_off_plane_deg or tilt_deg > p.max_axis_tilt_deg
    if bad and posture is Posture.STANDING:  # supine takes its axis from gravity instead
        raise CalibrationError(
            "that was not a forward swing: swing the leg straight forward and back"
            f" (the motion left its plane by {off_plane_deg:.0f} deg,"
            f" its axis tilted {tilt_deg:.0f} deg)"
        )
    return axis, off_plane_deg, tilt_deg


def calibrate_mounting(
    gyr_radps: npt.ArrayLike,
    acc_mps2: npt.ArrayLike,
    quat_wxyz: npt.ArrayLike,
    rate_hz: float,
    *,
    posture: Posture,
    leg: Leg,
    params: CalibrationParams | None = None,
    t_s: npt.ArrayLike | None = None,
) -> MountingCalibration:
    """Mounting from a calibration recording (raw gyro/acc and the fused orientation).

    ``t_s``: the samples' times, if some were left out (lost, or not validly fused): still
    phases are then timed by the clock, and never span a gap across which the leg moved.
    Without it the samples are taken as consecutive."""
    params = params or CalibrationParams()
    gyr, acc = np.asarray(gyr_radps, dtype=np.float64), np.asarray(acc_mps2, dtype=np.float64)
    up_s = up_in_sensor(np.asarray(quat_wxyz, dtype=np.float64))
    t = np.arange(len(gyr)) / rate_hz if t_s is None else np.asarray(t_s, dtype=np.float64)
    first, move, second = _segments(gyr, acc, up_s, t, rate_hz, posture, params)
    bias = np.mean(gyr[first], axis=0)  # at rest the gyro reads its bias
    still_idx = np.r_[first] if second is None else np.r_[first, second]
    still_motion_dps = float(np.degrees(np.sqrt(np.mean(np.sum((gyr[still_idx] - bias) ** 2, 1)))))
    up0 = still_up(acc[still_idx])
    neutral = np.mean(acc[still_idx], axis=0)
    repeat_deg = 0.0
    if second is not None:
        cos = float(still_up(acc[first]) @ still_up(acc[second]))
        repeat_deg = float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    gyr_move = gyr[move] - bias
    axis, off_plane_deg, tilt_deg = _axis_and_metrics(gyr_move, up0, posture, params)
    y = _unit(axis - (axis @ up0) * up0)
    if posture is Posture.SUPINE:
        y = _raise_axis(up_s[move], up0, fallback=y)
    r_ts = _frame(up0, y, posture)
    r_ts = _sign_flexion_positive(r_ts, up_s[move], posture)
    n_swings = count_swings(up_s[move] @ r_ts.T, params.swing_min_deg, posture)
    if posture is Posture.STANDING and n_swings < params.accepted_swings:
        raise CalibrationError(
            f"only {counted(n_swings, 'swing')} seen: swing the leg forward and back"
            f" {params.min_swings} times, slowly, then stand still"
        )
    raise_deg = float(np.degrees(np.max(np.abs(np.cumsum(gyr_move @ y))) / rate_hz))
    if posture is Posture.SUPINE and raise_deg < params.min_raise_deg:
        raise_deg = max(raise_deg, _held_rise_deg(gyr, acc, t, move, up0, rate_hz, params))
    if posture is Posture.SUPINE and raise_deg < params.min_raise_deg:
        raise CalibrationError(_no_raise(raise_deg))
    lever = None
    if posture is Posture.STANDING:
        prior = lever_prior(r_ts, leg)
        lever = estimate_lever_arm(gyr_move, acc[move], up_s[move], rate_hz, prior)
    axes = tuple(tuple(float(v) for v in row) for row in r_ts)
    return MountingCalibration(
        posture,
        leg,
        axes,  # type: ignore[arg-type]
        still_motion_dps=still_motion_dps,
        swing_off_plane_deg=off_plane_deg,
        axis_residual_deg=tilt_deg,
        neutral_repeatability_deg=repeat_deg,
        n_swings=max(n_swings, 1) if posture is Posture.SUPINE else n_swings,
        lever_arm_in_sensor_m=None if lever is None else _vec3(lever),
        neutral_acc_in_sensor_mps2=_vec3(neutral),
        rest_gyr_radps=_vec3(
            _rest_gyr(gyr, acc, t, rate_hz, [first] if second is None else [first, second])
        ),
    )


def _rest_gyr(
    gyr: FloatArray, acc: FloatArray, t_s: FloatArray, rate_hz: float, still: list[slice]
) -> FloatArray:
    """The gyro bias over the still phases without the body's sway (``rest_bias``), each
    phase's estimate weighted by its covariance; the plain mean if none gives one."""
    found = [still_bias(gyr[s], acc[s], rate_hz, t_s=t_s[s]) for s in still]
    known = [f for f in found if f is not None]
    if not known:
        return np.asarray(np.mean(np.concatenate([gyr[s] for s in still]), axis=0))
    return _combined(known)


def _combined(found: list[RestBias]) -> FloatArray:
    info = [np.linalg.inv(f.covariance_dps2()) for f in found]
    weighted = sum((i @ np.asarray(f.bias_radps) for i, f in zip(info, found, strict=True)),
                   np.zeros(3))  # fmt: skip
    return np.asarray(np.linalg.solve(sum(info, np.zeros((3, 3))), weighted), dtype=np.float64)


def _vec3(v: FloatArray) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


def _flexion_deg(up_thigh: FloatArray, posture: Posture) -> FloatArray:
    return angles_from_up(up_thigh, Leg.LEFT, posture)[0]  # flexion is the same for either leg


def count_swings(up_thigh: FloatArray, min_deg: float, posture: Posture = Posture.STANDING) -> int:
    """Swings = flexion peaks of at least ``min_deg`` prominence (either sign: the fit may not
    be signed yet). Counted on the fused angle, so a lost packet cannot split or merge one."""
    flex = _flexion_deg(up_thigh, posture)
    if len(flex) < 3:
        return 0
    up_peaks, _ = find_peaks(flex, prominence=min_deg)
    down_peaks, _ = find_peaks(-flex, prominence=min_deg)
    return max(len(up_peaks), len(down_peaks))


def _held_rise_deg(  # noqa: PLR0917
    gyr: FloatArray,
    acc: FloatArray,
    t_s: FloatArray,
    move: slice,
    up0: FloatArray,
    rate_hz: float,
    p: CalibrationParams,
) -> float:
    """The rise the accelerometer shows at the still samples after the rest (a hold at the
    top), counted only if clear (``clear_raise_deg``), else 0. A burst lost as the raise
    began, and the samples hidden until the orientation re-anchored at the top, never reach
    the calibration: the gyro it got turned 3 deg in a 45 deg raise."""
    still = calibration_still_mask(gyr, acc, rate_hz, p, t_s)[move]
    if not still.any():
        return 0.0
    a = acc[move][still]
    cos = (a / np.linalg.norm(a, axis=1, keepdims=True)) @ up0
    rise = float(np.degrees(np.arccos(np.clip(np.min(cos), -1.0, 1.0))))
    return rise if rise >= p.clear_raise_deg else 0.0


def _raise_axis(up_s_move: FloatArray, up0: FloatArray, fallback: FloatArray) -> FloatArray:
    """Flexion axis from gravity alone: the rise takes up0 towards u, so y ~ up0 x u.

    A leg raise often rolls the thigh a little; the gyro sees that roll rate directly,
    while the up vector's path barely leaves the flexion plane. Signed by the rise itself.
    """
    rise = np.cross(up0, up_s_move)
    weight = np.linalg.norm(rise, axis=1)
    if weight.max(initial=0.0) < np.sin(np.radians(3.0)):
        return fallback
    return _unit(np.sum(rise * weight[:, None], axis=0))


def _frame(up0: FloatArray, y: FloatArray, posture: Posture) -> FloatArray:
    """Rows x, y, z of the thigh frame in sensor coordinates (right-handed)."""
    if posture is Posture.STANDING:
        z = up0
        x = np.cross(y, z)
    else:
        x = up0
        z = np.cross(x, y)
    return np.stack([x, y, z])


def _sign_flexion_positive(r_ts: FloatArray, up_s_move: FloatArray, posture: Posture) -> FloatArray:
    """Flip the flexion axis (y) and its partner if the movement reads as mainly negative."""
    flex = _flexion_deg(up_s_move @ r_ts.T, posture)
    if np.nanmax(flex, initial=0.0) >= -np.nanmin(flex, initial=0.0):
        return r_ts
    flip = np.diag([-1.0, -1.0, 1.0]) if posture is Posture.STANDING else np.diag([1.0, -1.0, -1.0])
    return flip @ r_ts
