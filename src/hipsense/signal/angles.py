"""Hip angles per sample: checked samples -> orientation -> calibrated thigh frame -> angles.

Angles come only from the up direction in the calibrated thigh frame
(``thigh_frame.angles_from_up``), so they never drift with heading. Invalid samples and
samples before the calibration is known have NaN angles and ``valid`` False.
"""

from __future__ import annotations

import functools
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
    GapKind,
    SampleChecker,
)
from hipsense.signal.gap_fill import Expanded, expand_checked, hold_last_valid
from hipsense.signal.lever_arm import compensate
from hipsense.signal.mounting import in_frame
from hipsense.signal.orientation import (
    HIPSENSE_PARAMS,
    OrientationEstimator,
    OrientationParams,
    estimate_orientation_offline,
    quat_multiply,
    up_in_sensor,
)
from hipsense.signal.propagation import (
    EARLY_S,
    Bridges,
    BridgeState,
    Fix,
    GapPlan,
    GapWatch,
    partial_rotation,
    probation,
    propagate,
)
from hipsense.signal.rest_offset import RestOffset
from hipsense.signal.thigh_frame import angles_from_up

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

SETTLE_S = 0.15
"""After an orientation restart, samples this long are invalid while VQF settles."""
MAX_HOLD_S = 0.6
"""Rows of an unchecked gap bridge are held back at most this long, then shown as they stand:
long enough for a raise halted at its top (lost in a blind gap) to be checked there (in
continuous swings no calm moment comes for seconds). Standing, a blind bridge's rows count
unshown instead of hiding (``AnglePipeline._hidden``), so ``MAX_SHOWN_HOLD_S`` is the wait
there..."""
MAX_SHOWN_HOLD_S = 0.5
"""...and rows the fusion could show (not a blind gap) at most this long: time for a drive's
bridge to be measured by the mean of what followed, once the leg is back at rest. Reps are
announced that much later: the 95th percentile of confirmation after a rep's end went from
-0.06 to 0.23 s for knee drives and from -0.13 to 0.28 s for straight-leg marches (0.38 s
holding 0.6 s), -0.10 to -0.08 s over all exercises (``bench_reps.py --sets 20``)."""
MAX_HOLD_LYING_S = 1.5
"""Lying, rows wait at most this long: a raise's top lost whole in a 0.4 s burst, with 0.1 s
of its hold received after it, is checked only once the lowering comes to rest, 1.1 s after
the burst began (seed 9028 of the benchmark's sampling, 50 Hz). Released after 0.6 s as
they stood, the top's rows stayed hidden and the rep's peak read 5.3 deg low; the raise's
rep is confirmed that much later."""
MAX_SHOWN_HOLD_LYING_S = MAX_HOLD_LYING_S
"""Lying, rows the fusion could show wait as long: a quick raise (1.2 s) with 0.2 s lost at
its fastest is checked only once it is back down, 1.35 s after the burst; released after
0.5 s, its top was shown, and its peak read, 4.3 deg low (seeds 13239 and 13136 of the
benchmark's sampling, 100 Hz)."""


@dataclass(frozen=True)
class Holds:
    """How long rows wait for a gap bridge's check before they are shown as they stand."""

    any_s: float
    """Any row (``Published``)..."""
    fusion_s: float
    """...and rows the fusion could show: not a blind gap's (``AnglePipeline``)."""


HOLDS = {
    Posture.STANDING: Holds(MAX_HOLD_S, MAX_SHOWN_HOLD_S),
    Posture.SUPINE: Holds(MAX_HOLD_LYING_S, MAX_SHOWN_HOLD_LYING_S),
}
HISTORY_S = 120.0
"""Samples kept for fusing again once the calibration is known (it restarts after 60 s)."""


@dataclass(frozen=True, eq=False)
class _Arrived:
    """Samples to fuse, with the samples counted missing before each (``SampleBatch`` counts
    them before its first only)."""

    t_s: FloatArray
    acc_mps2: FloatArray
    gyr_radps: FloatArray
    lost_before: IntArray

    @classmethod
    def of(cls, batch: SampleBatch) -> _Arrived:
        lost = np.zeros(len(batch), dtype=np.int64)
        lost[:1] = batch.lost_before
        as_float = functools.partial(np.asarray, dtype=np.float64)
        return cls(as_float(batch.t_s), as_float(batch.acc_mps2), as_float(batch.gyr_radps), lost)

    @property
    def samples(self) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
        return self.t_s, self.acc_mps2, self.gyr_radps, self.lost_before

    def part(self, rows: slice) -> _Arrived:
        return _Arrived(self.t_s[rows], self.acc_mps2[rows], self.gyr_radps[rows],
                        self.lost_before[rows])  # fmt: skip

    def then(self, later: _Arrived) -> _Arrived:
        a, b = self, later
        return _Arrived(np.concatenate([a.t_s, b.t_s]), np.vstack([a.acc_mps2, b.acc_mps2]),
                        np.vstack([a.gyr_radps, b.gyr_radps]),
                        np.concatenate([a.lost_before, b.lost_before]))  # fmt: skip


@dataclass(frozen=True, eq=False)
class _Fed:
    """One batch's fusion inputs, kept until the calibration is known."""

    t_s: FloatArray
    gyr: FloatArray
    raw_acc: FloatArray
    checked: CheckedSamples
    last_gyr: FloatArray
    plan: GapPlan
    settling: BoolArray
    first_row: int
    """The stream row of its first sample (``RestOffset.offsets_at``)."""


