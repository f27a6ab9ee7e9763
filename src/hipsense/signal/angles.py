"""Hip angles per sample: checked samples -> orientation -> calibrated thigh frame -> angles.

Angles come only from the up direction in the calibrated thigh frame
(``thigh_frame.angles_from_up``), so they never drift with heading. Invalid samples and
samples before the calibration is known have NaN angles and ``valid`` False.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from hipsense.exercises import Leg, Posture
from hipsense.samples import SampleBatch
from hipsense.signal.calibration import MountingCalibration, calibrate_mounting
from hipsense.signal.calibration_tracker import CalibrationProgress, CalibrationTracker
from hipsense.signal.data_quality import (
    CheckedSamples,
    DataQualityEvent,
    DataQualityParams,
    SampleChecker,
)
from hipsense.signal.gap_fill import Expanded, expand_checked
from hipsense.signal.lever_arm import RestOffset
from hipsense.signal.orientation import (
    HIPSENSE_PARAMS,
    OrientationEstimator,
    OrientationParams,
    estimate_orientation_offline,
    up_in_sensor,
)
from hipsense.signal.propagation import GapWatch, probation, propagate
from hipsense.signal.thigh_frame import angles_from_up

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SETTLE_S = 0.15
"""After an orientation restart, samples this long are invalid while VQF settles."""
HISTORY_S = 120.0
"""Samples kept for fusing again once the calibration is known (it restarts after 60 s)."""


@dataclass(frozen=True, eq=False)
class _Fed:
    """One batch's fusion inputs, kept until the calibration is known."""

    t_s: FloatArray
    gyr: FloatArray
    raw_acc: FloatArray
    checked: CheckedSamples
    last_gyr: FloatArray
    plan: tuple[BoolArray, BoolArray, BoolArray, BoolArray]  # check, strict, hidden, quick
    settling: BoolArray


@dataclass(frozen=True, eq=False)
class AngleBatch:
    t_s: FloatArray
    flexion_deg: FloatArray
    abduction_deg: FloatArray
    quat_wxyz: FloatArray
    valid: BoolArray
    events: tuple[DataQualityEvent, ...] = ()
    progress: CalibrationProgress | None = None
    backfill: AngleBatch | None = None
    """Set once, in the batch that completes the calibration: the samples fed before it (this
    batch included, as far back as ``HISTORY_S``), fused again with what it taught."""

    def __len__(self) -> int:
        return int(self.t_s.shape[0])


