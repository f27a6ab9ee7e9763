"""``hipsense analyze``'s input as a stream: a recording replayed block by block as it is
read, so memory does not grow with the session (a CSV is imported whole)."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator

from hipsense.errors import RecordingError
from hipsense.recording import Recording, RecordingHeader
from hipsense.recording.stream import stream_recording
from hipsense.samples import SampleBatch
from hipsense.sources.replay import (
    LoadedInput,
    RecordingReplay,
    input_was_bad,
    load_input,
    reconnect_times,
    recording_notes,
)


class InputStream:
    """One sensor's samples as a recording is read (memory bounded by a block of records),
    or a CSV's (imported whole). ``batches()`` is one pass; ``warnings`` (the same notes
    ``load_input`` gives) are complete once it is exhausted."""

    def __init__(
        self, path: str, sensor_id: str, rate_hz: float, batches: Iterator[SampleBatch]
    ) -> None:
        self.path, self.sensor_id, self.rate_hz = path, sensor_id, rate_hz
        self._batches = batches
        self.warnings: tuple[str, ...] = ()
        self.damaged = False  # complete once batches() is exhausted, like warnings
        self.header: RecordingHeader | None = None  # a recording's, known when opened
        self.size_bytes = os.path.getsize(path) if os.path.isfile(path) else 0
        self.read_bytes = 0  # of size_bytes, as far as the recording has been read

    @classmethod
    def of(cls, loaded: LoadedInput) -> InputStream:
        stream = cls(loaded.path, loaded.sensor_id, loaded.rate_hz, iter(loaded.batches))
        stream.warnings, stream.damaged = loaded.warnings, loaded.damaged
        stream.header = None if loaded.recording is None else loaded.recording.header
        return stream

    def batches(self) -> Iterator[SampleBatch]:
        return self._batches

    def set_batches(self, batches: Iterator[SampleBatch]) -> None:
        self._batches = batches

    def set_read(self, read_bytes: int) -> None:
        self.read_bytes = read_bytes

    @property
    def fraction_read(self) -> float:
        return min(1.0, self.read_bytes / self.size_bytes) if self.size_bytes else 0.0


def open_input(
    path: str | os.PathLike[str], *, sensor_id: str | None = None, salvage: bool = False
) -> InputStream:
    """``load_input`` streamed: the same batches and warnings, a recording read block by
    block instead of whole. A CSV is imported whole (it has no stream reader)."""
    name = os.fspath(path)
    if name.lower().endswith(".csv"):
        return InputStream.of(load_input(name, sensor_id=sensor_id, salvage=salvage))
    stream = InputStream(name, "", 0.0, iter(()))
    blocks = stream_recording(name, salvage=salvage, on_read=stream.set_read)
    first = next(blocks)
    sid = sensor_id or first.header.sensors[0].sensor_id
    known = [s.sensor_id for s in first.header.sensors]
    if sid not in known:
        blocks.close()
        raise RecordingError(name, f"no sensor {sid!r} in this recording; it has {known}")
    stream.sensor_id, stream.rate_hz = sid, float(first.header.sensor(sid).info.sample_rate_hz)
    stream.header = first.header
    stream.set_batches(_streamed_batches(stream, first, blocks))
    return stream


def _streamed_batches(
    stream: InputStream, first: Recording, blocks: Iterator[Recording]
) -> Iterator[SampleBatch]:
    replay = RecordingReplay(first, [stream.sensor_id])
    reconnects: dict[str, deque[float]] = {s.sensor_id: deque() for s in first.header.sensors}
    last = first

    def read() -> Iterator[Recording]:
        nonlocal last
        for block in _chained(first, blocks):
            last = block
            for sid, times in reconnect_times(block).items():  # known before its packets
                reconnects[sid] = deque(sorted([*reconnects[sid], *times]))
            yield block

    yield from replay.replay_blocks(read(), reconnects)
    stream.warnings = recording_notes(last, replay.stats)
    stream.damaged = input_was_bad(last, replay.stats)


def _chained(first: Recording, rest: Iterator[Recording]) -> Iterator[Recording]:
    yield first
    yield from rest