def shown_angles(
    flexion_deg: FloatArray, abduction_deg: FloatArray, unshown: BoolArray | None
) -> tuple[FloatArray, FloatArray]:
    """(flexion, abduction) as shown: NaN where ``unshown`` (the arrays themselves when no
    row is: no copy)."""
    if unshown is None or not unshown.any():
        return flexion_deg, abduction_deg
    return np.where(unshown, np.nan, flexion_deg), np.where(unshown, np.nan, abduction_deg)


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
    revision: AngleBatch | None = None
    """Rows that replace earlier ones (same ``t_s``) or fill lost samples (``bridged``): a gap's
    lost samples carried by the gyro, and an untrusted bridge repaired once checked."""
    bridged: BoolArray | None = None
    """In a revision: rows that stand for lost samples (None: none do)."""
    held_from_s: float | None = None
    """An untrusted bridge is still open: rows from this time on may be revised."""
    unshown: BoolArray | None = None
    """Rows whose angles count (reps) but are not shown: standing, after an untrusted bridge
    until its check anchors it (None: none). A 0.2 s burst inside a knee drive is bridged up
    to 26 deg off when a drive sets off, halts or turns in it, and no calm sample checks it
    while the leg keeps driving; shown as they stood, such rows put 12 of 300 realistic
    knee-drive sets over 1.5 deg RMSE. Hidden outright (as after a blind gap), the reps inside
    them were lost."""

    def unshown_rows(self) -> BoolArray:
        """``unshown`` as a mask (all False when None)."""
        return np.zeros(len(self), dtype=bool) if self.unshown is None else self.unshown

    def shown_deg(self) -> tuple[FloatArray, FloatArray]:
        """(flexion, abduction) as shown: NaN where ``unshown`` (the arrays themselves in the
        usual batch, which has no such row: no copy per batch)."""
        return shown_angles(self.flexion_deg, self.abduction_deg, self.unshown)

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
        up_thigh = in_frame(up_s, calibration.r_ts)
    else:
        up_thigh = calibration.up_in_thigh(up_s, acc_offset_mps2)
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


@dataclass(frozen=True, eq=False)
class _Rows:
    """Expanded rows (received samples and lost slots) of an untrusted bridge."""

    t_s: FloatArray
    quat: FloatArray
    share: FloatArray
    valid: BoolArray
    shown: BoolArray
    bridged: BoolArray
    offsets: FloatArray
    span: npt.NDArray[np.int64]
    unsure: BoolArray

    def __len__(self) -> int:
        return len(self.t_s)

    def take(self, keep: BoolArray | npt.NDArray[np.intp]) -> _Rows:
        return _Rows(*(np.asarray(getattr(self, f))[keep] for f in _ROW_FIELDS))

    def then(self, other: _Rows) -> _Rows:
        return _Rows(*(np.concatenate([getattr(self, f), getattr(other, f)]) for f in _ROW_FIELDS))


_ROW_FIELDS = ("t_s", "quat", "share", "valid", "shown", "bridged", "offsets", "span", "unsure")
_NO_ROWS = _Rows(np.empty(0), np.empty((0, 4)), np.empty(0), *(np.zeros(0, dtype=bool),) * 3,
                 np.empty((0, 3)), np.zeros(0, dtype=np.int64),
                 np.zeros(0, dtype=bool))  # fmt: skip


