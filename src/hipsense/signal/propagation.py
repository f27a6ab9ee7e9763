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
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from hipsense.samples import STANDARD_GRAVITY_MPS2
from hipsense.signal.data_quality import GapKind
from hipsense.signal.gap_fill import Expanded, GapBridges, gap_bridges
from hipsense.signal.lever_arm import GyroTrend
from hipsense.signal.orientation import (
    OrientationEstimator,
    quat_conjugate,
    quat_from_rotvec,
    quat_multiply,
    quat_rotate,
    up_in_sensor,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

REST_RATE_RADPS = np.radians(5.0)
REST_NORM_ALPHA = 0.02
TRUSTED_SPIN_UP_RADPS2 = 3.0
STEADY_SPIN_UP_RADPS2 = 1.5
"""A span cut short by the next gap anchors on its few trusted samples only where the leg
was not slowing either: two samples at the end of a raise, slowing at 2.6 rad/s^2, tilted it
by 2.6 deg (no lever arm lying down). A calm check's run of samples is less fragile."""
CUT_CORRECTING_ROWS = 2
"""Standing, a cut span's trusted samples correct its bridge only if there are this many: one
alone may confirm the bridge (a correction under the check's limit: the span closes as it
stands), not move it. Its accelerometer has the lever arm's acceleration removed with the
gyro's change from the sample before, and through a foot strike's ringing that change is the
tissue's, not the thigh's: seed 26128 (100 Hz), a span cut 0.5 s on by the next burst, whose
one trusted sample asked 6.9 deg where the bridge was 1.4 deg off; its rows were shown 7 deg
off. A sample that confirms its bridge still closes the span (seed 21255: 0.66 deg RMSE, 0.92
left open for the next span)."""
CHECK_OUTLIER_DEG = 5.0
"""A check reads its calm run's mean without the rows this far from the run's median
direction: a run that ends as the leg sets off reads the body's push in its last rows, |a|
still close to g, before the gyro shows the drive. Seed 31224 (100 Hz): the last two of ten
rows 7.0 and 12.8 deg from the median, the others within 3.3; the whole run's mean, 2.3 deg
off a filter that a span's mean had anchored 1.4 s before, was taken by the strict check,
and the set was shown 2-2.9 deg off for 1.8 s. Over 118 checks on 50 development sets, 99 %
of the rows lay within 3.1 deg of their run's median; the three beyond 5 deg each ended a
run as the leg set off. A span anchored at its check still reads the run whole: there the
push made 31200's mean 3.3 deg, without it 1.97, the bridge 2.0 off; under the 2 deg a
correction needs, nothing was taken, and the set went 0.88 -> 1.10 deg RMSE."""
LYING_RATE_RADPS = np.radians(10.0)
"""Lying, no lever arm removes it (none is fitted): a leg slowing down reads its tangential
acceleration (spin-up x 0.2-0.25 m) as tilt. At 11-28 deg/s, slowing at the end of a
straight leg raise, a check read the top 3 deg off. A spin-up limit cannot tell: soft-tissue
wobble after the leg lands swings the gyro by 2-3 rad/s^2 at rest."""
LYING_TREND_RADPS2 = 0.5
"""...and a check's window must not be slowing (or speeding up) on the whole either: its mean
accelerometer reads the mean angular acceleration x 0.2-0.35 m. A raise settling at its top
(9 -> 1 deg/s in 0.08 s, under 3 rad/s^2 from sample to sample) measured the bridge's error
2.3 deg short."""
MAX_GAP_MISMATCH_DEG = 8.0
STRICT_MISMATCH_DEG = 2.0
"""A check's correction smaller than this is left alone: the accelerometer's own bias at a
new pose (its offset learnt at rest only along the directions rested in)..."""
LYING_MIN_CORRECTION_DEG = 1.0
"""...except lying, where a check waits for a settled leg (``LYING_TREND_RADPS2``): a raise
begun in a lost burst was shown 1.5-1.8 deg high at its top, its 1.5 deg correction left
alone (on 90 uncalibrated development sets the smaller limit set no top further off)."""
QUICK_TAU_ACC_S = 0.5
"""While samples are hidden after an untrusted bridge, the accelerometer pulls the
inclination back this fast (x4 the usual), so a wrong bridge is gone when they show again."""
MAX_SLOPE_TURN_DEG = 3.0
"""A bridge whose cubic departs this far from the straight line between the edge rates is
untrusted: a knee drive starting inside a 0.2 s gap made the cubic dip 4-10 deg below it..."""
SHAPED_TURN_DEG = 5.0
"""...but standing, one that found the leg's stop, start or rest in its gap
(``GapBridges.shaped``) only beyond this: its shape departs from the line by what the leg did
there. Seed 21033 (200 Hz): a drive landing in a 0.1 s burst, its stop 0.2 deg off (the
cubic 4.0), turned 3.0 deg from the line; untrusted, its rows were hidden for 1.6 s. Further
off the line the shape is less sure: in 28053 (100 Hz, 6.8 deg) the stop was 2.7 deg off,
and untrusted, its early estimate brought it within 2..."""
LEAN_TURN_DEG = 2.0
"""...and one departing this far, standing, has its watched span's rows held for the repair
(``GapKind.LEANING``, ``LEANING_RULE``): the edge slopes are single sample differences, and
at a foot strike they are its ringing. Seed 22002 (200 Hz): a drive landed in a 0.1 s
burst, ringing at 53 deg/s and -21 deg/s per sample after it; the cubic rose to 96 deg/s
between edges at 55 and turned 6.5 deg too far (2.07 deg from the line). Its mean, read 0.6
s on, was right, and the rows before it had been shown 7.7 deg off."""
DOUBT_DEG = 4.0
"""A bridge trusted by its length is doubtful, standing, where the leg's rate changed across
it by so much that a start or stop inside it could put it this far off
(``GapBridges.start_stop_deg``): a drive setting off in a 0.1 s burst just after a foot
strike was bridged 5.7 deg too far, and the fusion took 2.5 s at rest to bring it back (seed
16001); one halting in a 0.2 s burst, 16 deg (seed 10298). Its span is tracked and checked
as an untrusted bridge's, but its rows are fused at the usual pace and shown: most such
bridges are right, and the quick fusion in a drive's swing moved 200 Hz sets by tenths of
a degree. A bridge that found the start or stop in its gap (``GapBridges.shaped``) is not
doubted: its shape holds it, and the mean reads the drive's own push (seed 21251, a drive
setting off in a 0.1 s burst: the start bridge within 0.1 deg, its mean 4.3 deg off)..."""
DOUBT_MIN_MEAN_DEG = 4.0
"""...and its mean correction (``_mean_cuts``) is taken only beyond this: the hip
bobs as the foot lands, and on bridges that were right the mean read 3.4-3.6 deg. A bridge
4.5 deg off read 4.1 (seed 16001, the rate's change out of the gap known: the drive's
first samples after it). Left to the fusion, it stood at rest for 1.2 s..."""
INHERITED_MEAN_MIN_DEG = 3.0
"""...but from this where the span before it, cut short by its burst, left the filter
unchecked and its span took that filter over: no check has passed since the earlier burst,
and this mean is the first. Seed 31115 (200 Hz): three bursts in 0.6 s, the last at a rest
between drives, doubted and bridged 3.2 deg off; its mean read 3.4 deg and was left, and the
set was shown up to 5.7 deg off for 2.3 s (2.29 deg RMSE, 0.94 with the mean taken)."""
LYING_TAPER = 2.0
"""Lying, a leg eases into a rest inside a gap and out of it (``gap_bridges``' ``taper``)."""
# A trusted bridge standing is at least watched (``GapKind.WATCHED``): a rest whose edges
# ring with the foot strike can hide the leg's rebound from its landing. Seed 20011 (100 Hz):
# 0.2 s lost 0.02 s after a drive landed, 3 and 9 deg/s at its edges, the thigh coming back
# 3 deg at up to 54 deg/s inside it; the next drive set off at once, and with no calm run to
# check it the bridge stood 3.5-4.6 deg off for 2 s. Its span is tracked as a doubtful
# bridge's, fused and shown alike, and only its mean may correct it (``WATCHED_RULE``).
STRICT_KINDS = frozenset({GapKind.UNTRUSTED, GapKind.BLIND, GapKind.DOUBTFUL})
"""Bridges whose check is strict: it re-anchors on a smaller mismatch and closes the span."""
SHOWN_KINDS = (GapKind.DOUBTFUL, GapKind.WATCHED, GapKind.LEANING)
"""Bridges whose span is tracked but fused at the usual pace and shown..."""
WATCHED_KINDS = (GapKind.WATCHED, GapKind.LEANING)
"""...and of those, the ones judged by their mean alone (``WATCHED_RULE``, ``LEANING_RULE``)."""
NOT_WAITING = -1
"""``GapPlan.waiting`` of a sample after no gap's wait."""
EARLY_S = 0.1
"""An untrusted bridge's error is first estimated from this much of what follows it..."""
EARLY_RATE_RADPS = np.radians(60.0)
"""...if the leg turned slower than this on average then (in motion the accelerometer's
estimate misses by up to 20 deg, even with the lever arm's acceleration removed)..."""
EARLY_SPIN_UP_RADPS2 = 10.0
"""...and its rate changed little from first to last: a swing's turning point is slow too,
but its spin-up (20-40 rad/s^2) times what the fitted lever arm misses (2-3 cm) tilts the
estimate by several degrees; a foot strike's wobble ends where it began..."""
EARLY_MIN_DEG = 5.0
EARLY_SHRINK_DEG = 3.0
"""...and taken only where it exceeds ``EARLY_MIN_DEG``, less ``EARLY_SHRINK_DEG`` (what such
an estimate can miss by: foot strikes, soft-tissue wobble, the accelerometer's bias)."""
TRUSTED_ACC_DEV_MPS2 = 0.4
TRUSTED_RATE_RADPS = np.radians(30.0)
MIN_SHARE_TURN_DEG = 5.0
"""A bridge turning the leg this far gets its correction spread as it turned (``_ramp``)."""
EARLY_ROWS = 64  # world-frame accelerometer rows kept per span for ``_early``
WATCH_MEAN_S = 0.6
"""A watched span's mean is read once it spans this long (``MEAN_MIN_S`` is for bridges
known to be unsure), when the leg turns as slowly as it did after the gap: read at a drive's
top 0.45 s after a rest, it found bridges that were right 2.7-3.0 deg off (seeds 25034,
26125). Chosen on 900 realistic knee-drive sets with the span's rows held for the repair:
0.4 s and 0.8 s gave 0.7547 and 0.7540 deg mean, this 0.7531..."""
WATCH_MIN_DEG = 2.5
"""...and taken beyond this only (3 deg left 23243's bridge, 3.3 deg off, standing); below
it the filter is left alone: it fused the span's accelerometer at its usual pace."""
MEAN_MIN_S = 0.2
"""An untrusted bridge's error is measured from the mean of everything received since the
gap (the accelerometer in the gyro-carried world frame, the lever arm's acceleration
removed) once it spans this long. The hip stays put, so that mean is gravity plus the
sensor's change of velocity over the span divided by its length: only the part of the
velocity the lever arm misses is left (``LEVER_MISS_M`` x the change of rate)..."""
LEVER_MISS_M = 0.03
"""...the fitted lever arm's miss (2.5 cm median, 7 cm worst on development seeds)..."""
MEAN_MAX_ERR_DEG = 1.0
"""...so the mean is taken once what that miss can tilt it by is under this: when the leg
turns at the rate it turned at just after the gap again, typically at rest again after a
drive. A drive halted in a 0.2 s gap at its top, resting 0.05 s (no calm check) and lowered,
was shown 9 deg off for 0.4 s and corrected only by the quickened fusion..."""
MEAN_SETTLED_DEG = 1.0
"""...and the mean itself has turned at most this over ``MEAN_HELD_S``: at 0.2 s it still
carries the hip's change of velocity, which the lever arm's bound does not see (seed 21102,
200 Hz: a right bridge read 4.48 deg, and 1.46 deg 0.03 s later). It is waited for only
until a held span's rows are shown (``BridgeState.mean_by_s``): for longer, reps were
confirmed later (straight-leg marches' p95 0.31 s). Over 2,100 realistic knee-drive sets
37 got better by more than 0.1 deg and 11 worse, 17 -> 14 sets over 1.5 deg..."""
MEAN_HELD_S = 0.05
"""...and both have held for this long: not a drive's rate passing through it. Chosen on 900
realistic knee-drive sets, the row planned before fusing (``_mean_cuts``): the first row
under the bound gave 0.7735 deg mean, this 0.7688. 0.1 s (0.7634) and 0.2 s (0.7620) miss a
drive's top, where the bound holds for 0.06 s, and read the mean after the 0.5 s a span's
rows are held: a drive setting off in a burst was shown 3.8 deg off (seed 16001, 200 Hz)."""


@dataclass(frozen=True)
class SpanRule:
    """How a span is judged, by the bridge that opened it."""

    early: bool
    """Its first received rows may correct it at once (``_early``)."""
    mean_min_s: float
    """Its mean is read once it spans this long (``_mean_cuts``)..."""
    mean_held_s: float
    """...and the lever arm's bound has held this long..."""
    mean_min_deg: float
    """...and taken beyond this..."""
    keep_filter: bool
    """...else the filter is left alone (it fused the span's accelerometer at its usual pace)
    instead of being put on the gyro-carried attitude."""
    anchor_cut: bool
    """Cut short by the next gap, it anchors on its latest trusted rows, and a span opened by
    that gap inherits its unchecked filter (``_whole_over_rest``), and this rule if it would
    only be watched."""
    repairs_rows: bool = True
    """Its rows are published as a bridge's (``Bridges``: held for its repair, then revised);
    else as the filter fused them, its repair only the filter's re-anchoring from then on."""


UNTRUSTED_RULE = SpanRule(early=True, mean_min_s=MEAN_MIN_S, mean_held_s=MEAN_HELD_S,
                          mean_min_deg=MEAN_MAX_ERR_DEG, keep_filter=False,
                          anchor_cut=True)  # fmt: skip
"""An untrusted bridge's span: its mean is taken from what the lever arm's miss can tilt it
by (``MEAN_MAX_ERR_DEG``), not from a calm check's 2 deg. Seed 33188 (100 Hz,
sensor-calibrated): a 0.2 s burst in a drive's rise was bridged 2.5 deg off the true up. The
mean, read at the rest after the drive, found 1.6 deg and was left, and the drive's rows
were shown 2.3-3.6 deg off; taken, it leaves the bridge 0.9 deg off and the rows 0.7-2.0."""
DOUBTED_RULE = SpanRule(early=True, mean_min_s=MEAN_MIN_S, mean_held_s=MEAN_HELD_S,
                        mean_min_deg=DOUBT_MIN_MEAN_DEG, keep_filter=False,
                        anchor_cut=True)  # fmt: skip
WATCHED_RULE = SpanRule(early=False, mean_min_s=WATCH_MEAN_S, mean_held_s=0.0,
                        mean_min_deg=WATCH_MIN_DEG, keep_filter=True, anchor_cut=False,
                        repairs_rows=False)  # fmt: skip
"""A trusted bridge's span: left to the fusion and its own check unless its mean finds it
clearly off, and shown as fused: it holds back no row (a trusted burst is common, and the
display and the reps would wait 0.5 s after each). Neither an early estimate nor a cut
span's few trusted rows are sure enough for a bridge with nothing wrong to see at its edges
(a drive setting off just after a burst at rest read 6 deg in its last rows before the next
burst, seed 25187)."""
LEANING_RULE = replace(WATCHED_RULE, repairs_rows=True)
"""A leaning bridge's span (``GapKind.LEANING``): watched, its rows held for the repair as an
untrusted bridge's are. Only some trusted bridges lean, so the display and the reps wait
after those alone; the mean, read at 0.6 s, revises the rows still held then."""
INHERITED_DOUBTED_RULE = replace(DOUBTED_RULE, mean_min_deg=INHERITED_MEAN_MIN_DEG)
"""A doubted span that took over a filter left unchecked by the span before it, cut short
(``INHERITED_MEAN_MIN_DEG``; ``_Spans.enter``)."""
INHERITED_RULES = {DOUBTED_RULE: INHERITED_DOUBTED_RULE}
"""The rule a span judged by a key here takes where it inherits an unchecked filter."""
SPAN_RULES = {
    GapKind.UNTRUSTED: UNTRUSTED_RULE,
    GapKind.BLIND: UNTRUSTED_RULE,
    GapKind.DOUBTFUL: DOUBTED_RULE,
    GapKind.WATCHED: WATCHED_RULE,
    GapKind.LEANING: LEANING_RULE,
}
"""The rule of a span, by the kind of the bridge that opened it."""
MEAN_RULES = tuple(dict.fromkeys([*SPAN_RULES.values(), *INHERITED_RULES.values()]))
"""Every rule a span may be judged by (``_mean_cuts`` plans each one's mean)..."""
WATCHED_RULES = frozenset(SPAN_RULES[kind] for kind in WATCHED_KINDS)
"""...and those whose mean is read on watched rows only."""


def probation(trigger: BoolArray, carried: int, n: int) -> tuple[BoolArray, int]:
    """The ``n`` samples from each trigger on (``carried`` left from the previous batch)."""
    idx = np.arange(len(trigger))
    last = np.maximum.accumulate(np.where(trigger, idx, -(10**9))) if len(idx) else idx
    since = np.where(last >= 0, idx - last, idx + (n - carried))
    mask = since < n
    left = int(n - since[-1] - 1) if len(idx) and mask[-1] else 0
    return np.asarray(mask), max(left, 0)


@dataclass(frozen=True, eq=False)
class GapPlan:
    """``GapWatch.plan``'s decisions per received sample of one batch, and its gaps' bridges."""

    check: BoolArray
    """The first trusted sample after a gap: its accelerometer checks the bridge."""
    strict: BoolArray
    """A check after an untrusted or blind bridge: re-anchors on a smaller mismatch."""
    waiting: IntArray
    """Per sample: the ``GapKind`` of the bridge whose check it waits for, up to and with that
    check (``NOT_WAITING`` after none). Waiting on any but a trusted bridge, the samples are
    tracked as a span and, unless ``SHOWN_KINDS``, fused with a short accelerometer time
    constant; after a blind one their angles are hidden."""
    trusted: BoolArray
    """The accelerometer reads gravity alone (after a gap judged by the sample's spin-up into
    the next one): may anchor a span cut short by a gap."""
    bridges: GapBridges
    """How each gap is bridged: built once, so the bridge judged is the bridge inserted."""

    @property
    def hidden(self) -> BoolArray:
        """Angles hidden until the check (after a blind gap)."""
        return np.asarray(self.waiting == GapKind.BLIND)


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
        self._trend = GyroTrend(self._calm_n, rate_hz)  # the gyro rows before the batch kept
        # |a| at rest, learnt: an uncalibrated accelerometer can read 1 m/s^2 off g.
        self._rest_norm_zi = np.array([(1 - REST_NORM_ALPHA) * STANDARD_GRAVITY_MPS2])

    @property
    def calm_n(self) -> int:
        """Trusted samples in a row that make a check."""
        return self._calm_n

    def _trusted(
        self, acc: FloatArray, gyr: FloatArray, ok: BoolArray, lying: bool, gap: BoolArray
    ) -> tuple[BoolArray, BoolArray]:
        """Samples whose accelerometer reads gravity alone (slow, not (de)celerating, and
        with the length the sensor reads at rest; ``lying``, no lever arm is fitted: a
        stricter limit on the rate), and those that may anchor a span on their own: spin-up
        under ``STEADY_SPIN_UP_RADPS2``, a sample after a ``gap`` judged by its spin-up into
        the next sample instead of across the gap (where the leg may have moved)."""
        acc, gyr = np.where(ok[:, None], acc, 0.0), np.where(ok[:, None], gyr, 0.0)
        prev = np.vstack([self._last_gyr[None, :], gyr[:-1]]) if len(gyr) else gyr
        if len(gyr):
            self._last_gyr = gyr[-1]
        rate = np.linalg.norm(gyr, axis=1)
        spin_up = np.linalg.norm(gyr - prev, axis=1) * self.rate_hz
        spin_in = spin_up.copy()
        if len(gyr) > 1:
            after = np.flatnonzero(gap[:-1] & ~gap[1:])
            spin_in[after] = spin_up[after + 1]
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
        max_rate = LYING_RATE_RADPS if lying else TRUSTED_RATE_RADPS
        calm = ok & steady & (rate < max_rate)
        return np.asarray(calm & (spin_up < TRUSTED_SPIN_UP_RADPS2)), np.asarray(
            calm & (spin_in < STEADY_SPIN_UP_RADPS2)
        )

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

    def _settled(self, gyr: FloatArray, ok: BoolArray, lying: bool) -> BoolArray:
        """Samples ending ``calm_n`` rows whose gyro's least-squares trend (rad/s^2) stays
        under ``LYING_TREND_RADPS2`` (the same sums for any batch split); all of them unless
        ``lying``. The rows before the batch are kept either way, so a drill lying down that
        follows a standing one judges its first samples by the rows just before them."""
        if self._calm_n < 2 or not lying:
            self._trend.update(gyr, ok, np.empty(0, dtype=np.intp))  # the rows carried only
            return np.ones(len(gyr), dtype=bool)
        with np.errstate(invalid="ignore"):
            return np.asarray(self._trend.update(gyr, ok) < LYING_TREND_RADPS2)

    def plan(  # noqa: PLR0917
        self,
        missing: IntArray,
        kind: IntArray,
        acc: FloatArray,
        gyr: FloatArray,
        ok: BoolArray,
        fused: tuple[FloatArray, FloatArray],
        *,
        lying: bool = False,
    ) -> GapPlan:
        """The decisions per sample of the batch, and the bridges over its gaps (``GapPlan``).

        ``missing``: samples lost before each. ``kind`` per gap: its ``GapKind``, trusted,
        untrusted or blind. A trusted bridge whose cubic leans on steep edge slopes
        (a movement starting or stopping in the gap) is untrusted here; standing, the other
        trusted ones are doubtful, leaning or watched. ``fused``: the gyro the bridges are
        built from (invalid rows held) and the two rows fused before it. ``lying``: a supine
        drill (no lever arm removes the leg's own acceleration, so a doubtful or watched
        bridge's mean cannot be taken: none is).
        """
        gap = np.asarray(missing) > 0
        bridges = gap_bridges(
            *fused, missing, taper=LYING_TAPER if lying else 1.0, ringing=not lying
        )
        if gap.any():  # the usual batch has no gap: no bridge to judge
            turn_deg = bridges.turn_deg(self.rate_hz)
            steep = turn_deg > MAX_SLOPE_TURN_DEG
            if not lying:
                steep = np.where(bridges.shaped, turn_deg > SHAPED_TURN_DEG, steep)
            kind = np.where(gap & (kind == GapKind.TRUSTED) & steep, GapKind.UNTRUSTED, kind)
            if not lying:
                doubt = (bridges.start_stop_deg(self.rate_hz) > DOUBT_DEG) & ~bridges.shaped
                kind = np.where(gap & (kind == GapKind.TRUSTED) & doubt, GapKind.DOUBTFUL, kind)
                leaning = turn_deg > LEAN_TURN_DEG
                kind = np.where(gap & (kind == GapKind.TRUSTED) & leaning, GapKind.LEANING, kind)
                kind = np.where(gap & (kind == GapKind.TRUSTED), GapKind.WATCHED, kind)
        trusted, trusted_in = self._trusted(acc, gyr, ok, lying, gap)
        trust = self._calm(trusted, gap)
        trust &= self._settled(gyr, ok, lying)
        check, strict, waiting = self._waits(trust, gap, kind)
        return GapPlan(check, strict, waiting, trusted_in, bridges)

    def _waits(
        self, trust: BoolArray, gap: BoolArray, kind: IntArray
    ) -> tuple[BoolArray, BoolArray, IntArray]:
        """(check, strict, waiting): after each gap (and the wait carried over from the last
        batch), the samples up to its first ``trust``-ed one within ``max_wait_s`` wait with
        the gap's kind, and the check is there (strict after an untrusted, blind or doubtful
        bridge). One pass per gap."""
        n = len(gap)
        check, strict = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        waiting = np.full(n, NOT_WAITING, dtype=np.int64)
        starts = [(0, self._left, self._kind)] if self._left > 0 else []
        starts += [(int(i), self._max_wait, int(kind[i])) for i in np.flatnonzero(gap)]
        self._left, self._kind = 0, 0
        for k, (a, wait, what) in enumerate(starts):
            stop = min(starts[k + 1][0] if k + 1 < len(starts) else n, a + wait)
            found = np.flatnonzero(trust[a:stop])
            end = a + int(found[0]) + 1 if found.size else stop
            waiting[a:end] = what
            if found.size:
                check[end - 1], strict[end - 1] = True, what in STRICT_KINDS
            elif stop == n and a + wait > n:
                self._left, self._kind = a + wait - n, what
        return check, strict, waiting


def _mismatch(quat: FloatArray, acc: FloatArray, limit_deg: float) -> bool:
    cos = float(up_in_sensor(quat[None, :])[0] @ acc) / float(np.linalg.norm(acc))
    return bool(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))) > limit_deg)


