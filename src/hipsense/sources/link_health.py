"""Link health, pure: sequence unwrapping, loss accounting and device-to-host clock mapping.

A sensor counts samples with a wrapping u16 and stamps packets with a wrapping u32 µs clock.
``SequenceTracker`` turns the counter into an absolute sample index and classifies each packet
(new, after a gap, duplicate, out of order). ``ClockMapper`` maps device time to host time
along the lower envelope of (arrival - device time): radio and scheduling delays only ever
add, so the smallest offsets are the truest, and a line through them follows crystal drift.
``PacketAssembler`` (hipsense) and ``WitMotionAssembler`` turn queued notifications into
SampleBatches with them; the BLE consumer calls them, never the notification handler.
See firmware_protocol/PROTOCOL.md §7.
"""

from __future__ import annotations

import enum
import itertools
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hipsense.errors import ProtocolError
from hipsense.protocol import (
    ImuPacket,
    ImuPacketRun,
    SensorInfo,
    decode_imu_packet,
    decode_imu_packets,
)
from hipsense.protocol.hipsense_v1 import SEQ_MODULO, TIME_MODULO_US
from hipsense.protocol.witmotion import WitMotionBatch, decode_witmotion
from hipsense.samples import SampleBatch

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Payload = bytes | bytearray

MAX_DRIFT_PPM = 500.0


class PacketVerdict(enum.Enum):
    ACCEPT = "accept"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out_of_order"


@dataclass(frozen=True)
class SeqResult:
    verdict: PacketVerdict
    first_index: int
    lost_before: int


def unwrap(value: int, reference: int, modulo: int) -> int:
    """The integer congruent to ``value`` (mod ``modulo``) nearest to ``reference``."""
    delta = (value - reference) % modulo
    if delta >= modulo // 2:
        delta -= modulo
    return reference + delta


class SequenceTracker:
    """Absolute sample indices and loss/duplicate/out-of-order counts for one sensor."""

    def __init__(self, recent_packets: int = 256) -> None:
        self.next_index: int | None = None
        self.first_index: int | None = None
        self.received_samples = 0
        self.lost_samples = 0
        self.duplicates = 0
        self.out_of_order = 0
        self._recent: deque[int] = deque(maxlen=recent_packets)

    def observe(self, seq_u16: int, count: int, samples_by_time: int | None = None) -> SeqResult:
        """Classify one packet whose first sample has counter ``seq_u16``.

        ``samples_by_time`` (the gap the device clock shows, in samples) resolves gaps the u16
        counter cannot: beyond 2^15 samples the loss is taken as d + k*2^16 nearest to it.
        """
        if self.next_index is None:
            self.next_index = self.first_index = seq_u16
            return self._accept(seq_u16, count, 0)
        index = unwrap(seq_u16, self.next_index, SEQ_MODULO)
        if samples_by_time is not None and samples_by_time >= SEQ_MODULO // 2:
            d = (seq_u16 - self.next_index) % SEQ_MODULO
            index = (
                self.next_index + d + max(0, round((samples_by_time - d) / SEQ_MODULO)) * SEQ_MODULO
            )
        if index >= self.next_index:
            return self._accept(index, count, index - self.next_index)
        if index in self._recent:
            self.duplicates += 1
            return SeqResult(PacketVerdict.DUPLICATE, index, 0)
        self.out_of_order += 1
        return SeqResult(PacketVerdict.OUT_OF_ORDER, index, 0)

    def accept_run(self, first_indices: IntArray, count: int, lost: int) -> None:
        """Account for packets of ``count`` samples each, all accepted (``first_indices`` in
        order, ``lost`` samples missing between them): what ``observe`` would have done."""
        self.next_index = int(first_indices[-1]) + count
        self.received_samples += count * len(first_indices)
        self.lost_samples += lost
        self._recent.extend(first_indices.tolist())

    def _accept(self, index: int, count: int, lost: int) -> SeqResult:
        self.next_index = index + count
        self.received_samples += count
        self.lost_samples += lost
        self._recent.append(index)
        return SeqResult(PacketVerdict.ACCEPT, index, lost)

    @property
    def loss_pct(self) -> float:
        total = self.received_samples + self.lost_samples
        return 100.0 * self.lost_samples / total if total else 0.0