class _Repairs:
    """Turns each batch's gap bridges into revisions: lost slots carried by the gyro, and an
    untrusted bridge's rows, held until its check corrects them."""

    def __init__(self, calm_n: int, holds: Holds, *, revise_shown: bool = False) -> None:
        self.state = BridgeState(calm_n, holds.fusion_s)
        self.held = _NO_ROWS
        self.last_t_s = np.nan
        self.holds, self.revise_shown = holds, revise_shown
        # Rows before this time have been released (``Published``), as of the last sample.
        self.released_s = -np.inf

    def revise(  # noqa: PLR0917
        self,
        t_s: FloatArray,
        x: Expanded,
        bridges: Bridges,
        valid: tuple[BoolArray, BoolArray],
        offsets: FloatArray,
        calibration: MountingCalibration | None,
        unsure: BoolArray,
    ) -> tuple[AngleBatch | None, float | None]:
        """(revision, held_from_s) for one batch. ``valid`` per received sample: usable once
        checked, and as shown now (a bridge whose wait ran out keeps hidden what it hid)."""
        n, real_rows = len(bridges.span_x), x.real_index
        if n == 0:
            return None, (self.released_s if len(self.held) else None)
        open_span = bool((bridges.span_x >= 0).any())
        if n == len(real_rows) and not (len(self.held) or bridges.fixes or open_span):
            self.last_t_s = float(t_s[-1])  # no lost slot, no open bridge: nothing to revise
            self.released_s = float(np.fmax(self.released_s, np.nextafter(t_s[-1], np.inf)))
            return None, None
        owner = np.searchsorted(real_rows, np.arange(n))
        prev_row = np.concatenate([[-1], real_rows])[owner]
        prev_t = np.concatenate([[self.last_t_s], t_s])[owner]
        share_t = (np.arange(n) - prev_row) / (real_rows[owner] - prev_row)
        with np.errstate(invalid="ignore"):  # garbage time stamps: those slots stay unplaced
            t_x = prev_t + share_t * (t_s[owner] - prev_t)
        self.last_t_s = float(t_s[-1])
        bridged = np.ones(n, dtype=bool)
        bridged[real_rows] = False
        t_x[real_rows] = t_s
        known = np.isfinite(t_x)
        rows = _Rows(t_x, bridges.quat_x, bridges.share_x, valid[0][owner] & known,
                     valid[1][owner] & known, bridged, offsets[owner], bridges.span_x,
                     unsure[owner])  # fmt: skip
        out = [rows.take(bridged & (bridges.span_x < 0))]  # a trusted bridge's lost samples
        new_rows = np.flatnonzero(bridges.span_x >= 0)
        pending = self.held.then(rows.take(new_rows))
        # The received sample each pending row came with (-1: an earlier batch)
        arrival = np.concatenate([np.full(len(self.held), -1),
                                  np.searchsorted(real_rows, new_rows)])  # fmt: skip
        released_before = self._released(t_s, pending, arrival, bridges.fixes, real_rows)
        for fix in bridges.fixes:
            mine = pending.span == fix.span
            # Rows released before the sample that decided it stay as they were shown.
            r = pending.take(mine & (pending.t_s >= released_before[fix.span]))
            quat = quat_multiply(partial_rotation(fix.correction, r.share), r.quat)
            ok = r.valid if fix.anchored else r.shown
            unsure_after = np.zeros(len(r), dtype=bool) if fix.anchored else r.unsure
            out.append(_Rows(r.t_s, quat, r.share, ok, ok, r.bridged, r.offsets, r.span,
                             unsure_after))  # fmt: skip
            pending = pending.take(~mine)
        self.held = pending
        # Held back until the bridge is checked, at most ``holds``: shown at once, a drive's
        # top halted in a 0.2 s gap stayed 9 deg off until the correction.
        held_from = self.released_s if len(pending) else None
        rev = _Rows(*(np.concatenate([getattr(r, f) for r in out]) for f in _ROW_FIELDS))
        rev = rev.take(np.isfinite(rev.t_s))
        if not len(rev):
            return None, held_from
        rev = rev.take(np.argsort(rev.t_s, kind="stable"))
        b = _batch(rev.t_s, rev.quat, rev.valid, calibration, (), None, rev.offsets)
        return replace(b, bridged=rev.bridged, unshown=rev.unsure), held_from

    def _released(
        self,
        t_s: FloatArray,
        pending: _Rows,
        arrival: IntArray,
        fixes: tuple[Fix, ...],
        real_rows: IntArray,
    ) -> dict[int, float]:
        """Per fix's span: the time rows had been released before by the sample that decided
        it; ``released_s`` moves on to the batch's last sample. A bridge's rows are released
        once held ``holds`` (by their span's first row), in sample time, not at a batch's end:
        checked at batch ends, a revision arriving as the wait ran out changed the rows in
        one batching and not in another (5 of 8 realistic knee-drive sets read up to 8 deg
        apart fed 10 or 19 samples at a time)."""
        n = len(t_s)
        decided = {f.span: int(np.searchsorted(real_rows, f.at_row)) for f in reversed(fixes)}
        start, hides = np.full(n, np.inf), np.zeros(n, dtype=bool)
        hiding = pending.valid & ~pending.shown & ~pending.bridged
        for span in np.unique(pending.span):
            mine = pending.span == span
            gone = decided.get(int(span), n)  # its rows leave before the release there
            first = max(int(arrival[mine].min()), 0)
            start[first:gone] = np.fmin(start[first:gone], np.fmin.reduce(pending.t_s[mine]))
            if hiding[mine].any():
                hid = max(int(arrival[mine & hiding].min()), 0)
                hides[hid:gone] = True
        holds = self.holds
        wait_s = np.where(hides, holds.any_s, min(holds.any_s, holds.fusion_s))
        everything = np.nextafter(t_s, np.inf)  # nothing held: every row so far
        cut = np.where(np.isfinite(start), np.fmax(start, t_s - wait_s), everything)
        marks = np.fmax.accumulate(np.concatenate([[self.released_s], cut]))
        self.released_s = float(marks[-1])
        if self.revise_shown:
            return dict.fromkeys(decided, -np.inf)
        return {span: float(marks[j]) for span, j in decided.items()}  # marks[j]: before row j