def _ffill(values: FloatArray, first: float) -> FloatArray:
    """Forward-fill NaNs, starting from ``first``."""
    idx = np.where(np.isfinite(values), np.arange(len(values)), -1)
    idx = np.maximum.accumulate(idx) if len(idx) else idx
    return np.asarray(np.where(idx >= 0, values[np.maximum(idx, 0)], first), dtype=np.float64)


def _running_product(q: FloatArray) -> FloatArray:
    """q0, q0 q1, q0 q1 q2, ... (wxyz), in log2(N) vectorised passes."""
    out, step = q.copy(), 1
    while step < len(out):
        out[step:] = quat_multiply(out[:-step], out[step:])
        step *= 2
    return np.asarray(out / np.linalg.norm(out, axis=1, keepdims=True), dtype=np.float64)


def arc_to_up(v_world: FloatArray) -> FloatArray:
    """The shortest rotation (wxyz, horizontal axis) taking the direction ``v_world`` to up."""
    u = v_world / np.linalg.norm(v_world)
    q = np.array([1.0 + u[2], u[1], -u[0], 0.0])
    return np.asarray(q / np.linalg.norm(q), dtype=np.float64)


def partial_rotation(q: FloatArray, share: FloatArray) -> FloatArray:
    """``q`` (one rotation) scaled to each ``share`` of its angle, (N, 4)."""
    w = float(np.clip(q[0], -1.0, 1.0))
    half = np.arccos(abs(w))
    axis = q[1:] * np.sign(w or 1.0) / max(float(np.sin(half)), 1e-12)
    h = np.asarray(share, dtype=np.float64)[:, None] * half
    return np.hstack([np.cos(h), np.sin(h) * axis])


