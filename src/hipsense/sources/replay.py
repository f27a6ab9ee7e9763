"""Replay a recording as the stream live data gives: SampleBatches on the host clock.

Payloads go through the same code as live data: hipsense sensors through
``link_health.PacketAssembler`` (protocol decoder, sequence tracking, device-to-host clock
mapping), WitMotion sensors through ``link_health.WitMotionAssembler`` (arrival-time
based), so sample times, ``lost_before`` and duplicate handling match a live session. The
recording's ``t_host_s`` (seconds since it started) is the host clock. Malformed payloads
are counted and skipped.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections import deque
from collections.abc import AsyncIterator, Collection, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from hipsense.errors import InputFileError, RecordingError
from hipsense.recording import Recording, read_recording
from hipsense.samples import SampleBatch
from hipsense.sources.csv_import import read_imu_csv, to_uniform_batches
from hipsense.sources.link_health import HealthCounts, PacketAssembler, WitMotionAssembler
from hipsense.words import counted

# One sync chunk: up to this many consecutive packets of a sensor become one batch.
SYNC_CHUNK_PACKETS = 256
# Timed replay releases packets in windows this long (recording seconds).
TIMED_WINDOW_S = 0.02


@dataclass(frozen=True)
class ReplayStats:
    """What the replay skipped or found missing, over all sensors."""

    packets: int
    malformed_packets: int
    lost_samples: int
    duplicate_packets: int
    out_of_order_packets: int
    skipped_frames: int = 0  # WitMotion frames that are not IMU data
    received_samples: int = 0


def parse_speed(text: str) -> float | None:
    """``"max"`` -> None (as fast as possible); otherwise a positive factor like 1 or 4."""
    if text.strip().lower() in {"max", "inf", "0"}:
        return None
    speed = float(text)
    if not speed > 0:
        raise ValueError(f"replay speed must be positive or 'max', not {text!r}")
    return speed if math.isfinite(speed) else None  # 1e400: as fast as possible


class RecordingReplay:
    """Batches from a recording, all sensors interleaved in arrival order (or ``sensor_ids``)."""

    def __init__(self, recording: Recording, sensor_ids: Collection[str] | None = None) -> None:
        self.recording = recording
        known = [s.sensor_id for s in recording.header.sensors]
        wanted = known if sensor_ids is None else list(sensor_ids)
        unknown = sorted(set(wanted) - set(known))
        if unknown:
            raise ValueError(f"no sensor {unknown} in the recording; it has {known}")
        self._wanted = set(wanted)
        self._assemblers: dict[str, PacketAssembler | WitMotionAssembler] = {}
        self._packets = 0

    def batches(self) -> Iterator[SampleBatch]:
        """Everything, as fast as possible (for analysis)."""
        return self.replay_blocks([self.recording], reconnect_times(self.recording))

    def replay(
        self, packets: Iterable[tuple[float, str, bytes]], reconnects: dict[str, deque[float]]
    ) -> Iterator[SampleBatch]:
        """``batches()`` of these packets (``(t_host_s, sensor_id, payload)`` in arrival
        order), e.g. a recording's as it is read; ``reconnects`` may grow meanwhile."""
        self._reset()
        for sensor, items in self.chunks(packets, reconnects):
            yield from self._assemblers[sensor].assemble(items)

    def replay_blocks(
        self, blocks: Iterable[Recording], reconnects: dict[str, deque[float]]
    ) -> Iterator[SampleBatch]:
        """``replay`` of the packets of these blocks of a recording (``block_chunks``)."""
        self._reset()
        for sensor, items in self.block_chunks(blocks, reconnects):
            yield from self._assemblers[sensor].assemble(items)

    async def stream(self, speed: float | None = 1.0) -> AsyncIterator[SampleBatch]:
        """Batches released when their last packet arrived, at ``speed`` times real time
        (None: as fast as possible, yielding to the event loop between chunks)."""
        self._reset()
        loop = asyncio.get_running_loop()
        start = loop.time()
        t_first = float(self.recording.t_host_s[0]) if len(self.recording) else 0.0
        window_s = np.inf if speed is None else TIMED_WINDOW_S
        for sensor, items in self._chunks(SYNC_CHUNK_PACKETS, window_s):
            if speed is None:
                await asyncio.sleep(0)
            else:
                delay = start + (items[-1][0] - t_first) / speed - loop.time()
                await asyncio.sleep(max(0.0, delay))
            for batch in self._assemblers[sensor].assemble(items):
                yield batch

    @property
    def stats(self) -> ReplayStats:
        counts = [a.counts() for a in self._assemblers.values()] or [HealthCounts()]
        return ReplayStats(
            packets=self._packets,
            malformed_packets=sum(c.malformed for c in counts),
            lost_samples=sum(c.lost_samples for c in counts),
            duplicate_packets=sum(c.duplicates for c in counts),
            out_of_order_packets=sum(c.out_of_order for c in counts),
            skipped_frames=sum(c.skipped_frames for c in counts),
            received_samples=sum(c.received_samples for c in counts),
        )

    def _reset(self) -> None:
        self._assemblers, self._packets = {}, 0
        for entry in self.recording.header.sensors:
            if entry.kind == "witmotion":
                self._assemblers[entry.sensor_id] = WitMotionAssembler(entry.sensor_id)
            else:
                self._assemblers[entry.sensor_id] = PacketAssembler(entry.sensor_id, entry.info)

    def _chunks(
        self, max_packets: int, window_s: float
    ) -> Iterator[tuple[str, list[tuple[float, bytes]]]]:
        rec = self.recording
        return self.chunks(packets_of(rec), reconnect_times(rec), max_packets, window_s)

    def chunks(
        self,
        packets: Iterable[tuple[float, str, bytes]],
        reconnects: dict[str, deque[float]],
        max_packets: int = SYNC_CHUNK_PACKETS,
        window_s: float = np.inf,
    ) -> Iterator[tuple[str, list[tuple[float, bytes]]]]:
        """Runs of consecutive packets of one sensor, at most ``max_packets`` long and
        ``window_s`` wide. At a reconnect marker the run ends and the sensor's assembler
        resumes (a sensor that rebooted meanwhile starts a new counter epoch, as live).
        ``reconnects`` may grow while ``packets`` is read (a streamed recording)."""
        chunk = _Chunk()
        yield from self._add_packets(chunk, packets, reconnects, max_packets, window_s)
        if chunk.items:
            yield chunk.sensor, chunk.items

    def block_chunks(
        self, blocks: Iterable[Recording], reconnects: dict[str, deque[float]]
    ) -> Iterator[tuple[str, list[tuple[float, bytes]]]]:
        """``chunks`` of the blocks' packets, in turn (``reconnects`` may grow as each block
        is reached). A block of one wanted sensor's packets with no reconnect due among
        them is cut into the same chunks with slices instead of packet by packet."""
        chunk = _Chunk()
        for block in blocks:
            times, sids = block.t_host_s.tolist(), block.sensor_ids.tolist()
            only = set(sids)
            sid = next(iter(only)) if len(only) == 1 else ""
            pending = reconnects.get(sid)
            if sid not in self._wanted or (pending and pending[0] <= max(times)):
                packets = zip(times, sids, block.payloads, strict=True)
                yield from self._add_packets(chunk, packets, reconnects, SYNC_CHUNK_PACKETS)
                continue
            self._packets += len(times)
            payloads, at = block.payloads, 0
            while at < len(times):
                if chunk.items and (sid != chunk.sensor or len(chunk.items) >= SYNC_CHUNK_PACKETS):
                    yield chunk.sensor, chunk.items
                    chunk.items = []
                chunk.sensor = sid
                end = min(len(times), at + SYNC_CHUNK_PACKETS - len(chunk.items))
                chunk.items += zip(times[at:end], payloads[at:end], strict=True)
                at = end
        if chunk.items:
            yield chunk.sensor, chunk.items

    def _add_packets(
        self,
        chunk: _Chunk,
        packets: Iterable[tuple[float, str, bytes]],
        reconnects: dict[str, deque[float]],
        max_packets: int,
        window_s: float = np.inf,
    ) -> Iterator[tuple[str, list[tuple[float, bytes]]]]:
        """The packets into ``chunk``, yielding each run they end (the last stays open)."""
        for t, sid, payload in packets:
            if sid not in self._wanted:
                continue
            self._packets += 1
            resume = _due(reconnects.get(sid), t)
            items = chunk.items
            full = len(items) >= max_packets or (items and t - items[0][0] > window_s)
            if items and (sid != chunk.sensor or resume or full):
                yield chunk.sensor, items
                chunk.items = []
            if resume:
                self._resume(sid)
            chunk.sensor = sid
            chunk.items.append((t, payload))

    def _resume(self, sensor_id: str) -> None:
        assembler = self._assemblers[sensor_id]
        if isinstance(assembler, PacketAssembler):
            assembler.resume(assembler.info)
        else:
            assembler.resume()