class Published:
    """What a session shows: the batches in order, each revision applied, and the rows of an
    untrusted bridge held back until it is checked (so a rep's top lost in it is seen), for
    at most ``max_hold_s``."""

    def __init__(self, max_hold_s: float = MAX_HOLD_S) -> None:
        self._rows: AngleBatch | None = None
        self._last_s = -np.inf
        self._max_hold_s = max_hold_s

    @classmethod
    def for_posture(cls, posture: Posture) -> Published:
        """What a session shows for a drill in this posture (``HOLDS``)."""
        return cls(HOLDS[posture].any_s)

    def add(self, out: AngleBatch) -> AngleBatch:
        """The rows released by this batch (time order; ``bridged`` marks lost samples)."""
        fresh = AngleBatch(out.t_s, out.flexion_deg, out.abduction_deg, out.quat_wxyz,
                           out.valid, bridged=np.zeros(len(out), dtype=bool),
                           unshown=out.unshown_rows())  # fmt: skip
        rows = fresh if self._rows is None else _joined(self._rows, fresh)
        if out.revision is not None:
            rows = _revised(rows, out.revision, self._last_s)
        held_from = out.held_from_s
        if held_from is not None and not np.isfinite(held_from):
            held_from = None  # no usable time to hold from: release everything
        if held_from is not None and len(out):
            held_from = max(held_from, float(out.t_s[-1]) - self._max_hold_s)
        cut = len(rows) if held_from is None else int(np.searchsorted(rows.t_s, held_from))
        self._rows = _sliced(rows, slice(cut, None))
        done = _sliced(rows, slice(0, cut))
        if len(done):
            self._last_s = float(done.t_s[-1])
        return done

    def add_all(self, out: AngleBatch) -> AngleBatch:
        """A batch nothing waits on (the calibration's back-fill, a whole recording at once):
        every row released now."""
        done, held = self.add(out), self.finish()
        return done if held is None or not len(held) else _joined(done, held)

    def finish(self) -> AngleBatch | None:
        """Whatever is still held (a bridge not checked yet), as it stands now."""
        rows, self._rows = self._rows, None
        if rows is not None and len(rows):
            self._last_s = float(rows.t_s[-1])
        return rows


def _sliced(b: AngleBatch, s: slice | BoolArray | npt.NDArray[np.int64]) -> AngleBatch:
    bridged = None if b.bridged is None else b.bridged[s]
    unshown = None if b.unshown is None else b.unshown[s]
    return AngleBatch(b.t_s[s], b.flexion_deg[s], b.abduction_deg[s], b.quat_wxyz[s],
                      b.valid[s], bridged=bridged, unshown=unshown)  # fmt: skip


def _joined(a: AngleBatch, b: AngleBatch) -> AngleBatch:
    return AngleBatch(
        np.concatenate([a.t_s, b.t_s]),
        np.concatenate([a.flexion_deg, b.flexion_deg]),
        np.concatenate([a.abduction_deg, b.abduction_deg]),
        np.concatenate([a.quat_wxyz, b.quat_wxyz]),
        np.concatenate([a.valid, b.valid]),
        bridged=np.concatenate([_bridged(a), _bridged(b)]),
        unshown=np.concatenate([a.unshown_rows(), b.unshown_rows()]),
    )


def _bridged(b: AngleBatch) -> BoolArray:
    return np.zeros(len(b), dtype=bool) if b.bridged is None else b.bridged


def _revised(rows: AngleBatch, rev: AngleBatch, after_s: float) -> AngleBatch:
    """``rows`` with the revision's received rows replacing theirs and its lost samples
    inserted (only after ``after_s``: what was released stays)."""
    lost = _bridged(rev)
    at = np.searchsorted(rows.t_s, rev.t_s)
    hit = ~lost & (at < len(rows))
    hit[hit] = rows.t_s[at[hit]] == rev.t_s[hit]
    flex, abd = rows.flexion_deg.copy(), rows.abduction_deg.copy()
    quat, valid, unshown = rows.quat_wxyz.copy(), rows.valid.copy(), rows.unshown_rows().copy()
    flex[at[hit]], abd[at[hit]] = rev.flexion_deg[hit], rev.abduction_deg[hit]
    quat[at[hit]], valid[at[hit]] = rev.quat_wxyz[hit], rev.valid[hit]
    unshown[at[hit]] = rev.unshown_rows()[hit]
    merged = AngleBatch(rows.t_s, flex, abd, quat, valid, bridged=_bridged(rows), unshown=unshown)
    new = lost & (rev.t_s > after_s)
    if not new.any():
        return merged
    joined = _joined(merged, _sliced(rev, new))
    return _sliced(joined, np.argsort(joined.t_s, kind="stable"))


MIN_OFFSET_STEP_MPS2 = 0.005
"""The fusion follows the learnt accelerometer offset in steps this large (0.03 deg of tilt)."""