def thigh_angles(
    quat_wxyz: FloatArray,
    calibration: MountingCalibration,
    acc_offset_mps2: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """(flexion_deg, abduction_deg) from sensor-to-world quaternions and the mounting.

    ``acc_offset_mps2`` (N, 3): the accelerometer offset the fusion removed at each sample;
    the mounting's neutral is re-derived with it, so both see the same gravity.
    """
    up_s = up_in_sensor(quat_wxyz)
    if acc_offset_mps2 is None:
        up_thigh = up_s @ calibration.r_ts.T
    else:
        up_thigh = np.einsum("nij,nj->ni", calibration.r_ts_for_offset(acc_offset_mps2), up_s)
    return angles_from_up(up_thigh, calibration.leg, calibration.posture)


def _segments(x: Expanded, reset_before: BoolArray) -> list[slice]:
    """Expanded-row slices between orientation resets (time jumps)."""
    cuts = x.real_index[np.flatnonzero(reset_before)].tolist()
    bounds = [0, *[c for c in cuts if c > 0], len(x.gyr_radps)]
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


def _batch(  # noqa: PLR0917
    t_s: FloatArray,
    quat: FloatArray,
    valid: BoolArray,
    calibration: MountingCalibration | None,
    events: tuple[DataQualityEvent, ...],
    progress: CalibrationProgress | None,
    offsets: FloatArray,
) -> AngleBatch:
    ok = valid & (calibration is not None)
    if calibration is None:
        flex = abd = np.full(len(t_s), np.nan)
    else:
        flex, abd = thigh_angles(quat, calibration, offsets)
        flex, abd = np.where(ok, flex, np.nan), np.where(ok, abd, np.nan)
    return AngleBatch(t_s, flex, abd, quat, ok, events, progress)


class AnglePipeline:
    """Streaming: ``update(SampleBatch) -> AngleBatch``; guides calibration if none is given."""

    def __init__(
        self,
        rate_hz: float,
        posture: Posture,
        leg: Leg,
        calibration: MountingCalibration | None = None,
        *,
        orientation: OrientationParams = HIPSENSE_PARAMS,
        data_quality: DataQualityParams | None = None,
        rest_offset: bool = True,
    ) -> None:
        self.rate_hz, self.posture, self.leg = float(rate_hz), posture, leg
        self._offset = RestOffset(rate_hz) if rest_offset else None
        self.calibration = calibration
        self._checker = SampleChecker(rate_hz, data_quality or DataQualityParams())
        self._orientation = OrientationEstimator(rate_hz, orientation)
        self._tracker = None if calibration else CalibrationTracker(rate_hz, posture, leg)
        self._last_gyr = np.zeros((2, 3))  # the two gyro rows fused last (gap edges)
        self._gaps = GapWatch(rate_hz)
        self._n_settle, self._settle_left = max(1, round(SETTLE_S * rate_hz)), 0
        self._history: list[_Fed] = []

    def update(self, batch: SampleBatch) -> AngleBatch:
        gyr = np.asarray(batch.gyr_radps, dtype=np.float64)
        raw = np.asarray(batch.acc_mps2, dtype=np.float64)
        checked = self._checker.check(batch.t_s, raw, gyr, batch.lost_before)
        offsets = np.zeros_like(raw)
        if self._offset is not None:  # the accelerometer's own offset, learnt at rest
            offsets = self._offset.update(raw, gyr, checked.valid)
        acc = raw - offsets
        plan = self._gaps.plan(
            checked.missing_before > 0, self._checker.gap_kind(checked), acc, gyr, checked.acc_ok
        )
        settling, self._settle_left = probation(
            checked.reset_before, self._settle_left, self._n_settle
        )
        fed = _Fed(np.asarray(batch.t_s, dtype=np.float64), gyr, raw, checked, self._last_gyr,
                   plan, settling)  # fmt: skip
        lever = None if self.calibration is None else self.calibration.lever_arm_in_sensor_m
        quat, valid, self._last_gyr = self._fuse(fed, self._orientation, acc, lever)
        calibration = self.calibration  # angles use what was known before this batch
        if self._tracker is not None:
            self._history = _recent([*self._history, fed], HISTORY_S * self.rate_hz)
        progress = self._track(fed.t_s, gyr, raw, quat, valid)  # the mounting keeps raw neutral
        out = _batch(batch.t_s, quat, valid, calibration, checked.events, progress, offsets)
        if calibration is None and self.calibration is not None:
            out = replace(out, backfill=self._fuse_again(self.calibration))
        return out

    def _fuse(
        self,
        fed: _Fed,
        estimator: OrientationEstimator,
        acc: FloatArray,
        lever_m: tuple[float, float, float] | None,
    ) -> tuple[FloatArray, BoolArray, FloatArray]:
        """(quaternions, valid, the two gyro rows fused last) for one batch."""
        x = expand_checked(fed.checked, fed.gyr, acc, fed.last_gyr, lever_m, self.rate_hz)
        check, strict, hidden, quick = fed.plan
        quat, failed = propagate(estimator, x, fed.checked.reset_before, check, strict, quick=quick)
        valid = fed.checked.valid & ~failed & ~hidden & ~fed.settling
        return quat, valid, np.vstack([fed.last_gyr, x.gyr_radps])[-2:]

    def _fuse_again(self, calibration: MountingCalibration) -> AngleBatch:
        """The samples before the calibration, fused again knowing what it taught: the gyro
        bias from the start (unknown, it tilted the first raise by up to 2 deg) and the latest
        accelerometer offset. The live filter continues from this state."""
        estimator = OrientationEstimator(self.rate_hz, self._orientation.params)
        bias = calibration.rest_gyr_radps
        if bias is not None:
            estimator.set_gyro_bias(bias)
        offset = np.zeros(3) if self._offset is None else self._offset.offset_mps2
        # No lever arm: fitted on these very swings, it made the state worse (seeds 100-111).
        parts = [self._fuse(f, estimator, f.raw_acc - offset, None) for f in self._history]
        if bias is not None:  # VQF's motion estimate drifts during the swings: the still wins
            estimator.set_gyro_bias(bias)
        self._orientation, history, self._history = estimator, self._history, []
        t = np.concatenate([f.t_s for f in history])
        quat, valid = (np.concatenate([p[i] for p in parts]) for i in (0, 1))
        offsets = np.broadcast_to(offset, (len(t), 3))
        return _batch(t, quat, valid.astype(bool), calibration, (), None, offsets)

    def _track(
        self, t_s: FloatArray, gyr: FloatArray, acc: FloatArray, quat: FloatArray, valid: BoolArray
    ) -> CalibrationProgress | None:
        if self._tracker is None:
            return None
        progress = self._tracker.update(gyr[valid], acc[valid], quat[valid], t_s[valid])
        if self._tracker.calibration is not None:
            self.calibration, self._tracker = self._tracker.calibration, None
        return progress


def _recent(history: list[_Fed], max_samples: float) -> list[_Fed]:
    """The latest batches, at most ``max_samples`` in all (and always the last one)."""
    sizes = np.cumsum([len(f.t_s) for f in reversed(history)])
    keep = max(1, int(np.searchsorted(sizes, max_samples, side="right")))
    return history[-keep:]


def compute_angles(
    t_s: FloatArray,
    acc_mps2: FloatArray,
    gyr_radps: FloatArray,
    rate_hz: float,
    *,
    posture: Posture,
    leg: Leg,
    calibration: MountingCalibration | None = None,
    offline: bool = True,
    orientation: OrientationParams = HIPSENSE_PARAMS,
    data_quality: DataQualityParams | None = None,
    rest_offset: bool = True,
) -> AngleBatch:
    """Angles for a whole recording (``analyze``). Without a calibration, the recording must
    start with the calibration routine. ``offline=False`` gives exactly the live result;
    offline, the accelerometer offset learnt from all rest periods applies throughout."""
    offset = np.zeros(3)
    if offline and rest_offset:
        learn = RestOffset(rate_hz)
        finite = np.isfinite(acc_mps2).all(axis=1) & np.isfinite(gyr_radps).all(axis=1)
        offset = learn.update(acc_mps2, gyr_radps, np.asarray(finite, dtype=bool))[-1]
    if calibration is None:  # calibrate on a first pass, then fuse again with its lever arm
        quat, valid, _ = _fuse(t_s, acc_mps2 - offset, gyr_radps, rate_hz, offline,
                               orientation, data_quality, None)  # fmt: skip
        calibration = calibrate_mounting(gyr_radps[valid], acc_mps2[valid], quat[valid], rate_hz,
                                         posture=posture, leg=leg, t_s=t_s[valid])  # fmt: skip
    if not offline:
        pipe = AnglePipeline(
            rate_hz, posture, leg, calibration, orientation=orientation,
            data_quality=data_quality, rest_offset=rest_offset,
        )  # fmt: skip
        return pipe.update(SampleBatch("offline", t_s, acc_mps2, gyr_radps))
    quat, valid, events = _fuse(t_s, acc_mps2 - offset, gyr_radps, rate_hz, offline,
                                orientation, data_quality, calibration)  # fmt: skip
    offsets = np.broadcast_to(offset, (len(t_s), 3))
    return _batch(t_s, quat, valid, calibration, events, None, offsets)


def _fuse(  # noqa: PLR0917
    t_s: FloatArray,
    acc_mps2: FloatArray,
    gyr_radps: FloatArray,
    rate_hz: float,
    offline: bool,
    orientation: OrientationParams,
    data_quality: DataQualityParams | None,
    calibration: MountingCalibration | None,
) -> tuple[FloatArray, BoolArray, tuple[DataQualityEvent, ...]]:
    """One-shot orientation (causal, or acausal between the restarts a causal pass found)."""
    checker = SampleChecker(rate_hz, data_quality or DataQualityParams())
    checked = checker.check(t_s, acc_mps2, gyr_radps)
    lever = None if calibration is None else calibration.lever_arm_in_sensor_m
    x = expand_checked(checked, gyr_radps, acc_mps2, np.zeros((2, 3)), lever, rate_hz)
    causal = OrientationEstimator(rate_hz, orientation)
    kind = checker.gap_kind(checked)
    check, strict, hidden, quick = GapWatch(rate_hz).plan(
        checked.missing_before > 0, kind, acc_mps2, gyr_radps, checked.acc_ok
    )
    settling, _ = probation(checked.reset_before, 0, max(1, round(SETTLE_S * rate_hz)))
    quat, failed = propagate(causal, x, checked.reset_before, check, strict, quick=quick)
    valid = checked.valid & ~failed & ~hidden & ~settling
    if offline:
        # Acausal fusion restarts at every untrusted bridge: its backward pass fills the start.
        resets = checked.reset_before | checked.fast_gap_before
        resets |= np.concatenate([[False], failed[:-1]])
        parts = [
            estimate_orientation_offline(
                x.gyr_radps[s], x.acc_mps2[s], rate_hz, orientation, x.acc_ok[s]
            )
            for s in _segments(x, resets)
        ]
        quat = np.concatenate(parts)[x.real_index] if parts else np.empty((0, 4))
    return quat, valid, checked.events