@dataclass(frozen=True, eq=False)
class Fix:
    """An untrusted bridge, resolved: rotate its rows by ``share`` x ``correction``."""

    span: int
    correction: FloatArray
    """World-frame rotation (wxyz) taking the gyro-bridged attitude to the anchored one."""
    anchored: bool
    """True at a calm check (the accelerometer's up); False when the wait ran out (the
    filter's own estimate, re-anchored quickly, is then the end point)."""
    at_row: int = 0
    """The batch's expanded row whose arrival decided it (a lost slot's: the received sample
    after it): the same sample however the batches were cut."""


@dataclass(frozen=True, eq=False)
class Bridges:
    """Per expanded row of one batch: the attitude to publish before any correction (inside an
    untrusted bridge's span: carried by the gyro alone from before the gap; elsewhere: the
    filter's), the share of the span's correction, and the span's id (-1 outside)."""

    quat_x: FloatArray
    share_x: FloatArray
    span_x: IntArray
    fixes: tuple[Fix, ...]


class BridgeState:
    """An untrusted bridge still waiting for its check, carried between batches."""

    def __init__(self, calm_n: int, mean_by_s: float = np.inf) -> None:
        self.calm_n = calm_n
        # From this long after a span's first row its mean no longer waits to settle, only
        # for the lever arm's bound: its held rows are shown from then (``_mean_cuts``).
        self.mean_by_s = mean_by_s
        self.open_span, self.next_span = -1, 0
        self.q_gyro = np.array([1.0, 0.0, 0.0, 0.0])  # unshifted attitude, gyro only
        self.bias = np.zeros(3)
        self.calm = np.empty((0, 3))  # world-frame accelerometer directions, latest rows
        self.trusted = np.empty((0, 3))  # the same, latest steady rows of the span
        self.pending = np.zeros((1, 3))  # the span's last received row, not confirmed yet
        self.pending_steady = False
        self.early = np.empty((0, 6))  # the span's first received rows: world-frame acc, gyro
        self.n_seen = 0  # the span's received rows so far
        self.n_rows = 0  # ...and all its rows, lost slots too
        # Its latest rows in a row within the mean's bound, and within it settled too
        # (``_mean_cuts``).
        self.bound_rows, self.settled_rows = 0, 0
        # Its running sums of the latest rows (``_mean_settled``), the last row's frame.
        self.mean_sums = np.zeros((0, 3))
        self.acc_sum = np.zeros(3)  # the span's world-frame accelerometer, summed
        self.last_out = np.array([1.0, 0.0, 0.0, 0.0])  # the filter's last output
        self.last_gyr = np.zeros(3)  # its gyro (to undo the output shift)
        self.last_gyro_out = np.array([1.0, 0.0, 0.0, 0.0])  # the gyro path's last output
        # The filter's world-frame accelerometer directions of the latest received rows since
        # the last gap (at most ``calm_n``): a check reads their mean (``_check_fails``).
        self.recent = np.empty((0, 3))
        self.rule = UNTRUSTED_RULE  # the open span's, by the bridge that opened it

    def note_recent(
        self, quat: FloatArray, acc: FloatArray, ok: BoolArray, slot: BoolArray
    ) -> None:
        """Keep the latest usable rows' world-frame accelerometer directions (``quat``: the
        filter's output per row), none from before the piece's last lost slot."""
        gaps = np.flatnonzero(slot)
        if gaps.size:
            self.recent = np.empty((0, 3))
            ok = ok & (np.arange(len(ok)) > gaps[-1])
        rows = np.flatnonzero(ok)[-self.calm_n :]  # only the kept ones: this runs per sample
        if rows.size:
            world = quat_rotate(quat[rows], acc[rows])
            world /= np.maximum(np.linalg.norm(world, axis=1, keepdims=True), 1e-12)
            self.recent = np.vstack([self.recent, world])[-self.calm_n :]

    def open(
        self, bias: FloatArray, gyr_before: FloatArray, shift_s: float, *, rule: SpanRule
    ) -> None:
        """Open the next span from the filter's last output (as re-anchored), its output shift
        undone along the gyro before the span: the gyro path starts there, its sums afresh."""
        self.bias, self.rule = bias, rule
        self.q_gyro = quat_multiply(self.last_out, quat_from_rotvec(-(gyr_before - bias) * shift_s))
        self.calm, self.trusted = np.empty((0, 3)), np.empty((0, 3))
        self.pending_steady = False
        self.early, self.n_seen, self.n_rows = np.empty((0, 6)), 0, 0
        self.acc_sum = np.zeros(3)
        self.open_span, self.next_span = self.next_span, self.next_span + 1