class OffsetSteps:
    """The accelerometer offset the fusion uses: the learnt one (``RestOffset``, which changes
    at rest only), followed in steps of at least ``MIN_OFFSET_STEP_MPS2``. Each step moves the
    fusion's low-passed gravity reading, and its inclination with it, as if the new offset had
    been removed all along (``propagate``'s ``offset_step``): left to the filter, the first
    top hold of a raise (teaching an offset of 0.08 g along a new direction) showed the leg
    3.5 deg off in 0.4 s, and VQF took the change for 1 deg/s of gyro bias, 2.4 deg off at
    the next raise's top."""

    def __init__(self) -> None:
        self.applied = np.zeros(3)

    def follow(self, learnt: FloatArray) -> tuple[FloatArray, FloatArray]:
        """(offset per row, the step taken at each row: zero at most rows)."""
        n, start = len(learnt), self.applied
        marks: list[int] = []
        pos, width = 0, 64
        while pos < n:  # vectorised search for each next step, in growing windows
            block = learnt[pos : pos + width]
            far = np.linalg.norm(block - self.applied, axis=1) >= MIN_OFFSET_STEP_MPS2
            if not far.any():
                pos, width = pos + width, 2 * width
                continue
            i = pos + int(np.argmax(far))
            self.applied = learnt[i]
            marks.append(i)
            pos, width = i + 1, 64
        at = np.asarray(marks, dtype=np.int64)
        levels = np.vstack([start[None, :], learnt[at]])
        offsets = levels[np.searchsorted(at, np.arange(n), side="right")]
        step = np.zeros((n, 3))
        step[at] = np.diff(levels, axis=0)
        return offsets, step


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
        revise_shown: bool = False,
    ) -> None:
        """``revise_shown``: every gap bridge's check revises all its rows, also those its
        wait (``HOLDS``) released before it (the one-shot ``compute_angles``); live, those
        stay as they were shown."""
        self.rate_hz, self.posture, self.leg = float(rate_hz), posture, leg
        self._revise_shown = revise_shown
        self._offset = RestOffset(rate_hz) if rest_offset else None
        self._knows(calibration)
        self._steps = OffsetSteps()
        self.calibration = calibration
        self._checker = SampleChecker(rate_hz, data_quality or DataQualityParams())
        self._orientation = OrientationEstimator(rate_hz, orientation)
        self._tracker = None if calibration else CalibrationTracker(rate_hz, posture, leg)
        self._last_gyr = np.zeros((2, 3))  # the gyro of the two received samples fused last
        self._gaps = GapWatch(rate_hz)
        self._repairs = self._new_repairs()
        self._n_settle, self._settle_left = max(1, round(SETTLE_S * rate_hz)), 0
        self._history: list[_Fed] = []
        self._calibrated_until_s = np.inf  # the calibration's last sample, once it is known
        self._rows_fed = 0
        self._waiting: _Arrived | None = None

    def update(self, batch: SampleBatch, *, last: bool = False) -> AngleBatch:
        """The angles of the batch's samples, and of one sample kept from the batch before.

        A batch's last sample that follows lost samples waits for the next batch: the gap's
        bridge needs the rate's change out of the gap (``GapBridges.slope_known``), which the
        sample after it gives. Live, notifications carry 1-2 samples, so the sample after a
        burst was often a batch's last; bridged without its slope, 118 realistic knee-drive
        sets read 0.894 deg fed 2 samples at a time against 0.876 fed 10 (5 and 4 sets over
        1.5 deg); waiting, 0.855 and 0.856 (3 and 3). ``last``: nothing follows, nothing
        waits."""
        arrived = _Arrived.of(batch)
        if self._waiting is not None:
            arrived, self._waiting = self._waiting.then(arrived), None
        if not last and self._checker.ends_after_gap(*arrived.samples):
            arrived, self._waiting = arrived.part(slice(None, -1)), arrived.part(slice(-1, None))
        if not len(arrived.t_s):  # nothing to fuse: nothing changes, a held bridge stays held
            return self._nothing_new()
        return self._update(arrived)

    def flush(self) -> AngleBatch:
        """The sample waiting for its successor, if any, fused without it (nothing follows)."""
        waiting, self._waiting = self._waiting, None
        return self._nothing_new() if waiting is None else self._update(waiting)

    def _update(self, batch: _Arrived) -> AngleBatch:
        gyr, raw = batch.gyr_radps, batch.acc_mps2
        checked = self._checker.check(*batch.samples)
        offsets, step = np.zeros_like(raw), None
        if self._offset is not None:  # the accelerometer's own offset, learnt at rest
            lost = (checked.missing_before > 0) | checked.reset_before
            offsets, step = self._steps.follow(self._offset.update(raw, gyr, checked.valid, lost))
        acc = raw - offsets
        held_gyr = hold_last_valid(gyr, checked.valid, self._last_gyr[-1])
        lever = None if self.calibration is None else self.calibration.lever_arm_in_sensor_m
        plan = self._gaps.plan(
            checked.missing_before, self._checker.gap_kind(checked), acc, gyr, checked.acc_ok,
            (held_gyr, self._last_gyr), lying=self.posture is Posture.SUPINE,
        )  # fmt: skip
        settling, self._settle_left = probation(
            checked.reset_before, self._settle_left, self._n_settle
        )
        fed = _Fed(batch.t_s, gyr, raw, checked, self._last_gyr, plan, settling, self._rows_fed)
        self._rows_fed += len(batch.t_s)
        quat, valid, self._last_gyr, x, bridges = self._fuse(
            fed, self._orientation, acc, lever, self._repairs, offset_step=step
        )
        calibration = self.calibration  # angles use what was known before this batch
        if self._tracker is not None:
            self._history = _recent([*self._history, fed], HISTORY_S * self.rate_hz)
        progress = self._track(fed.t_s, gyr, raw, quat, valid)  # the mounting keeps raw neutral
        out = _batch(batch.t_s, quat, valid, calibration, checked.events, progress, offsets)
        unsure = self._unsure(plan, valid)
        revision, held = self._repairs.revise(
            fed.t_s, x, bridges, (checked.valid & ~settling, valid), offsets, calibration, unsure
        )
        out = replace(out, revision=revision, held_from_s=held, unshown=unsure)
        if calibration is None and self.calibration is not None:
            out = replace(out, backfill=self._fuse_again(self.calibration))
        return out

    def _nothing_new(self) -> AngleBatch:
        held = self._repairs.held
        none = np.zeros(0)
        return AngleBatch(none, none, none, np.zeros((0, 4)), np.zeros(0, dtype=bool),
                          held_from_s=self._repairs.released_s if len(held) else None)  # fmt: skip

    def _fuse(
        self,
        fed: _Fed,
        estimator: OrientationEstimator,
        acc: FloatArray,
        lever_m: tuple[float, float, float] | None,
        repairs: _Repairs,
        *,
        offset_step: FloatArray | None = None,
    ) -> tuple[FloatArray, BoolArray, FloatArray, Expanded, Bridges]:
        """(quaternions, valid, the two received samples' gyro fused last, the expanded rows
        and their bridges) for one batch; ``offset_step``: see ``OffsetSteps``."""
        plan = fed.plan
        x = expand_checked(fed.checked, plan.bridges, acc, lever_m, self.rate_hz)
        quat, failed, bridges = propagate(
            estimator, x, fed.checked.reset_before, plan.check, plan.strict,
            waiting=plan.waiting, bridges=repairs.state, trusted=plan.trusted,
            early_n=_early_n(lever_m, self.rate_hz), offset_step=offset_step,
            lying=self.posture is Posture.SUPINE,
        )  # fmt: skip
        valid = fed.checked.valid & ~failed & ~self._hidden(plan) & ~fed.settling
        last = np.vstack([fed.last_gyr, x.gyr_radps[x.real_index]])[-2:]  # as one-shot has it
        return quat, valid, last, x, bridges

    def _fuse_again(self, calibration: MountingCalibration) -> AngleBatch:
        """The samples before the calibration, fused again knowing what it taught: the gyro
        bias from the start (unknown, it tilted the first raise by up to 2 deg) and the
        accelerometer offset learnt by the calibration's last sample. The samples after that
        one (up to a batch) fuse as live fuses the next batch. The live filter continues from
        this state."""
        estimator, bias = _knowing_still_bias(self.rate_hz, self._orientation.params, calibration)
        steps = OffsetSteps()
        steps.applied = self._offset_at_calibration()
        repairs = self._new_repairs()
        revisions: list[AngleBatch] = []
        held: float | None = None
        parts, unsures, offsets = [], [], []
        due = bias
        for f in self._history:
            after = int(np.searchsorted(f.t_s, self._calibrated_until_s, side="right"))
            offset, step = self._offsets_after_still(f, steps, after)
            acc = f.raw_acc - offset
            if due is not None and f.t_s[-1] >= self._calibrated_until_s:
                self._bias_after_still(estimator, f, acc, due, after)
                due = None
            # No lever arm: fitted on these very swings, it made the state worse (seeds 100-111);
            # after them, as live fuses the samples that follow
            acc = self._lever_after_still(f, acc, calibration.lever_arm_in_sensor_m, after)
            part = self._fuse(f, estimator, acc, None, repairs, offset_step=step)
            parts.append(part)
            usable = (f.checked.valid & ~f.settling, part[1])
            unsure = self._unsure(f.plan, part[1])
            rev, held = repairs.revise(f.t_s, part[3], part[4], usable, offset, calibration,
                                       unsure)  # fmt: skip
            revisions += [] if rev is None else [rev]
            unsures.append(unsure)
            offsets.append(offset)
        self._steps = steps  # the state fused with it
        if due is not None:
            estimator.set_gyro_bias(due)
        self._orientation, history, self._history = estimator, self._history, []
        self._repairs = repairs
        t = np.concatenate([f.t_s for f in history])
        quat = np.concatenate([p[0] for p in parts])
        valid = np.concatenate([p[1] for p in parts])
        out = _batch(t, quat, valid.astype(bool), calibration, (), None, np.vstack(offsets))
        revision = functools.reduce(_joined, revisions) if revisions else None
        return replace(out, revision=revision, held_from_s=held, unshown=np.concatenate(unsures))

    def _offsets_after_still(
        self, fed: _Fed, steps: OffsetSteps, after: int
    ) -> tuple[FloatArray, FloatArray | None]:
        """(offset per row, steps) for the back-fill of ``fed``: the offset at the
        calibration's last sample, then, from row ``after`` on, followed as live follows it
        (``OffsetSteps``)."""
        offset = np.tile(steps.applied, (len(fed.t_s), 1))
        if self._offset is None or after == len(fed.t_s):
            return offset, None
        step = np.zeros_like(offset)
        learnt = self._offset.offsets_at(fed.first_row + np.arange(after, len(fed.t_s)))
        offset[after:], step[after:] = steps.follow(learnt)
        return offset, step

    def _offset_at_calibration(self) -> FloatArray:
        """The accelerometer offset learnt up to the calibration's last sample (not the
        batch's end: the same however the batches were cut)."""
        if self._offset is None:
            return np.zeros(3)
        for f in reversed(self._history):
            k = int(np.searchsorted(f.t_s, self._calibrated_until_s, side="right"))
            if k:
                at = np.array([f.first_row + k - 1])
                return np.asarray(self._offset.offsets_at(at)[0], dtype=np.float64)
        return self._offset.offset_mps2

    def _lever_after_still(
        self, fed: _Fed, acc: FloatArray, lever_m: tuple[float, float, float] | None, after: int
    ) -> FloatArray:
        """``acc`` with the lever arm's acceleration removed from row ``after`` on (the
        samples after the calibration's last one), as the live fusion removes it from those
        after the batch that completed it (``expand_checked``): the same samples, the same
        fusion, wherever the batches end."""
        if lever_m is None or after == len(fed.t_s):
            return acc
        b = fed.plan.bridges
        done = compensate(acc, b.gyr, b.prev[-1], np.array(lever_m), self.rate_hz,
                          no_history=fed.checked.missing_before > 0)  # fmt: skip
        return np.vstack([acc[:after], done[after:]])

    def _bias_after_still(
        self,
        estimator: OrientationEstimator,
        fed: _Fed,
        acc: FloatArray,
        bias: FloatArray,
        after: int,
    ) -> None:
        """Set the still phases' gyro bias once the calibration's last sample is fused
        (``fed`` holds it): VQF's motion estimate drifts during the swings, the still wins.
        At that sample, not the batch's end: the samples after it fuse on from the bias set,
        whether here or live after the back-fill, however the batches were cut."""
        x = expand_checked(fed.checked, fed.plan.bridges, acc, None, self.rate_hz)
        estimator.set_gyro_bias_after(bias, int(x.real_index[after - 1]) + 1 if after else 0)

    def _knows(self, calibration: MountingCalibration | None) -> None:
        """The offset's windows between rests count once the mounting is known."""
        if self._offset is not None and calibration is not None:
            self._offset.mounting_known(calibration.lever_arm_in_sensor_m)

    def _new_repairs(self) -> _Repairs:
        return _Repairs(self._gaps.calm_n, HOLDS[self.posture], revise_shown=self._revise_shown)

    def _hidden(self, plan: GapPlan) -> BoolArray:
        """Lying, the angles after a blind bridge are hidden until its check. Standing, they
        count and wait for the check unshown, as an untrusted bridge's (``_unsure``): hidden,
        the reps in that wait (up to 2 s; swings never rest) were lost. At 50 Hz, where a
        20-sample burst is 0.4 s and blind, 16 of 520 realistic sets (``bench_angles``'
        sampling, 33000-33059) were one or two reps short, and one of ``bench_reps``' 160
        (lateral swings, three bursts in 2 s)."""
        if self.posture is Posture.SUPINE:
            return plan.hidden
        return np.zeros(len(plan.hidden), dtype=bool)

    def _unsure(self, plan: GapPlan, valid: BoolArray) -> BoolArray:
        """Standing, the valid rows after an untrusted or blind bridge until its check (quick):
        counted, not shown (``AngleBatch.unshown``). Lying, a raise halts at its top, where the
        lying rules check it within tenths of a second: shown as they stand."""
        if self.posture is Posture.SUPINE:
            return np.zeros(len(valid), dtype=bool)
        quick = (plan.waiting == GapKind.UNTRUSTED) | (plan.waiting == GapKind.BLIND)
        return np.asarray(quick & valid)

    def _track(
        self, t_s: FloatArray, gyr: FloatArray, acc: FloatArray, quat: FloatArray, valid: BoolArray
    ) -> CalibrationProgress | None:
        if self._tracker is None:
            return None
        progress = self._tracker.update(gyr[valid], acc[valid], quat[valid], t_s[valid])
        if self._tracker.calibration is not None:
            until = self._tracker.calibrated_until_s
            self._calibrated_until_s = np.inf if until is None else until
            self.calibration, self._tracker = self._tracker.calibration, None
            self._knows(self.calibration)
        return progress