@dataclass
class _Chunk:
    """The run of packets being gathered: whose, and which (arrival time, payload)."""

    sensor: str = ""
    items: list[tuple[float, bytes]] = field(default_factory=list)


def packets_of(rec: Recording) -> Iterator[tuple[float, str, bytes]]:
    """``(t_host_s, sensor_id, payload)`` in arrival order."""
    return zip(rec.t_host_s.tolist(), rec.sensor_ids.tolist(), rec.payloads, strict=True)


def reconnect_times(rec: Recording) -> dict[str, deque[float]]:
    """Reconnect marker times per sensor; a marker without ``sensor`` applies to all."""
    times: dict[str, list[float]] = {s.sensor_id: [] for s in rec.header.sensors}
    for marker in rec.markers:
        if marker.kind != "reconnect":
            continue
        target = marker.data.get("sensor")
        for sid, found in times.items():
            if target is None or target == sid:
                found.append(marker.t_host_s)
    return {sid: deque(sorted(found)) for sid, found in times.items()}


def _due(pending: deque[float] | None, t_s: float) -> bool:
    """Pop the reconnects at or before ``t_s``; True if there were any."""
    popped = False
    while pending and pending[0] <= t_s:
        pending.popleft()
        popped = True
    return popped


@dataclass(frozen=True, eq=False)
class LoadedInput:
    """One sensor's samples from a recording or an IMU CSV, for ``hipsense analyze``."""

    path: str
    sensor_id: str
    rate_hz: float
    batches: tuple[SampleBatch, ...]
    warnings: tuple[str, ...]
    recording: Recording | None = None
    damaged: bool = False
    """The input was bad somewhere (cut, corrupt, malformed packets, unreadable CSV values):
    everything usable is here, and the CLI exits 2 after analysing it."""