def _gyro_path(  # noqa: PLR0917
    state: BridgeState,
    gyr: FloatArray,
    acc: FloatArray,
    real: BoolArray,
    dt_shift_s: FloatArray,
    trusted: BoolArray | None = None,
) -> FloatArray:
    """Output quaternions along the span by the gyro alone (as VQF integrates it);
    ``dt_shift_s``: the sample period and the output shift; ``trusted`` rows' world-frame
    accelerometer directions are kept too."""
    dt_s, shift_s = dt_shift_s
    rate = gyr - state.bias
    steps = quat_from_rotvec(rate * dt_s)
    q = _running_product(np.vstack([state.q_gyro[None, :], steps]))[1:]
    state.q_gyro = q[-1]
    out = quat_multiply(q, quat_from_rotvec(rate * shift_s)) if shift_s else q
    state.last_gyro_out = out[-1]
    if real.any():
        world = quat_rotate(out[real], acc[real])
        state.acc_sum = state.acc_sum + world.sum(axis=0)
        if len(state.early) < EARLY_ROWS:
            state.early = np.vstack([state.early, np.hstack([world, gyr[real]])])[:EARLY_ROWS]
        world /= np.maximum(np.linalg.norm(world, axis=1, keepdims=True), 1e-12)
        state.calm = np.vstack([state.calm, world])[-state.calm_n :]
        if trusted is not None:
            _keep_steady(state, world, trusted[real])
    return np.asarray(out, dtype=np.float64)


def _keep_steady(state: BridgeState, world: FloatArray, steady: BoolArray) -> None:
    """Keep the world-frame directions of steady received rows that the next received row
    confirms steady too: a leg starting to move reads its angular acceleration (x 0.2-0.4 m
    lying) before its gyro shows it, and a row's spin-up into it cannot tell (the last
    steady sample before a lowering read 5 deg off). The last row waits for the next."""
    rows = np.vstack([state.pending, world])
    ok = np.concatenate([[state.pending_steady], steady])
    confirmed = ok[:-1] & ok[1:]
    if confirmed.any():
        state.trusted = np.vstack([state.trusted, rows[:-1][confirmed]])[-state.calm_n :]
    state.pending, state.pending_steady = rows[-1:], bool(ok[-1])


