"""Stand-in gyro for invalid and lost samples, so orientation is propagated, never faked.

Invalid samples keep their slot but use the last valid gyro (causal: streaming and one-shot
runs agree). Lost samples get slots inserted with gyro interpolated between the neighbours;
none of these slots ever feeds the accelerometer correction or produces an angle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hipsense.signal.data_quality import CheckedSamples
from hipsense.signal.lever_arm import compensate

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Expanded:
    gyr_radps: FloatArray
    acc_mps2: FloatArray
    acc_ok: BoolArray
    real_index: IntArray
    """Row of each input sample in the expanded arrays."""
    stop_periods: FloatArray | None = None
    """Per input sample: 0, or the sample periods into the gap before it at which its bridge
    has the leg stop (see ``insert_bridges``); None: no bridge does."""


STOP_RATE_RADPS = np.radians(30.0)
"""A leg turning slower than this after a gap has stopped (as the calm checks have it)."""
RINGING_RATE_RADPS = np.radians(50.0)
"""An edge slower than this may be a leg at rest read through the ringing of the foot strike
that stopped it: the soft tissue rocks the sensor at up to 40-50 deg/s (``start_stop_deg``)."""


def hold_last_valid(gyr: FloatArray, valid: BoolArray, last_gyr: FloatArray) -> FloatArray:
    """Replace invalid rows by the latest valid row (``last_gyr`` before the batch)."""
    idx = np.where(valid, np.arange(len(gyr)), -1)
    idx = np.maximum.accumulate(idx) if len(idx) else idx
    held = np.where((idx >= 0)[:, None], gyr[np.maximum(idx, 0)], last_gyr)
    return np.asarray(held, dtype=np.float64)


def _edge_slopes(
    gyr: FloatArray, prev: FloatArray, missing_before: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Gyro change per sample period at each gap's left edge (into the sample before it) and
    right edge (out of the sample after it); NaN where the neighbour is not adjacent; zero
    where the leg is at rest on both sides (``STOP_RATE_RADPS``): there the change from
    sample to sample is soft-tissue wobble, not the leg's motion, and a cubic carrying it on
    through a 0.2 s gap turned a resting leg by 5-9 deg (wobble of +-40 deg/s at 12 Hz).

    ``prev`` holds the two rows before the batch.
    """
    rows = np.vstack([prev, gyr])
    left = rows[1:-1] - rows[:-2]
    right = np.full_like(gyr, np.nan)
    if len(gyr) > 1:
        right[:-1] = np.where((missing_before[1:] == 0)[:, None], gyr[1:] - gyr[:-1], np.nan)
    at_rest = (np.linalg.norm(rows[1:-1], axis=1) < STOP_RATE_RADPS) & (
        np.linalg.norm(gyr, axis=1) < STOP_RATE_RADPS
    )
    left[at_rest] = 0.0
    right[at_rest] = 0.0  # known without the next sample: the same bridge for any batch split
    return left, right


def _secant(left: FloatArray, gyr: FloatArray, missing: IntArray) -> FloatArray:
    """Gyro change per sample period along the straight line across each gap."""
    return np.asarray((gyr - left) / (1.0 + missing)[:, None], dtype=np.float64)


STOP_WITHIN = 0.8
"""Share of a gap within which the leg must come to rest for the bridge to hold it there."""
SETTLED = 0.25
"""At rest after the gap: its rate changing less than this share of what it did on the way
in (a swing's turning point is slow too, but its rate changes as fast on the way out)."""