def load_input(
    path: str | os.PathLike[str], *, sensor_id: str | None = None, salvage: bool = False
) -> LoadedInput:
    """A ``.csv`` is imported (resampled, split at gaps); anything else is read as a
    recording and replayed. ``sensor_id`` picks a recording's sensor (default: the first).
    With ``salvage``, damage ends the data early and becomes a warning instead of an error."""
    name = os.fspath(path)
    if name.lower().endswith(".csv"):
        series = read_imu_csv(name, salvage=salvage)
        notes = [
            f"gap of {g.missing_samples} samples at {g.start_s:.3f} s"
            for g in series.gaps
            if not g.skipped_rows  # told in the warning about the skipped rows
        ]
        notes.extend(series.warnings)
        if series.error is not None:
            notes.append(damage_note(series.error))
        resampled = tuple(to_uniform_batches(series, sensor_id or "thigh"))
        return LoadedInput(
            name,
            sensor_id or "thigh",
            series.rate_hz,
            resampled,
            tuple(notes),
            damaged=series.error is not None or bool(series.warnings),  # rows were skipped
        )
    rec = read_recording(name, salvage=salvage)
    sid = sensor_id or rec.header.sensors[0].sensor_id
    known = [s.sensor_id for s in rec.header.sensors]
    if sid not in known:
        raise RecordingError(name, f"no sensor {sid!r} in this recording; it has {known}")
    replay = RecordingReplay(rec, [sid])
    batches = tuple(replay.batches())
    rate_hz = float(rec.header.sensor(sid).info.sample_rate_hz)
    notes_of_recording = recording_notes(rec, replay.stats)
    bad = input_was_bad(rec, replay.stats)
    return LoadedInput(name, sid, rate_hz, batches, notes_of_recording, rec, damaged=bad)


def input_was_bad(rec: Recording, stats: ReplayStats) -> bool:
    """Cut, corrupt or holding malformed packets (samples lost in transit are normal)."""
    return rec.damaged or stats.malformed_packets > 0


def recording_notes(rec: Recording, stats: ReplayStats) -> tuple[str, ...]:
    """What ``load_input`` reports about a recording's damage and losses (each note goes
    after the file's name). Samples lost over Bluetooth are normal and bridged: told as
    information, with their share."""
    notes = list(rec.warnings)
    if rec.error is not None:
        notes.append(damage_note(rec.error))
    if stats.malformed_packets:
        notes.append(f"{counted(stats.malformed_packets, 'malformed packet')} skipped")
    if stats.lost_samples:
        share = 100.0 * stats.lost_samples / (stats.lost_samples + stats.received_samples)
        shown = f"{share:.1f}" if share >= 0.1 else "< 0.1"
        lost = counted(stats.lost_samples, "sample")
        notes.append(f"{lost} lost in transit ({shown} %), bridged")
    return tuple(notes)


def damage_note(error: InputFileError) -> str:
    """Where a damaged file's usable data ends, without repeating the file's name."""
    where = f"line {error.line}: " if error.line is not None else ""
    return f"{where}{error.problem}; the data before it was analysed"