def _number_spans(
    slot: BoolArray, quick_x: BoolArray, reset_x: BoolArray, carry: bool
) -> tuple[IntArray, BoolArray]:
    """Local span index per expanded row (-1 outside; ``slot``: lost samples' rows) and which
    local spans are new: an untrusted span starts at the first lost slot before a quick
    sample and ends where quick stops, at the next gap or at a restart."""
    n = len(slot)
    first_slot = slot & ~np.concatenate([[False], slot[:-1]])
    switch = np.concatenate([[True], quick_x[1:] != quick_x[:-1]]) if n else slot
    seg = np.cumsum(first_slot | reset_x | switch) - 1
    starts = np.flatnonzero(first_slot | reset_x | switch)
    is_span = quick_x[starts] & first_slot[starts]
    new = is_span.copy()
    if carry and len(starts) and starts[0] == 0 and not first_slot[0] and not reset_x[0]:
        is_span[0] = bool(quick_x[0])
    local = np.where(is_span[seg], seg, -1) if n else np.zeros(0, dtype=np.int64)
    return np.asarray(local, dtype=np.int64), np.asarray(new, dtype=bool)


@dataclass(frozen=True, eq=False)
class _RowPlan:
    """One batch's plan per expanded row (received samples and lost slots)."""

    real: BoolArray
    """Received, with a usable accelerometer."""
    slot: BoolArray
    """A lost sample's slot."""
    fast: BoolArray
    """In an untrusted bridge's span (a slot: as the sample after it), fused quickly: not
    after a doubtful, watched or leaning bridge (``SHOWN_KINDS``)..."""
    watched: BoolArray
    """...a watched or leaning one's (``WATCHED_KINDS``)."""
    kind: IntArray
    """The ``GapKind`` of the bridge whose span the row is in (``NOT_WAITING`` if none):
    its rule (``SPAN_RULES``)."""
    trusted: BoolArray
    """May anchor a span cut short by a gap (``GapPlan.trusted``)."""
    fuse_acc: BoolArray
    """Rows whose accelerometer the filter takes."""
    strict_check: BoolArray
    """A strict check: it closes its span."""
    span: IntArray
    """The untrusted bridge's span, numbered within the batch (-1 outside)."""
    span_new: BoolArray
    """Per span: opened in this batch (not carried on from the last)."""
    carried: bool
    """The batch opens inside the span left open by the last."""


def _on_rows(x: Expanded, per_sample: BoolArray | bool) -> BoolArray:
    """A flag per received sample, spread over the expanded rows (False on lost slots)."""
    out = np.zeros(len(x.gyr_radps), dtype=bool)
    out[x.real_index] = per_sample
    return out


def _row_plan(
    x: Expanded,
    reset_before: BoolArray,
    check: BoolArray,
    strict: BoolArray,
    *,
    waiting: IntArray | None,
    trusted: BoolArray | None,
    lying: bool,
    carry: bool,
) -> _RowPlan:
    """The per-sample plan on the expanded rows; ``carry``: a span is open from the last
    batch."""
    rows, n = x.real_index, len(x.gyr_radps)
    owner = np.searchsorted(rows, np.arange(n))  # a slot: the sample after it
    kind_x = np.full(n, NOT_WAITING) if waiting is None or not n else np.asarray(waiting)[owner]
    quick_x = (kind_x != NOT_WAITING) & (kind_x != GapKind.TRUSTED)
    trusted_x = _on_rows(x, False if trusted is None else np.asarray(trusted, dtype=bool))
    reset_x = _on_rows(x, np.asarray(reset_before, dtype=bool))
    received = _on_rows(x, True)
    span, span_new = _number_spans(~received, quick_x, reset_x, carry)
    fuse_acc = x.acc_ok
    if lying:  # the quick filter takes only a leg's gravity (``propagate``)
        fuse_acc = np.where(quick_x, x.acc_ok & trusted_x, x.acc_ok)
    return _RowPlan(
        real=received & x.acc_ok,
        slot=~received,
        fast=quick_x & ~np.isin(kind_x, SHOWN_KINDS),
        watched=np.isin(kind_x, WATCHED_KINDS),
        kind=np.asarray(kind_x, dtype=np.int64),
        trusted=trusted_x,
        fuse_acc=fuse_acc,
        strict_check=_on_rows(x, np.asarray(strict, dtype=bool) & np.asarray(check, dtype=bool)),
        span=span,
        span_new=span_new,
        carried=bool(carry and n and span[0] == 0 and not span_new[0]),
    )


@dataclass(frozen=True, eq=False)
class _Cuts:
    """Where a batch is cut into pieces the filter fuses in one go (expanded rows)."""

    resets: frozenset[int]
    """The filter restarts before the row."""
    steps: Mapping[int, FloatArray]
    """The accelerometer offset removed steps by this much from the row on."""
    switches: frozenset[int]
    """Quick fusion turns on or off."""
    checks: frozenset[int]
    """The row after a check (none before a restart): the piece before ends with it."""
    early: frozenset[int]
    """The row after a span's ``early_n``-th received row (``_early``), or after its first
    row sure of its mean (``_mean_cuts``)."""
    pieces: tuple[tuple[int, int], ...]
    """(first, end) of each piece; a span's bounds cut too."""


def _cut_points(
    x: Expanded,
    rows: _RowPlan,
    reset_before: BoolArray,
    check: BoolArray,
    *,
    offset_step: FloatArray | None,
    early: frozenset[int],
) -> _Cuts:
    """Every row where the filter is set up anew, a check falls, a span opens or closes, or
    its early estimate is due; the pieces between them."""
    real_index, n = x.real_index, len(x.gyr_radps)
    resets = frozenset(real_index[np.flatnonzero(reset_before)].tolist())
    checks = frozenset((real_index[np.flatnonzero(check)] + 1).tolist()) - resets
    switches = frozenset((np.flatnonzero(np.diff(rows.fast)) + 1).tolist())
    span_bounds = frozenset((np.flatnonzero(np.diff(rows.span)) + 1).tolist())
    steps: dict[int, FloatArray] = {}
    if offset_step is not None:
        moved = np.flatnonzero(np.any(offset_step != 0, axis=1))
        steps = {int(real_index[i]): offset_step[i] for i in moved}
    inner = sorted((resets | checks | switches | span_bounds | early | set(steps)) - {0, n})
    pieces = tuple(itertools.pairwise([0, *inner, n]))
    return _Cuts(resets, steps, switches, checks, early, pieces)


def _received_in_span(rows: _RowPlan, seen: int) -> tuple[IntArray, IntArray]:
    """Per row: the received rows so far in its run of rows (``seen`` of them already in a
    span carried on from the last batch), and the row that run starts at."""
    n = len(rows.span)
    idx = np.arange(n)
    first = np.concatenate([[True], rows.span[1:] != rows.span[:-1]])
    run_start = np.maximum.accumulate(np.where(first, idx, 0))
    got = rows.real.astype(np.int64)
    received = np.cumsum(got)
    in_run = received - (received - got)[run_start]
    if rows.carried:
        in_run += np.where(run_start == 0, seen, 0)
    return np.asarray(in_run, dtype=np.int64), np.asarray(run_start, dtype=np.int64)


def _early_cuts(rows: _RowPlan, early_n: int, seen: int) -> frozenset[int]:
    """The row after each span's ``early_n``-th received row (``seen`` of them already in a
    span carried on from the last batch): its early estimate is due there."""
    if early_n <= 0 or not len(rows.span):
        return frozenset()
    in_run, _ = _received_in_span(rows, seen)
    due = rows.real & (rows.span >= 0) & (in_run == early_n)
    return frozenset((np.flatnonzero(due) + 1).tolist())


MeanDue = Mapping[SpanRule, frozenset[int]]
"""Per rule a span may be judged by: the rows after which its mean is due."""