def _early_n(lever_m: tuple[float, float, float] | None, rate_hz: float) -> int:
    """Samples after an untrusted bridge that first estimate its error: none without a lever
    arm (the accelerometer then still holds the leg's own acceleration)."""
    return 0 if lever_m is None else max(1, round(EARLY_S * rate_hz))


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
    start with the calibration routine. ``offline=False`` gives the live fusion with every
    gap bridge's check applied (at the received samples, as revised; ``revision`` has the
    lost samples bridged); live, rows whose wait for their bridge's check ran out (``HOLDS``)
    keep the values first shown, so the two can differ there;
    offline, the accelerometer offset learnt from all rest periods applies throughout."""
    learn = offline and rest_offset
    offset = (
        _learnt_offset(t_s, acc_mps2, gyr_radps, rate_hz, calibration) if learn else np.zeros(3)
    )
    if calibration is None:  # calibrate on a first pass, then fuse again with its lever arm
        quat, valid, _ = _fuse(t_s, acc_mps2 - offset, gyr_radps, rate_hz, offline,
                               orientation, data_quality, None, posture)  # fmt: skip
        calibration = calibrate_mounting(gyr_radps[valid], acc_mps2[valid], quat[valid], rate_hz,
                                         posture=posture, leg=leg, t_s=t_s[valid])  # fmt: skip
        if learn:  # with the windows between rests (``RestOffset.mounted``)
            offset = _learnt_offset(t_s, acc_mps2, gyr_radps, rate_hz, calibration)
    if not offline:
        pipe = AnglePipeline(
            rate_hz, posture, leg, calibration, orientation=orientation,
            data_quality=data_quality, rest_offset=rest_offset, revise_shown=True,
        )  # fmt: skip
        out = pipe.update(SampleBatch("offline", t_s, acc_mps2, gyr_radps), last=True)
        rows = Published().add_all(out)  # every row released: nothing follows to wait for
        got = _sliced(rows, ~_bridged(rows))  # the received samples, revised as shown
        return replace(out, flexion_deg=got.flexion_deg, abduction_deg=got.abduction_deg,
                       quat_wxyz=got.quat_wxyz, valid=got.valid)  # fmt: skip
    quat, valid, events = _fuse(t_s, acc_mps2 - offset, gyr_radps, rate_hz, offline,
                                orientation, data_quality, calibration, posture)  # fmt: skip
    offsets = np.broadcast_to(offset, (len(t_s), 3))
    return _batch(t_s, quat, valid, calibration, events, None, offsets)


def _learnt_offset(
    t_s: FloatArray,
    acc_mps2: FloatArray,
    gyr_radps: FloatArray,
    rate_hz: float,
    calibration: MountingCalibration | None,
) -> FloatArray:
    """The accelerometer offset learnt over a whole recording (``RestOffset``)."""
    rest = RestOffset(rate_hz)
    if calibration is not None:
        rest.mounting_known(calibration.lever_arm_in_sensor_m)
    finite = np.isfinite(acc_mps2).all(axis=1) & np.isfinite(gyr_radps).all(axis=1)
    with np.errstate(invalid="ignore"):  # NaN times: no window crosses them
        steady = np.diff(t_s) < 1.5 / rate_hz
    return rest.learn(acc_mps2, gyr_radps, np.asarray(finite, dtype=bool),
                      np.concatenate([[False], ~steady]))  # fmt: skip


def _fuse(  # noqa: PLR0917
    t_s: FloatArray,
    acc_mps2: FloatArray,
    gyr_radps: FloatArray,
    rate_hz: float,
    offline: bool,
    orientation: OrientationParams,
    data_quality: DataQualityParams | None,
    calibration: MountingCalibration | None,
    posture: Posture,
) -> tuple[FloatArray, BoolArray, tuple[DataQualityEvent, ...]]:
    """One-shot orientation (causal, or acausal between the restarts a causal pass found)."""
    checker = SampleChecker(rate_hz, data_quality or DataQualityParams())
    checked = checker.check(t_s, acc_mps2, gyr_radps)
    lever = None if calibration is None else calibration.lever_arm_in_sensor_m
    # The gyro bias the calibration's still phase measured, known from the first sample (as
    # the live session fuses its first samples again): unknown, a first raise with 0.4 s lost
    # in its hold was exported 2.2 deg high where the live trace had it right (seed 19013).
    causal, bias = _knowing_still_bias(rate_hz, orientation, calibration)
    kind = checker.gap_kind(checked)
    watch = GapWatch(rate_hz)
    held = hold_last_valid(gyr_radps, checked.valid, np.zeros(3))
    plan = watch.plan(
        checked.missing_before, kind, acc_mps2, gyr_radps, checked.acc_ok,
        (held, np.zeros((2, 3))), lying=posture is Posture.SUPINE,
    )  # fmt: skip
    x = expand_checked(checked, plan.bridges, acc_mps2, lever, rate_hz)
    settling, _ = probation(checked.reset_before, 0, max(1, round(SETTLE_S * rate_hz)))
    quat, failed, bridges = propagate(
        causal, x, checked.reset_before, plan.check, plan.strict, waiting=plan.waiting,
        bridges=BridgeState(watch.calm_n, HOLDS[posture].fusion_s), trusted=plan.trusted,
        early_n=_early_n(lever, rate_hz), lying=posture is Posture.SUPINE,
    )  # fmt: skip
    valid = checked.valid & ~failed & ~plan.hidden & ~settling
    repaired, anchored = _repaired(x, bridges)
    repaired[~anchored] = np.nan  # a bridge whose wait ran out: the fusion's own estimate
    valid = np.where(anchored, checked.valid & ~settling, valid)
    if offline:
        # Acausal fusion restarts at every untrusted bridge, and after each one repaired (whose
        # rows keep the repair): its backward pass fills the start. It estimates the gyro bias
        # left after the one known.
        span = np.isfinite(repaired[:, 0])
        edges = np.diff(np.concatenate([[False], span])) != 0  # first rows in and after
        resets = checked.reset_before | checked.fast_gap_before | edges
        resets |= np.concatenate([[False], failed[:-1]])
        gyr = x.gyr_radps if bias is None else x.gyr_radps - bias
        parts = [
            estimate_orientation_offline(gyr[s], x.acc_mps2[s], rate_hz, orientation, x.acc_ok[s])
            for s in _segments(x, resets)
        ]
        quat = np.concatenate(parts)[x.real_index] if parts else np.empty((0, 4))
    quat = np.where(np.isfinite(repaired[:, :1]), repaired, quat)
    return quat, valid, checked.events


def _knowing_still_bias(
    rate_hz: float, params: OrientationParams, calibration: MountingCalibration | None
) -> tuple[OrientationEstimator, FloatArray | None]:
    """A new orientation filter set to the gyro bias the calibration's still phase measured,
    and that bias (None: no calibration, or one that measured none)."""
    estimator = OrientationEstimator(rate_hz, params)
    known = None if calibration is None else calibration.rest_gyr_radps
    bias = None if known is None else np.asarray(known, dtype=np.float64)
    if bias is not None:
        estimator.set_gyro_bias(bias)
    return estimator, bias


def _repaired(x: Expanded, bridges: Bridges) -> tuple[FloatArray, BoolArray]:
    """Per received sample: the repaired attitude inside a resolved untrusted bridge (NaN
    elsewhere), and whether a calm check anchored it."""
    out = np.full((len(x.real_index), 4), np.nan)
    anchored = np.zeros(len(x.real_index), dtype=bool)
    span = bridges.span_x[x.real_index]
    for fix in bridges.fixes:
        mine = span == fix.span
        rows = x.real_index[mine]
        turn = partial_rotation(fix.correction, bridges.share_x[rows])
        out[mine] = quat_multiply(turn, bridges.quat_x[rows])
        anchored[mine] = fix.anchored
    return out, anchored