class DeviceClock:
    """Unwraps the sensor's u32 µs clock into an ever-increasing integer."""

    def __init__(self) -> None:
        self._last_us: int | None = None

    def unwrap_us(self, t_u32: int) -> int:
        self._last_us = (
            t_u32 if self._last_us is None else unwrap(t_u32, self._last_us, TIME_MODULO_US)
        )
        return self._last_us

    def unwrap_run(self, t_u32: IntArray) -> IntArray | None:
        """``unwrap_us`` of consecutive stamps at once (None before the first stamp)."""
        if self._last_us is None:
            return None
        step = np.diff(t_u32, prepend=self._last_us) % TIME_MODULO_US
        step[step >= TIME_MODULO_US // 2] -= TIME_MODULO_US
        unwrapped: IntArray = self._last_us + np.cumsum(step)
        self._last_us = int(unwrapped[-1])
        return unwrapped


class ClockMapper:
    """Device seconds -> host seconds along the lower envelope of arrival offsets.

    Offsets are kept as per-window minima; once two windows exist a line through the window
    minima (least squares, slope clamped to ``MAX_DRIFT_PPM``) corrects for clock drift.
    """

    def __init__(self, window_s: float = 2.0, windows: int = 30) -> None:
        self.window_s = window_s
        self._minima: deque[tuple[float, float]] = deque(maxlen=windows)
        self._window_start_s: float | None = None
        self._slope = 0.0
        self._intercept_s: float | None = None

    def observe(self, device_s: float, host_arrival_s: float) -> None:
        """Record that a packet stamped ``device_s`` arrived at host time ``host_arrival_s``."""
        offset_s = host_arrival_s - device_s
        if self._window_start_s is None or device_s - self._window_start_s >= self.window_s:
            self._window_start_s = device_s
            self._minima.append((device_s, offset_s))
            self._fit()
        elif offset_s < self._minima[-1][1]:
            self._minima[-1] = (self._minima[-1][0], offset_s)
        # The envelope stays below every packet: no sample may be mapped after its arrival.
        if self._intercept_s is None or offset_s < self._offset_at(device_s):
            self._intercept_s = offset_s - self._slope * device_s

    def _offset_at(self, device_s: float) -> float:
        assert self._intercept_s is not None
        return self._intercept_s + self._slope * device_s

    def _fit(self) -> None:
        if len(self._minima) < 3:
            return  # too little history for a slope: keep the lowest offset seen
        # The newest window is still filling, so it is left out of the line.
        t, off = np.array(list(self._minima)[:-1]).T
        slope = _line_slope(t - t[0], off)
        limit = MAX_DRIFT_PPM * 1e-6
        self._slope = min(max(slope, -limit), limit)
        t_all, off_all = np.array(self._minima).T
        self._intercept_s = float(np.min(off_all - self._slope * t_all))

    @property
    def ready(self) -> bool:
        return self._intercept_s is not None

    def to_host_s(self, device_s: FloatArray) -> FloatArray:
        if self._intercept_s is None:
            raise RuntimeError("ClockMapper.to_host_s called before any observation")
        return device_s + self._intercept_s + self._slope * device_s


def _line_slope(x: FloatArray, y: FloatArray) -> float:
    """``np.polyfit(x, y, 1)[0]`` in its own steps (scaled Vandermonde, lstsq), without its
    argument checks: the clock line is refitted every window. Rank-deficient input goes to
    polyfit itself (it warns)."""
    lhs = np.empty((len(x), 2))
    lhs[:, 0], lhs[:, 1] = x, 1.0
    scale = np.sqrt((lhs * lhs).sum(axis=0))
    lhs /= scale
    coef, _, rank, _ = np.linalg.lstsq(lhs, y, len(x) * np.finfo(np.float64).eps)
    if rank != 2:
        return float(np.polyfit(x, y, 1)[0])
    return float(coef[0] / scale[0])


@dataclass(frozen=True)
class HealthCounts:
    received_samples: int = 0
    lost_samples: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    malformed: int = 0
    skipped_frames: int = 0  # WitMotion frames of another kind (register replies), dropped

    @property
    def loss_pct(self) -> float:
        total = self.received_samples + self.lost_samples
        return 100.0 * self.lost_samples / total if total else 0.0


@dataclass(frozen=True, eq=False)
class _Accepted:
    lost_before: int
    first_index: int
    packet: ImuPacket
    device_s: FloatArray
    arrival_s: float


@dataclass(frozen=True, eq=False)
class _Segment:
    """Accepted packets without a gap between them: one batch."""

    lost_before: int
    first_index: int
    device_s: FloatArray
    acc_mps2: FloatArray
    gyr_radps: FloatArray
    mag_ut: FloatArray | None  # None unless every packet carried the magnetometer
    arrival_s: float  # of the last packet

    @classmethod
    def of(cls, run: list[_Accepted]) -> _Segment:
        mags = [a.packet.mag_ut for a in run]
        return cls(
            run[0].lost_before,
            run[0].first_index,
            np.concatenate([a.device_s for a in run]),
            np.concatenate([a.packet.acc_mps2 for a in run]),
            np.concatenate([a.packet.gyr_radps for a in run]),
            None if any(m is None for m in mags) else np.concatenate(mags),  # type: ignore[arg-type]
            run[-1].arrival_s,
        )


class PacketAssembler:
    """Payloads of one hipsense sensor (with arrival times) -> SampleBatches on the host clock.

    Pure and synchronous: the BLE consumer hands it whatever the notification queue held.
    Batches split where samples are missing, and ``lost_before`` says how many.
    """

    def __init__(self, sensor_id: str, info: SensorInfo, time_origin_s: float = 0.0) -> None:
        self.sensor_id = sensor_id
        self.info = info
        self.time_origin_s = time_origin_s
        self.seq = SequenceTracker()
        self.clock = DeviceClock()
        self.mapper = ClockMapper()
        self.malformed = 0
        self._last_host_s = -np.inf
        self._resuming = False
        self._expected_t_us: float | None = None

    def resume(self, info: SensorInfo) -> None:
        """A new connection to the same sensor: keep the time base, re-check the counter."""
        self.info = info
        self._resuming = True

    def counts(self) -> HealthCounts:
        return HealthCounts(
            received_samples=self.seq.received_samples,
            lost_samples=self.seq.lost_samples,
            duplicates=self.seq.duplicates,
            out_of_order=self.seq.out_of_order,
            malformed=self.malformed,
        )

    def assemble(self, items: Sequence[tuple[float, Payload]]) -> list[SampleBatch]:
        """Batches of these notifications (arrival time, payload). A run of valid packets of
        one layout that all arrive in order is handled with array operations; anything else
        (malformed, duplicate, late, a resumed link, a counter gap beyond 2^15 samples) packet
        by packet. Both give the same batches and counts."""
        run = decode_imu_packets([payload for _, payload in items], self.info)
        segments = None if run is None else self._accept_run(run, [t for t, _ in items])
        if segments is None:
            segments = self._accept_each(items)
        return [self._batch(segment) for segment in segments]

    def _accept_each(self, items: Sequence[tuple[float, Payload]]) -> list[_Segment]:
        runs: list[list[_Accepted]] = []
        for arrival_s, payload in items:
            try:
                packet = decode_imu_packet(payload, self.info)
            except ProtocolError:
                self.malformed += 1
                continue
            accepted = self._observe(packet, arrival_s)
            if accepted is None:
                continue
            if accepted.lost_before or not runs:
                runs.append([])
            runs[-1].append(accepted)
        return [_Segment.of(run) for run in runs]

    def _accept_run(self, run: ImuPacketRun, arrivals: list[float]) -> list[_Segment] | None:
        """``_observe`` of every packet of ``run``, with arrays, if all are accepted without
        the resume or wide-gap rules; None (and nothing changed) otherwise."""
        next_index, expected_us = self.seq.next_index, self._expected_t_us
        if self._resuming or next_index is None or expected_us is None:
            return None
        n, rate = run.sample_count, self.info.sample_rate_hz
        period_us = 1e6 / rate
        # the counter: samples missing before each packet, as SequenceTracker.observe sees it
        lost = np.diff(run.seq, prepend=next_index - n) - n
        lost %= SEQ_MODULO
        # the device clock: the same gap in samples (_samples_by_time), for the wide-gap rule
        expected = np.concatenate(
            ([expected_us], (run.t0_us[:-1] + n * period_us) % TIME_MODULO_US)
        )
        gap_us = (run.t0_us - expected) % TIME_MODULO_US
        by_time = np.where(gap_us >= TIME_MODULO_US // 2, 0.0, np.rint(gap_us * rate / 1e6))
        if (lost >= SEQ_MODULO // 2).any() or (by_time >= SEQ_MODULO // 2).any():
            return None
        first = next_index + np.cumsum(lost) + n * np.arange(len(run))
        self.seq.accept_run(first, n, int(lost.sum()))
        self._expected_t_us = (int(run.t0_us[-1]) + n * period_us) % TIME_MODULO_US
        unwrapped = self.clock.unwrap_run(run.t0_us)
        assert unwrapped is not None  # set together with _expected_t_us
        device_s = (unwrapped * 1e-6)[:, None] + np.arange(n)[None, :] / rate
        for last_s, arrival_s in zip(device_s[:, -1].tolist(), arrivals, strict=True):
            self.mapper.observe(last_s, arrival_s)
        starts = [0, *(np.flatnonzero(lost[1:]) + 1).tolist(), len(run)]
        return [
            _Segment(
                int(lost[a]),
                int(first[a]),
                device_s[a:b].reshape(-1),
                run.acc_mps2[a:b].reshape(-1, 3),
                run.gyr_radps[a:b].reshape(-1, 3),
                None if run.mag_ut is None else run.mag_ut[a:b].reshape(-1, 3),
                arrivals[b - 1],
            )
            for a, b in itertools.pairwise(starts)
        ]

    def _observe(self, packet: ImuPacket, arrival_s: float) -> _Accepted | None:
        by_time = self._samples_by_time(packet)
        if self._resuming:
            self._resuming = False
            if self._restarted(packet, by_time):
                by_time = None
        result = self.seq.observe(packet.seq, packet.sample_count, by_time)
        if result.verdict is not PacketVerdict.ACCEPT:
            return None
        period_us = 1e6 / self.info.sample_rate_hz
        self._expected_t_us = (packet.t0_us + packet.sample_count * period_us) % TIME_MODULO_US
        t0_s = self.clock.unwrap_us(packet.t0_us) * 1e-6
        device_s = t0_s + np.arange(packet.sample_count) / self.info.sample_rate_hz
        self.mapper.observe(float(device_s[-1]), arrival_s)
        return _Accepted(result.lost_before, result.first_index, packet, device_s, arrival_s)

    def _samples_by_time(self, packet: ImuPacket) -> int | None:
        """Samples missing before ``packet`` by the device clock (None if it went backwards)."""
        if self._expected_t_us is None:
            return None
        gap_us = (packet.t0_us - self._expected_t_us) % TIME_MODULO_US
        if gap_us >= TIME_MODULO_US // 2:
            return None
        return round(gap_us * self.info.sample_rate_hz / 1e6)

    def _restarted(self, packet: ImuPacket, by_time: int | None) -> bool:
        """A sensor that rebooted while away counts and clocks from zero: start a new epoch."""
        if self.seq.next_index is None:
            return False
        behind = unwrap(packet.seq, self.seq.next_index, SEQ_MODULO) < self.seq.next_index
        if by_time is not None and not (behind and by_time < SEQ_MODULO // 2):
            return False  # time ran forward, and the counter agrees or cannot tell
        self.seq, self.clock, self.mapper = SequenceTracker(), DeviceClock(), ClockMapper()
        self._expected_t_us = None
        return True

    def _batch(self, segment: _Segment) -> SampleBatch:
        device_s = segment.device_s
        host_s = self.mapper.to_host_s(device_s) - self.time_origin_s
        if host_s[0] <= self._last_host_s:
            # A refined clock estimate must never move time backwards: shift, keep spacing.
            host_s = host_s + (self._last_host_s - host_s[0]) + 1e-6
        self._last_host_s = float(host_s[-1])
        return SampleBatch(
            sensor_id=self.sensor_id,
            t_s=host_s,
            acc_mps2=segment.acc_mps2,
            gyr_radps=segment.gyr_radps,
            mag_ut=segment.mag_ut,
            lost_before=segment.lost_before,
            meta={
                "first_index": segment.first_index,
                "device_t0_s": float(device_s[0]),
                "arrival_s": segment.arrival_s,  # host monotonic time the last packet came in
            },
        )


class WitMotionAssembler:
    """WitMotion notifications -> SampleBatches. Frames carry no counter or clock, so times
    come from arrival, spaced by the observed frame period; loss cannot be detected."""

    def __init__(self, sensor_id: str, time_origin_s: float = 0.0) -> None:
        self.sensor_id = sensor_id
        self.time_origin_s = time_origin_s
        self.received_samples = 0
        self.malformed = 0
        self.skipped_frames = 0
        self.period_s: float | None = None
        self._last_arrival_s: float | None = None
        self._last_host_s = -np.inf

    def resume(self) -> None:
        self._last_arrival_s = None

    def counts(self) -> HealthCounts:
        return HealthCounts(
            received_samples=self.received_samples,
            malformed=self.malformed,
            skipped_frames=self.skipped_frames,
        )

    def assemble(self, items: Sequence[tuple[float, Payload]]) -> list[SampleBatch]:
        batches = []
        for arrival_s, payload in items:
            try:
                frames = decode_witmotion(payload)
            except ProtocolError:
                self.malformed += 1
                continue
            self.skipped_frames += frames.skipped_frames
            if frames.sample_count:
                batches.append(self._batch(arrival_s, frames))
        return batches

    def _batch(self, arrival_s: float, frames: WitMotionBatch) -> SampleBatch:
        n = frames.sample_count
        if self._last_arrival_s is not None:
            period = (arrival_s - self._last_arrival_s) / n
            self.period_s = (
                period if self.period_s is None else 0.95 * self.period_s + 0.05 * period
            )
        self._last_arrival_s = arrival_s
        back_s = np.arange(n - 1, -1, -1, dtype=np.float64) * (self.period_s or 0.0)
        host_s: FloatArray = arrival_s - self.time_origin_s - back_s
        if host_s[0] <= self._last_host_s:
            host_s = host_s + (self._last_host_s - host_s[0]) + 1e-6
        self._last_host_s = float(host_s[-1])
        self.received_samples += n
        acc = frames.acc_mps2.astype(np.float64)
        return SampleBatch(self.sensor_id, host_s, acc, frames.gyr_radps.astype(np.float64))