def _mean_cuts(x: Expanded, rows: _RowPlan, state: BridgeState, rate_hz: float) -> MeanDue:
    """The row after each span's first received row where its mean is sure enough, by each
    rule it may be judged by: it spans the rule's ``mean_min_s``, what the lever arm's miss
    can tilt the mean by has been within ``MEAN_MAX_ERR_DEG`` for ``mean_held_s``, and the
    mean has settled as long (``_mean_settled``); from ``BridgeState.mean_by_s`` into a span
    whose rows are held, when they are shown as they stand, the bound alone. How many rows
    each has held for at the batch's end, in a span going on, is kept in ``state``. Planned
    from the gyro before fusing, so any batch split reads the mean at the same row: read
    after each piece fused instead, it came at a batch's end, and a set fed 1 or 10 samples
    at a time was shown up to 1.7 deg apart (seed 23243)."""
    mine = rows.real & (rows.span >= 0)
    if not (rows.span >= 0).any():
        state.bound_rows, state.settled_rows = 0, 0
        return {}
    in_run, run_start = _received_in_span(rows, state.n_seen)
    idx = np.arange(len(mine))
    # Each run's first received row's gyro (a span carried on: its first row's, if it had one).
    first_real = np.minimum.accumulate(np.where(rows.real, idx, len(idx))[::-1])[::-1]
    gyr_first = x.gyr_radps[np.minimum(first_real[run_start], len(idx) - 1)]
    if rows.carried and len(state.early):
        gyr_first[run_start == 0] = state.early[0, 3:]
    span_s = in_run / rate_hz
    with np.errstate(divide="ignore", invalid="ignore"):
        tilt_deg = _lever_tilt_deg(np.linalg.norm(x.gyr_radps - gyr_first, axis=1), span_s)
    bound = mine & (tilt_deg <= MEAN_MAX_ERR_DEG)
    settled = bound & _mean_settled(x, rows, state, run_start, rate_hz)
    carried = rows.carried
    held_bound = _rows_held(bound, run_start, state.bound_rows if carried else 0)
    held_settled = _rows_held(settled, run_start, state.settled_rows if carried else 0)
    # Rows so far in the span, lost slots too (the hold counts from its first).
    span_rows = idx - run_start + 1 + np.where(run_start == 0, state.n_rows, 0) * carried
    late = span_rows >= state.mean_by_s * rate_hz - 0.5  # from the nearest row (none if inf)
    by_bounds: dict[tuple[float, float, bool, bool], frozenset[int]] = {}
    due: dict[SpanRule, frozenset[int]] = {}
    # Any span may be judged as an unchecked span it follows (``_Spans.enter``); rules with
    # the same bounds share their rows (untrusted and doubted ones do).
    for rule in MEAN_RULES:
        watched_only = rule in WATCHED_RULES
        bounds = (rule.mean_min_s, rule.mean_held_s, watched_only, rule.repairs_rows)
        if bounds not in by_bounds:
            n = max(1, round(rule.mean_held_s * rate_hz))
            # Only held rows (``repairs_rows``) set a deadline: a watched span showing its rows
            # waits to settle.
            sure = (held_settled >= n) | (late & (held_bound >= n) & rule.repairs_rows)
            where = mine & rows.watched if watched_only else mine
            at = np.flatnonzero(where & (span_s >= rule.mean_min_s) & sure)
            _, first = np.unique(rows.span[at], return_index=True)
            by_bounds[bounds] = frozenset((at[first] + 1).tolist())
        due[rule] = by_bounds[bounds]
    going_on = rows.span[-1] >= 0
    state.bound_rows = int(held_bound[-1]) if going_on else 0
    state.settled_rows = int(held_settled[-1]) if going_on else 0
    return due


def _rows_held(within: BoolArray, run_start: IntArray, carried_n: int) -> IntArray:
    """Per row: the rows up to it in a row ``within`` in its run (one carried on from the
    last batch: ``carried_n`` more)."""
    idx = np.arange(len(within))
    last_out = np.maximum(np.maximum.accumulate(np.where(within, -1, idx)), run_start - 1)
    return np.asarray(idx - last_out + np.where(last_out < 0, carried_n, 0), dtype=np.int64)


def _mean_settled(
    x: Expanded, rows: _RowPlan, state: BridgeState, run_start: IntArray, rate_hz: float
) -> BoolArray:
    """Per row: the span's running mean (its accelerometer, carried by the raw gyro) has
    turned at most ``MEAN_SETTLED_DEG`` over the last ``MEAN_HELD_S``; the sums of a span
    going on are carried to the next batch (in its last row's frame). Over 0.05 s the gyro's
    bias turns that frame by hundredths of a degree, so the bias is left in."""
    n, k = len(rows.span), max(1, round(MEAN_HELD_S * rate_hz))
    steps = quat_from_rotvec(x.gyr_radps / rate_hz)
    frame = _running_product(np.vstack([[1.0, 0.0, 0.0, 0.0], steps]))[1:]
    acc = np.where(rows.real[:, None], quat_rotate(frame, x.acc_mps2), 0.0)
    sums = np.cumsum(acc, axis=0)
    total = sums - np.vstack([np.zeros((1, 3)), sums])[run_start]
    carried = rows.carried & (run_start == 0)
    history = state.mean_sums if rows.carried else np.zeros((0, 3))
    total[carried] += history[-1] if len(history) else 0.0
    every = np.vstack([history, total])
    back_at = np.arange(n) + len(history) - k
    known = (back_at >= 0) & ((np.arange(n) - k >= run_start) | carried)
    back = every[np.clip(back_at, 0, len(every) - 1)]
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = np.sum(total * back, axis=1) / (
            np.linalg.norm(total, axis=1) * np.linalg.norm(back, axis=1)
        )
    settled = known & (cos >= np.cos(np.radians(MEAN_SETTLED_DEG)))
    state.mean_sums = np.zeros((0, 3))
    if rows.span[-1] >= 0:  # going on: its latest sums, turned into the last row's frame
        mine = np.vstack([history if run_start[-1] == 0 else np.zeros((0, 3)),
                          total[run_start == run_start[-1]]])[-(k + 1) :]  # fmt: skip
        undo = np.broadcast_to(quat_conjugate(frame[-1]), (len(mine), 4))
        state.mean_sums = quat_rotate(undo, mine)
    return np.asarray(settled)


def propagate(
    estimator: OrientationEstimator,
    x: Expanded,
    reset_before: BoolArray,
    check: BoolArray,
    strict: BoolArray,
    *,
    waiting: IntArray | None = None,
    bridges: BridgeState | None = None,
    trusted: BoolArray | None = None,
    early_n: int = 0,
    offset_step: FloatArray | None = None,
    lying: bool = False,
) -> tuple[FloatArray, BoolArray, Bridges]:
    """Quaternions at the real samples, which real samples a failed bridge invalidates, and
    the repairs of untrusted bridges.

    ``reset_before`` / ``check`` are per real sample (gap too long / just after a gap);
    ``strict`` checks (after a gap during fast motion) re-anchor on a smaller mismatch;
    samples ``waiting`` for the check of any but a trusted bridge (``GapPlan.waiting``) fuse
    with a short accelerometer time constant, except after a doubtful, watched or leaning one
    (``SHOWN_KINDS``; a watched or leaning span is judged by ``WATCHED_RULE`` or
    ``LEANING_RULE``). Through such a span the attitude is also carried by the gyro alone
    from before the gap; at its strict check the mean up of the calm samples gives the
    bridge's error, which the filter is re-anchored to and which the caller spreads back over
    the span (``Bridges``).
    A span cut short by the next gap before its check anchors on its ``trusted`` samples
    (per real sample: slow and steady), if it had any. ``early_n`` > 0 (the accelerometer has
    the lever arm's acceleration removed): after that many received samples, a clear error
    they show is taken at once (``_early``), and once the mean of the span so far is sure
    enough, the span is anchored on it (``_mean_cuts``). ``offset_step`` (per real
    sample, m/s^2): the accelerometer offset removed changed by this much from that sample
    on (``OrientationEstimator.offset_changed``).
    ``lying``: a supine drill (smaller corrections are taken, ``LYING_MIN_CORRECTION_DEG``;
    while quick, only ``trusted`` samples feed the accelerometer: no lever arm removes the
    leg's own acceleration, and a raise halting at its top, 330 deg/s to rest in 0.15 s,
    pulled the quick filter 9 deg past the top it then held, seed 6026).
    """
    state = bridges if bridges is not None else BridgeState(1)
    early_n = min(early_n, EARLY_ROWS)
    carry = state.open_span >= 0
    rows = _row_plan(x, reset_before, check, strict, waiting=waiting, trusted=trusted,
                     lying=lying, carry=carry)  # fmt: skip
    early = _early_cuts(rows, early_n, state.n_seen)
    due: MeanDue = {}
    if early_n:  # no mean without a lever arm
        due = _mean_cuts(x, rows, state, estimator.rate_hz)
    cuts = _cut_points(x, rows, reset_before, check, offset_step=offset_step,
                       early=early.union(*due.values()))  # fmt: skip
    min_deg = LYING_MIN_CORRECTION_DEG if lying else STRICT_MISMATCH_DEG
    spans = _Spans(state, estimator, x, rows, (early, due), early_n=early_n, min_deg=min_deg,
                   cut_rows=1 if lying else CUT_CORRECTING_ROWS)  # fmt: skip
    spans.close_carried()
    parts: list[FloatArray] = []
    failed: list[int] = []
    for a, b in cuts.pieces:  # one gap or decision per piece, never one sample
        _set_up_filter(estimator, cuts, rows.fast, a)
        span = spans.enter(a, b)
        out = estimator.update(x.gyr_radps[a:b], x.acc_mps2[a:b], rows.fuse_acc[a:b])
        parts.append(out)
        state.note_recent(out, x.acc_mps2[a:b], x.acc_ok[a:b], rows.slot[a:b])
        state.last_out, state.last_gyr = out[-1], x.gyr_radps[b - 1]
        reanchored = spans.leave(span, a, b, out[-1])
        if (
            b in cuts.checks
            and (
                seen := _check_fails(
                    out[-1], x, b - 1, state.recent, bool(rows.strict_check[b - 1])
                )
            )
            is not None
        ):
            if not reanchored:  # else its span's repair put the filter right already
                estimator.realign(seen)
            failed.append(b - 1)
    quat_x = np.concatenate(parts) if parts else np.empty((0, 4))
    bad_rows = np.zeros(len(quat_x), dtype=bool)
    bad_rows[failed] = True
    return quat_x[x.real_index], bad_rows[x.real_index], spans.bridges(quat_x)