def _stop_inside(
    left: FloatArray,
    right: FloatArray,
    slope_in: FloatArray,
    slope_out: FloatArray,
    missing: IntArray,
    *,
    settling: bool = False,
) -> FloatArray:
    """Per gap: where (sample periods from its left edge) the leg, slowing into it at its
    left edge's rate of change, reaches the slow rate after it; 0 where it would not stop
    well inside the gap (``STOP_WITHIN``), or is not at rest after it: turning slowly, its
    rate changing less than a ``SETTLED`` share of what it did on the way in (a swing's
    turning point is slow too, but its rate changes as fast on the way out; unknown: not at
    rest), or, ``settling``, still falling towards rest (a swing's turning point moves away
    from it). A foot strike stops the leg and rings on, decaying: seed 25139 (200 Hz), a
    drive landing in a 0.1 s burst at 51 deg/s, 16 deg/s after it and still slowing by 10
    deg/s per sample (12 into it); the cubic turned the leg 2.7 deg past its landing, the
    stop 1.4."""
    d = left - right
    size = np.linalg.norm(d, axis=1)
    u = d / np.maximum(size, 1e-12)[:, None]
    along = np.sum(np.nan_to_num(slope_in) * u, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_stop = np.where(along < 0, size / -along, np.inf)
    ok = (missing > 0) & (np.linalg.norm(right, axis=1) < STOP_RATE_RADPS)
    with np.errstate(invalid="ignore"):
        settled = np.linalg.norm(slope_out, axis=1) < SETTLED * np.linalg.norm(slope_in, axis=1)
        if settling:
            settled |= np.sum(right * slope_out, axis=1) < 0
    ok &= settled
    ok &= t_stop < STOP_WITHIN * (missing + 1)
    return np.asarray(np.where(ok, t_stop, 0.0), dtype=np.float64)


def _rest_inside(
    edges: tuple[FloatArray, FloatArray],
    slopes: tuple[FloatArray, FloatArray],
    missing: IntArray,
    taper: float,
) -> FloatArray:
    """(n, 2) per gap: where (sample periods from its left edge) the leg, slowing into it at
    its left edge's rate of change, comes to rest, and where, traced back from its right
    edge at the rate of change out of it, it sets off again (``edges``: the rates at its
    left and right edge, ``slopes``: their rates of change; ``taper``: see ``gap_bridges``);
    zeros unless both come slow (``STOP_RATE_RADPS``) and the rest lies inside the gap, the
    first before the second (``STOP_WITHIN``). A knee drive's foot landing and the next
    drive setting off in one lost burst: the cubic, following a swing's turn, carried the
    leg on 5 deg through a 0.2 s rest (seed 21287)."""
    (left, right), (slope_in, slope_out) = edges, slopes
    n = len(missing)
    span = missing + 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        k_in = -np.sum(left * slope_in, axis=1) / np.sum(slope_in**2, axis=1)
        k_out = np.sum(right * slope_out, axis=1) / np.sum(slope_out**2, axis=1)
    k_in, k_out = np.nan_to_num(k_in, nan=-1.0), np.nan_to_num(k_out, nan=-1.0)
    rest_in = left + np.maximum(k_in, 0.0)[:, None] * np.nan_to_num(slope_in)
    rest_out = right - np.maximum(k_out, 0.0)[:, None] * np.nan_to_num(slope_out)
    k_in, k_out = taper * k_in, taper * k_out  # easing: as long again per power of the taper
    ok = (missing > 0) & (k_in > 0) & (k_out >= 0) & (k_in + k_out < STOP_WITHIN * span)
    ok &= np.linalg.norm(rest_in, axis=1) < STOP_RATE_RADPS
    ok &= np.linalg.norm(rest_out, axis=1) < STOP_RATE_RADPS
    out = np.zeros((n, 2))
    out[ok, 0], out[ok, 1] = k_in[ok], (span - k_out)[ok]
    return out


@dataclass(frozen=True, eq=False)
class GapBridges:
    """How one batch's gaps are bridged, worked out once (``gap_bridges``): the bridge that
    ``GapWatch.plan`` judges by its turn (``turn_deg``) is the one ``insert_bridges`` puts in.
    Per received sample, about the gap before it (none where ``missing`` is 0)."""

    gyr: FloatArray
    """The batch's gyro (invalid rows held): each gap's right edge."""
    prev: FloatArray
    """The two rows fused before the batch."""
    missing: IntArray
    """Samples lost before each."""
    left: FloatArray
    """The rate at each gap's left edge (the row before)."""
    slope_in: FloatArray
    """Gyro change per sample period into the gap (``_edge_slopes``; the three slopes are
    zeros in a batch without a gap, where nothing reads them)..."""
    slope_known: FloatArray
    """...and out of it, NaN where not known yet (the batch's last sample)..."""
    slope_out: FloatArray
    """...the straight line across the gap standing in for one not known."""
    stop: FloatArray
    """0, or where (sample periods into the gap) the leg stops in it (``_stop_inside``)."""
    start: FloatArray
    """0, or how many sample periods before the gap's end the leg starts to move (0 where
    it stops)."""
    rests: FloatArray
    """(n, 2): 0, or where (sample periods into the gap) a leg moving on both sides of it
    comes to rest in it, and where it sets off again (``_rest_inside``)."""
    taper: float = 1.0
    """How the leg slows to such a rest and sets off from it (``gap_bridges``)."""

    @property
    def shaped(self) -> BoolArray:
        """Per received sample: its gap's bridge stops, starts or rests in it (not the
        cubic)."""
        return np.asarray((self.stop > 0) | (self.start > 0) | (self.rests[:, 0] > 0))

    def turn_deg(self, rate_hz: float) -> FloatArray:
        """How far (deg) each bridge turns away from the straight line between its edge
        rates."""
        turn = np.linalg.norm(self.slope_in - self.slope_out, axis=1)
        # The cubic minus the line integrates to (slope_in - slope_out) span^2 / 12 sample periods.
        turn_deg = np.degrees(turn * (self.missing + 1.0) ** 2 / 12 / rate_hz)
        m = self.missing.astype(np.float64)[:, None]
        if self.stop.any():  # a leg stopping in the gap: its slots minus the line, summed
            k = np.clip(np.ceil(self.stop) - 1.0, 0.0, m[:, 0])[:, None]  # slots still slowing
            slots = k * self.left + self.slope_in * k * (k + 1) / 2 + (m - k) * self.gyr
            turn_deg = np.where(self.stop > 0, self._off_line_deg(slots, rate_hz), turn_deg)
        if self.start.any():  # a leg starting in the gap: the same, mirrored
            k = np.clip(np.ceil(self.start) - 1.0, 0.0, m[:, 0])[:, None]  # slots already moving
            out = np.nan_to_num(self.slope_known)
            slots = k * self.gyr - out * k * (k + 1) / 2 + (m - k) * self.left
            turn_deg = np.where(self.start > 0, self._off_line_deg(slots, rate_hz), turn_deg)
        if self.rests.any():  # a leg coming to rest in the gap and setting off again
            owner, steps = _numbered(self.missing)
            span = (self.missing + 1.0).astype(np.float64)[owner][:, None]
            slots = np.zeros_like(self.gyr)
            np.add.at(slots, owner, _resting(self, owner, steps, span))
            rest_deg = self._off_line_deg(slots, rate_hz)
            turn_deg = np.where(self.rests[:, 0] > 0, rest_deg, turn_deg)
        return np.asarray(turn_deg, dtype=np.float64)

    def start_stop_deg(self, rate_hz: float) -> FloatArray:
        """How far (deg) a start or stop inside each gap could put its bridge: the change of
        rate across it times half its length (a leg still for half the gap, then at the far
        edge's rate, against the straight line); 0 where neither edge is slow, ringing
        included (``RINGING_RATE_RADPS``: a swing turning round in it, which the cubic
        follows). A knee drive landing in a 0.2 s burst, its rate after it 43 deg/s of the
        foot strike's ringing, was taken for a turn and bridged 7 deg too far, shown so for
        2 s (seed 25233)."""
        change = np.linalg.norm(self.gyr - self.left, axis=1)
        slow = np.minimum(np.linalg.norm(self.gyr, axis=1), np.linalg.norm(self.left, axis=1))
        deg = np.degrees(change * (self.missing + 1.0) / rate_hz / 2)
        return np.asarray(np.where(slow < RINGING_RATE_RADPS, deg, 0.0), dtype=np.float64)

    def _off_line_deg(self, slots: FloatArray, rate_hz: float) -> FloatArray:
        """How far (deg) each gap's ``slots`` (their rates summed) turn from the line's."""
        m = self.missing.astype(np.float64)[:, None]
        line = m * self.left + (self.gyr - self.left) * m / 2
        return np.asarray(np.degrees(np.linalg.norm(slots - line, axis=1) / rate_hz))


def gap_bridges(
    gyr: FloatArray,
    prev: FloatArray,
    missing_before: IntArray,
    *,
    taper: float = 1.0,
    ringing: bool = True,
) -> GapBridges:
    """The bridges over the gaps before each of the batch's samples (``missing_before``
    lost), from the gyro at their edges (``prev``: the two rows before the batch).

    ``taper``: a leg that comes to rest in a gap and sets off again (``_rest_inside``) has
    its rate fall as this power of the time left to the rest, and rise so after it, its
    rate of change at the gap's edges as measured there. 1: a steady rate of change (a knee
    drive's foot landing, the next drive pushing off). 2: easing into the rest and out of
    it, as a straight leg raise comes to its top and leaves it: with a quick raise's top
    lost in 0.4 s, the top then read within 0.02 deg of the session that lost nothing (a
    steady change rested the leg too early, 0.5 deg low; the cubic, following a swing's
    turn, 0.5 deg low or high as the batches split, seed 31).

    ``ringing``: a leg stopping in a gap may still ring after it, its rate falling towards
    rest (``_stop_inside``'s ``settling``): a foot strike, standing. Lying, a raise is
    lowered onto the bed (tried there too: 300 realistic straight leg raise sets 0.2661 ->
    0.2667 deg RMSE, their peaks 0.2073 -> 0.2074 deg)."""
    missing = np.asarray(missing_before, dtype=np.int64)
    left = np.vstack([prev[-1:], gyr[:-1]]) if len(gyr) else gyr
    if not missing.any():  # the usual batch (this runs per batch): no gap, no slope needed
        flat, none = np.zeros_like(gyr), np.zeros(len(missing))
        return GapBridges(gyr, prev, missing, left, flat, flat, flat, none, none,
                          np.zeros((len(missing), 2)))  # fmt: skip
    slope_in, slope_known = _edge_slopes(gyr, prev, missing)
    # A slope out not known yet falls back to the straight line across the gap.
    slope_out = np.where(np.isfinite(slope_known), slope_known, _secant(left, gyr, missing))
    stop = _stop_inside(left, gyr, slope_in, slope_known, missing, settling=ringing)
    # A leg at rest before the gap that started in it: the stop run backwards in time, the
    # rate traced back from the right edge at that edge's rate of change (unknown: none).
    # Not settling: a leg rings after a landing, not before it sets off (tried: a burst at
    # 13 deg/s into it, 50 after, was bridged as a start and seed 23145 went 1.41 -> 1.66 deg).
    back = -np.where(np.isfinite(slope_known), slope_known, 0.0)
    start = np.where(stop > 0, 0.0, _stop_inside(gyr, left, back, slope_in, missing))
    at_rest = _rest_inside((left, gyr), (slope_in, slope_known), missing, taper)
    at_rest[(stop > 0) | (start > 0)] = 0.0  # a stop or a start alone: those
    return GapBridges(gyr, prev, missing, left, slope_in, slope_known, slope_out, stop, start,
                      at_rest, taper)  # fmt: skip


def insert_bridges(bridges: GapBridges, acc: FloatArray, acc_ok: BoolArray) -> Expanded:
    """The batch with each gap's slots inserted, their gyro along its bridge (their
    accelerometer unused).

    The slots follow a cubic Hermite curve through the gap's edge rates and their slopes: a
    leg swing's rate is smooth, so over a 0.1-0.4 s gap the cubic misses by far less than a
    straight line (which cuts the top off the rate profile and loses degrees of swing).
    Except where the leg stops in the gap (slowing into it, slow after it): there it slows
    on as it did until it reaches the rate after the gap, and keeps that rate. A cubic
    spreads the stop over the whole gap: at a straight leg raise's top halted in 0.4 s
    lost, it turned 35 deg where the leg turned 12. The same, backwards in time, where the
    leg starts in the gap (at rest before it, speeding up after it): still until, traced back
    from the gap's end at the rate of change it had there, it meets the rate before the gap.
    A cubic sets off at once: knee drives setting off in 0.1 s bursts were bridged 1.5 deg
    off each, and three in a row left a set 1.6 deg RMSE off. And both, where the leg comes
    to rest in the gap and sets off again (``_rest_inside``).
    """
    gyr, missing = bridges.gyr, bridges.missing
    if not missing.any():  # the usual batch: nothing lost, nothing to insert
        ok = np.asarray(acc_ok, dtype=bool).copy()
        return Expanded(gyr.copy(), acc.copy(), ok, np.arange(len(gyr), dtype=np.int64))
    counts = 1 + missing
    ends = np.cumsum(counts) - 1
    owner, steps = _numbered(counts)
    span = counts[owner][:, None].astype(np.float64)  # sample periods from edge to edge
    gyr_x = _cubic(bridges, owner, steps / span, span)
    if bridges.stop.any():
        stopping = _stopping(bridges, owner, steps)
        gyr_x = np.where((bridges.stop[owner] > 0)[:, None], stopping, gyr_x)
    if bridges.start.any():
        starting = _starting(bridges, owner, span - steps)
        gyr_x = np.where((bridges.start[owner] > 0)[:, None], starting, gyr_x)
    if bridges.rests.any():
        resting = _resting(bridges, owner, steps, span)
        gyr_x = np.where((bridges.rests[owner, 0] > 0)[:, None], resting, gyr_x)
    real = np.zeros(len(owner), dtype=bool)
    real[ends] = True
    gyr_x[real] = gyr  # the real samples themselves, exactly
    return Expanded(
        gyr_radps=gyr_x,
        acc_mps2=np.where(real[:, None], acc[owner], 0.0),
        acc_ok=real & acc_ok[owner],
        real_index=ends,
        stop_periods=bridges.stop if bridges.stop.any() else None,
    )


def _numbered(counts: IntArray) -> tuple[IntArray, FloatArray]:
    """Rows in runs of ``counts`` per sample: each row's sample, and its place in its run
    (1 to the count, a column)."""
    owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    return owner, (np.arange(len(owner)) - first + 1.0).astype(np.float64)[:, None]


def _cubic(b: GapBridges, owner: IntArray, s: FloatArray, span: FloatArray) -> FloatArray:
    """The cubic Hermite curve through each gap's edge rates and slopes, at ``s`` (0 to 1
    across the gap; ``span``: its sample periods from edge to edge)."""
    h00, h10 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s
    h01, h11 = -2 * s**3 + 3 * s**2, s**3 - s**2
    return np.asarray(
        h00 * b.left[owner]
        + h10 * span * b.slope_in[owner]
        + h01 * b.gyr[owner]
        + h11 * span * b.slope_out[owner]
    )


def _stopping(b: GapBridges, owner: IntArray, steps: FloatArray) -> FloatArray:
    """A leg stopping in the gap, ``steps`` sample periods into it: slowing on as it slowed
    into the gap until it reaches the rate after it, then keeping that rate."""
    slowing = b.left[owner] + steps * b.slope_in[owner]
    return np.asarray(np.where(steps < b.stop[owner][:, None], slowing, b.gyr[owner]))


def _starting(b: GapBridges, owner: IntArray, before_end: FloatArray) -> FloatArray:
    """A leg starting in the gap, ``before_end`` sample periods before its end: still at the
    rate before the gap until, traced back at the rate of change out of it, it moves."""
    moving = b.gyr[owner] - before_end * b.slope_known[owner]
    return np.asarray(np.where(before_end < b.start[owner][:, None], moving, b.left[owner]))


def _resting(b: GapBridges, owner: IntArray, steps: FloatArray, span: FloatArray) -> FloatArray:
    """A leg coming to rest in the gap and setting off again, ``steps`` sample periods into
    it (``span``: from edge to edge): slowing on as it slowed into the gap, at rest (from
    the rate it slowed to, to the rate it sets off from), then speeding up as it did out of
    it, each as the bridges' ``taper`` has it."""
    k_in, k_off = b.rests[owner, 0:1], b.rests[owner, 1:2]
    slope_in, slope_out = np.nan_to_num(b.slope_in[owner]), np.nan_to_num(b.slope_known[owner])
    left, right, taper = b.left[owner], b.gyr[owner], b.taper
    at_rest_in = left + k_in / taper * slope_in  # where the steady change would have rested
    at_rest_out = right - (span - k_off) / taper * slope_out
    ease_in = np.clip(1 - steps / np.maximum(k_in, 1e-9), 0.0, 1.0)
    ease_out = np.clip(1 - (span - steps) / np.maximum(span - k_off, 1e-9), 0.0, 1.0)
    slowing = at_rest_in + (left - at_rest_in) * ease_in**taper
    moving = at_rest_out + (right - at_rest_out) * ease_out**taper
    share = np.clip((steps - k_in) / np.maximum(k_off - k_in, 1e-9), 0.0, 1.0)
    still = at_rest_in + share * (at_rest_out - at_rest_in)
    return np.asarray(np.where(steps < k_in, slowing, np.where(steps > k_off, moving, still)))


def expand_checked(
    checked: CheckedSamples,
    bridges: GapBridges,
    acc: FloatArray,
    lever_m: tuple[float, float, float] | None,
    rate_hz: float,
) -> Expanded:
    """Checked samples ready to fuse along the batch's ``bridges`` (built on the gyro held over
    invalid samples, ``hold_last_valid``): the lever arm's acceleration removed if known,
    lost samples' slots inserted."""
    if lever_m is not None:  # remove the swing's own acceleration before fusion
        acc = compensate(
            acc, bridges.gyr, bridges.prev[-1], np.array(lever_m), rate_hz,
            no_history=checked.missing_before > 0,
        )  # fmt: skip
    return insert_bridges(bridges, acc, checked.acc_ok)