def _set_up_filter(estimator: OrientationEstimator, cuts: _Cuts, fast: BoolArray, a: int) -> None:
    """Before the piece from row ``a``: a restart, or else the accelerometer offset's step (a
    restart starts from readings with the new offset removed); quick fusion on or off."""
    if a in cuts.resets:
        estimator.reset()
    elif a in cuts.steps:
        estimator.offset_changed(cuts.steps[a])
    if a == 0 or a in cuts.switches:
        estimator.set_quick(QUICK_TAU_ACC_S if fast[a] else None)


def _check_fails(
    filt: FloatArray, x: Expanded, row: int, recent: FloatArray, strict: bool
) -> FloatArray | None:
    """The check at ``row`` (just fused to ``filt``): if its accelerometer is usable and the
    mean of the calm run it ends (``recent``, world frame) is off the filter's up by more than
    the limit (``STRICT_MISMATCH_DEG`` for a strict check), that mean in the sensor frame (to
    realign to), else None. The mean, not the row alone: the row ends the calm run, and a leg
    setting off reads its body's push before its gyro shows it (13 deg off, 2.3 m/s^2 across,
    with |a| still within 0.3 m/s^2 of g): realigned to it, a knee drive set was shown 8.5 deg
    off for 2 s (seed 10249). The run's rows far from the rest are left out
    (``CHECK_OUTLIER_DEG``)."""
    limit = STRICT_MISMATCH_DEG if strict else MAX_GAP_MISMATCH_DEG
    if not x.acc_ok[row] or not len(recent):
        return None
    seen = quat_rotate(quat_conjugate(filt), _calm_mean(recent))
    return seen if _mismatch(filt, seen, limit) else None


def _calm_mean(rows: FloatArray) -> FloatArray:
    """The mean of these directions, those more than ``CHECK_OUTLIER_DEG`` from their
    median left out."""
    median = np.median(rows, axis=0)
    median /= max(float(np.linalg.norm(median)), 1e-12)
    near = rows @ median >= np.cos(np.radians(CHECK_OUTLIER_DEG)) * np.linalg.norm(rows, axis=1)
    return np.asarray(np.mean(rows[near] if near.any() else rows, axis=0), dtype=np.float64)


class _Spans:
    """One batch's untrusted-bridge spans, piece by piece beside the filter: each carried by
    the gyro alone from the filter's attitude before its gap (``_gyro_path``), its error
    estimated early (``_early``), and closed with a ``Fix``: anchored on its mean once that
    is sure enough, or at its check, or where it ends (``_resolve``)."""

    def __init__(
        self,
        state: BridgeState,
        estimator: OrientationEstimator,
        x: Expanded,
        rows: _RowPlan,
        due: tuple[frozenset[int], MeanDue],
        *,
        early_n: int,
        min_deg: float,
        cut_rows: int,
    ) -> None:
        """``due``: the rows after which an early estimate, and a span's mean, are due
        (``_early_cuts``, ``_mean_cuts``); ``min_deg`` and ``cut_rows``: ``_resolve``'s (a
        mean's smallest correction is its rule's, ``SpanRule.mean_min_deg``)."""
        self._state, self._estimator, self._x, self._rows = state, estimator, x, rows
        (self._early, self._mean_due), self._early_n, self._min_deg = due, early_n, min_deg
        self._cut_rows = cut_rows
        n = len(x.gyr_radps)
        self._span_id = np.full(n, -1, dtype=np.int64)
        self._quat_g = np.full((n, 4), np.nan)
        self._fixes: list[Fix] = []
        self._closed: set[int] = set()  # spans anchored on their mean: their rest is plain rows
        self._plain: set[int] = set()  # spans whose rows are published as fused (``repairs_rows``)
        # A span cut short by the next gap and not anchored leaves the filter unchecked: the
        # span that gap opens starts from it (its row here), its gyro bias kept at opening.
        self._unchecked_from: int | None = None
        self._unchecked_rule = UNTRUSTED_RULE  # the rule of the span that left it so
        self._inherits: dict[int, FloatArray] = {}
        self._shift_s = estimator.params.output_shift_samples / estimator.rate_hz
        self._timing = np.array([1.0 / estimator.rate_hz, self._shift_s])

    def _note_plain(self) -> None:
        """Publish the open span's rows as fused if its rule does not repair them."""
        if not self._state.rule.repairs_rows:
            self._plain.add(self._state.open_span)

    def close_carried(self) -> None:
        """Close the span left open by the last batch unless this batch carries it on (cut
        short by a gap if the batch opens with one)."""
        state, slot = self._state, self._rows.slot
        if state.open_span < 0 or self._rows.carried:
            return
        cut = bool(len(slot) and slot[0]) and state.rule.anchor_cut
        self._note_plain()
        filt, gyro = state.last_out, state.last_gyro_out
        fix = _resolve(state, self._estimator, False, filt, gyro, cut=cut, min_deg=self._min_deg,
                       cut_rows=self._cut_rows)  # fmt: skip
        self._fixes.append(fix)  # decided by this batch's first sample
        if cut and not fix.anchored:
            self._unchecked_from, self._unchecked_rule = 0, state.rule

    def enter(self, a: int, b: int) -> int:
        """The span the piece ``a:b`` belongs to (-1: none), opened if it begins here; its
        rows carried by the gyro."""
        rows, state, x = self._rows, self._state, self._x
        span = int(rows.span[a])
        if span < 0 or span in self._closed:
            return -1
        if rows.span_new[span] if a == 0 else rows.span[a - 1] != span:
            gyr_before = x.gyr_radps[a - 1] if a else state.last_gyr
            rule = _rule(rows, a)
            inherits = a == self._unchecked_from
            if inherits:  # its mean is the first check since the earlier burst
                if rows.watched[a]:
                    rule = self._unchecked_rule  # a watched span is judged as the unchecked one
                rule = INHERITED_RULES.get(rule, rule)
            state.open(self._estimator.gyro_bias_radps, gyr_before, self._shift_s, rule=rule)
            if inherits:
                self._inherits[state.open_span] = state.bias
        self._span_id[a:b] = state.open_span
        self._note_plain()
        self._quat_g[a:b] = _gyro_path(
            state, x.gyr_radps[a:b], x.acc_mps2[a:b], rows.real[a:b], self._timing,
            rows.trusted[a:b],
        )  # fmt: skip
        return span

    def leave(self, span: int, a: int, b: int, filt: FloatArray) -> bool:
        """After the filter fused the piece ``a:b`` (to ``filt``): the span's early estimate
        where due, then the span anchored on its mean if sure enough, else closed at its
        strict check or where it ends. True: its check's repair re-anchored the filter."""
        if span < 0:
            return False
        rows, state, estimator = self._rows, self._state, self._estimator
        state.n_seen += int(rows.real[a:b].sum())
        state.n_rows += b - a
        at_check, gyro = bool(rows.strict_check[b - 1]), self._quat_g[b - 1]
        rule = state.rule
        if b in self._early and not at_check and rule.early:
            _early(state, estimator, self._early_n, gyro)
        # No mean is due without a lever arm (``early_n`` 0): the leg's own acceleration stays.
        mean = arc_to_up(state.acc_sum) if b in self._mean_due.get(rule, ()) else None
        if mean is not None and not at_check:
            min_deg = rule.mean_min_deg
            if rule.keep_filter and _angle_deg(mean) < min_deg:  # met where it is: no anchor
                fix = _resolve(state, estimator, False, filt, gyro)
            else:
                fix = _anchor_span(state, estimator, mean, gyro, min_deg)
            self._fixes.append(replace(fix, at_row=b - 1))
            self._closed.add(span)
            return False
        n = len(rows.span)
        if not (at_check or (b < n and rows.span[b] != span)):
            return False
        cut = b < n and bool(rows.slot[b]) and rule.anchor_cut  # the next gap begins
        fix = _resolve(state, estimator, at_check, filt, gyro, cut=cut, min_deg=self._min_deg,
                       cut_rows=self._cut_rows)  # fmt: skip
        self._fixes.append(replace(fix, at_row=b - 1 if at_check else b))  # b: where it ended
        if cut and not fix.anchored:
            self._unchecked_from, self._unchecked_rule = b, rule
        return at_check and fix.anchored

    def bridges(self, quat_x: FloatArray) -> Bridges:
        """The batch's ``Bridges``, ``quat_x``: the filter's output per expanded row. The
        spans whose rows are published as fused are left out (``SpanRule.repairs_rows``)."""
        span_id = np.where(np.isin(self._span_id, list(self._plain)), -1, self._span_id)
        share = _ramp(self._x, self._rows.slot, span_id, self._estimator.rate_hz)
        for span, bias in self._inherits.items():
            _whole_over_rest(share, self._x.gyr_radps, self._rows.slot, span_id == span, bias)
        quat = np.where((span_id >= 0)[:, None], self._quat_g, quat_x)
        fixes = tuple(f for f in self._fixes if f.span not in self._plain)
        return Bridges(quat, share, span_id, fixes)


def _rule(rows: _RowPlan, a: int) -> SpanRule:
    """The rule of the span opening at row ``a``."""
    return SPAN_RULES[GapKind(int(rows.kind[a]))]


def _resolve(
    state: BridgeState, estimator: OrientationEstimator, at_check: bool, filt: FloatArray,
    gyro: FloatArray, *, cut: bool = False, min_deg: float = STRICT_MISMATCH_DEG,
    cut_rows: int = 1,
) -> Fix:  # fmt: skip
    """Close the open span: at a calm check, anchor on its calm samples' mean up and put the
    filter there; ``cut`` short by the next gap, on its latest trusted samples if any (the
    filter, quick as it is, had too little time), fewer than ``cut_rows`` of them only if
    they confirm the bridge (``CUT_CORRECTING_ROWS``); otherwise meet the filter where the
    span ends."""
    anchor = state.calm if at_check else state.trusted if cut else np.empty((0, 3))
    if len(anchor):
        correction = arc_to_up(np.mean(anchor, axis=0))
        if at_check or len(anchor) >= cut_rows or _angle_deg(correction) < min_deg:
            return _anchor_span(state, estimator, correction, gyro, min_deg)
    span = state.open_span
    state.open_span = -1
    return _meet(span, filt, gyro)


def _anchor_span(
    state: BridgeState, estimator: OrientationEstimator, correction: FloatArray,
    gyro: FloatArray, min_deg: float,
) -> Fix:  # fmt: skip
    """Close the open span with this correction of its gyro-carried attitude (none if under
    ``min_deg``: within what its reading can tell, the accelerometer's bias at a calm check,
    the lever arm's bound for a mean) and put the filter there."""
    span = state.open_span
    state.open_span = -1
    if _angle_deg(correction) < min_deg:
        correction = np.array([1.0, 0.0, 0.0, 0.0])
    _reanchor(state, estimator, quat_multiply(correction, gyro))
    return Fix(span, correction, True)


def _lever_tilt_deg(
    rate_change_radps: FloatArray | float, span_s: FloatArray | float
) -> FloatArray:
    """What the lever arm's miss (``LEVER_MISS_M``) can tilt a span's mean by (deg), its
    rate having changed by ``rate_change_radps`` over ``span_s``."""
    return np.asarray(
        np.degrees(LEVER_MISS_M * rate_change_radps / span_s / STANDARD_GRAVITY_MPS2),
        dtype=np.float64,
    )


def _early(state: BridgeState, estimator: OrientationEstimator, n: int, gyro: FloatArray) -> None:
    """Right after an untrusted bridge, the leg slow: the mean of the first ``n`` received
    samples' accelerometer (lever-arm compensated, in the gyro-carried frame) measures the
    bridge's error; a clear one is mostly taken at once (the filter re-anchored there), the
    span's check corrects the rest. A knee drive halted in a 0.2 s gap and followed by a
    foot strike (no calm check for 0.5 s) was shown 10 deg off until the next drive's top."""
    gyr = state.early[:n, 3:]
    if np.mean(np.linalg.norm(gyr, axis=1)) > EARLY_RATE_RADPS:
        return
    if np.linalg.norm(gyr[-1] - gyr[0]) * estimator.rate_hz / max(n - 1, 1) > EARLY_SPIN_UP_RADPS2:
        return  # turning round (a swing's end): the lever arm's remainder is no longer small
    v = np.mean(state.early[:n, :3], axis=0)
    correction = arc_to_up(v)
    angle = _angle_deg(correction)
    if angle <= EARLY_MIN_DEG:
        return
    part = partial_rotation(correction, np.array([(angle - EARLY_SHRINK_DEG) / angle]))[0]
    _reanchor(state, estimator, quat_multiply(part, gyro))


def _reanchor(state: BridgeState, estimator: OrientationEstimator, anchored: FloatArray) -> None:
    """Put the filter's inclination at ``anchored``; a span opening next starts there. The
    rows a check averages start afresh: those fused before the jump are in the old frame."""
    estimator.realign(up_in_sensor(anchored[None, :])[0] * STANDARD_GRAVITY_MPS2)
    state.last_out = anchored
    state.recent = np.empty((0, 3))


def _angle_deg(q: FloatArray) -> float:
    return float(np.degrees(2 * np.arccos(min(1.0, abs(float(q[0]))))))


def _meet(span: int, filt: FloatArray, gyro: FloatArray) -> Fix:
    """The correction taking the gyro-carried up onto the filter's (world frame)."""
    up_f = up_in_sensor(filt[None, :])[0]
    v = quat_rotate(gyro, up_f)  # the filter's up, in the gyro attitude's world frame
    return Fix(span, arc_to_up(v), False)


def _whole_over_rest(
    share: FloatArray, gyr: FloatArray, slot: BoolArray, mine: BoolArray, bias: FloatArray
) -> None:
    """A span opened from an unchecked filter (the span before it cut short by its gap, not
    anchored): where its bridge holds the leg at rest (every slot under ``REST_RATE_RADPS``,
    bias removed), the bridge cannot have turned it wrong, so its correction is the filter's
    error from before the gap, whole from the gap's first slot on (``share`` in place).
    Ramped in as the bridge's own, a raise's top lost in a second burst, the first burst's
    bridge still unchecked, was shown from 2.7 deg over it down to the truth (seed 3020)."""
    rows = np.flatnonzero(slot & mine)
    if rows.size and np.all(np.linalg.norm(gyr[rows] - bias, axis=1) < REST_RATE_RADPS):
        share[rows] = 1.0


def _ramp(x: Expanded, slot: BoolArray, span_id: IntArray, rate_hz: float) -> FloatArray:
    """The correction's share per span row: rising over the lost slots that opened the span,
    whole from the first received sample on. Where the bridge turned the leg
    (``MIN_SHARE_TURN_DEG``), the share follows the turn it made: its error is that it turned
    the leg too far or not far enough, so it is made where it turns, and the corrected bridge
    never rises past the check's end (a cubic carrying a raise on at speed after the leg
    stopped at its top, corrected by a smooth ramp, still showed a hump 3.3 deg over it).
    Otherwise: the cubic bridge meets the edge rates, so its rate error is ~ s(1 - s) over
    the gap (s from 0 to 1) and the attitude error it leaves grows as the integral,
    3s^2 - 2s^3; a bridge that stops the leg in the gap errs only until it stops."""
    n = len(span_id)
    share = np.zeros(n)
    inside = span_id >= 0
    share[inside] = 1.0
    idx = np.arange(n)
    first_slot = slot & ~np.concatenate([[False], slot[:-1]])
    run_start = np.maximum.accumulate(np.where(first_slot, idx, 0)) if n else idx
    owner = x.real_index[np.minimum(np.searchsorted(x.real_index, idx), len(x.real_index) - 1)]
    periods = (owner - run_start + 1).astype(np.float64)
    if x.stop_periods is not None:
        stop = x.stop_periods[np.searchsorted(x.real_index, owner)]
        periods = np.where(stop > 0, np.minimum(np.ceil(stop), periods), periods)
    opens = slot & inside
    s = np.minimum((idx - run_start + 1) / periods, 1.0)[opens]
    turned = np.concatenate([[0.0], np.cumsum(np.linalg.norm(x.gyr_radps, axis=1))])
    so_far = (turned[idx + 1] - turned[run_start])[opens]
    total = (turned[owner + 1] - turned[run_start])[opens]
    by_turn = np.degrees(total / rate_hz) >= MIN_SHARE_TURN_DEG
    with np.errstate(invalid="ignore", divide="ignore"):
        share[opens] = np.where(by_turn, so_far / total, 3 * s**2 - 2 * s**3)
    return share
