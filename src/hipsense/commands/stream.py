"""What demo, live and replay share: a session on a stream, into the live app or lines."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

from hipsense.errors import RecordingError
from hipsense.events import SessionEvent
from hipsense.exercises import Leg
from hipsense.live.plain import print_events
from hipsense.live.recorder import SessionRecorder
from hipsense.live.runner import BatchHook, StreamItem, session_events
from hipsense.samples import SampleBatch
from hipsense.session import Session
from hipsense.session.coordinator import FinishedSet
from hipsense.set_marks import ExerciseMark, cut_at_marks, exercise_marks
from hipsense.signal.quality import summarise_set
from hipsense.sources.ble import SensorLink


async def cut_after(
    items: AsyncIterator[StreamItem], duration_s: float | None
) -> AsyncIterator[StreamItem]:
    """The stream, cut after ``duration_s`` of wall-clock time (None: as long as it lasts)."""
    if duration_s is None:
        async for item in items:
            yield item
        return
    deadline = time.monotonic() + duration_s
    iterator = aiter(items)
    while (left := deadline - time.monotonic()) > 0:
        try:
            yield await asyncio.wait_for(anext(iterator), left)
        except (TimeoutError, StopAsyncIteration):
            return


RECORDING_SUFFIXES = (".jsonl", ".jsonl.gz")


def check_record_path(record: str | None) -> None:
    """``--record FILE`` before any sensor is connected: never overwrite, and only names
    ``replay`` and ``analyze`` read back as recordings (``x.csv`` would be taken for an IMU
    CSV and refused)."""
    if record is None:
        return
    path = Path(record)
    if path.is_dir():
        raise RecordingError(record, "is a folder: give a file name such as session.jsonl.gz")
    if path.exists():
        raise RecordingError(record, "already exists: choose another file name")
    if not path.name.endswith(RECORDING_SUFFIXES):  # as the writer and readers tell them
        raise RecordingError(
            record, "hipsense reads back recordings named .jsonl.gz (compressed) or .jsonl"
        )


class PayloadSink:
    """Hands raw payloads to the recorder once there is one (links open before it exists)."""

    def __init__(self) -> None:
        self.recorder: SessionRecorder | None = None

    def __call__(self, role: str, items: list[tuple[float, bytes]]) -> None:
        if self.recorder is not None:
            self.recorder.payloads(role, items)


class LinkRun:
    """A session on open links: optional recording, then the app or plain lines."""

    def __init__(
        self,
        session: Session,
        links: list[SensorLink],
        origin_s: float,
        record: str | None,
        sink: PayloadSink,
        *,
        notes: str = "",
    ) -> None:
        self.session, self.links = session, links
        session.recording = record is not None
        path = Path(record) if record else None
        self.recorder = SessionRecorder(session, links, path, notes=notes, time_origin_s=origin_s)
        self.recorder.start()
        sink.recorder = self.recorder

    async def present(
        self,
        items: AsyncIterator[StreamItem],
        *,
        plain: bool,
        mode: str,
        before_batch: BatchHook | None = None,
    ) -> int:
        events = self.recorder.watch(
            session_events(
                items, self.session, before_batch=before_batch, on_status=self.recorder.status
            )
        )
        try:
            code = await _present(
                events,
                self.session,
                plain=plain,
                roles=[link.role for link in self.links],
                mode=mode,
            )
        finally:
            self.recorder.close()
            for path in self.recorder.paths:
                print(f"hipsense: recorded {path}", file=sys.stderr)
        if self.recorder.failure is not None:
            print(f"hipsense: recording stopped: {self.recorder.failure}", file=sys.stderr)
            return 2
        return code


async def _present(
    events: AsyncIterator[SessionEvent],
    session: Session,
    *,
    plain: bool,
    roles: list[str],
    mode: str,
) -> int:
    if plain:
        await print_events(events, sys.stdout)
        return 0
    from hipsense.tui import HipsenseApp

    app = HipsenseApp(
        events,
        session,
        sensors=roles,
        exercise_id=session.exercise.id,
        leg=session.leg.value,
        mode=mode,  # type: ignore[arg-type]
        target_deg=session.target_deg,
    )
    await app.run_async()
    session.finish()  # a set still running when q was pressed is closed, as at the stream's end
    for line in finished_set_lines(session.finished_sets):
        print(line)
    return 0


def finished_set_lines(sets: Iterable[FinishedSet]) -> list[str]:
    """The session's sets, printed once the app has closed: the app shows only the current
    drill's, so a replay of several drills ended on the last one (often 0 reps) and the
    earlier sets were nowhere to be read."""
    lines = []
    for n, done in enumerate(sets, 1):
        s = summarise_set(list(done.reps), done.target_reps)
        ranges = f", ROM mean {s.mean_rom_deg:.1f}°, best {s.best_rom_deg:.1f}°" if s.count else ""
        lines.append(
            f"set {n}: {done.exercise_id}, {done.leg.value} leg:"
            f" {s.count}/{s.target_reps} reps{ranges}"
        )
    return lines


def follow_marks(
    items: AsyncIterator[StreamItem], session: Session, marks: Iterable[ExerciseMark]
) -> AsyncIterator[StreamItem]:
    """The stream, with the session switched to each recorded drill and leg at the sample
    where the recording switched (``cut_at_marks``, as ``analyze`` follows them)."""
    pending = deque(marks)
    return _cut_batches(items, lambda batch: cut_at_marks(batch, pending, session))


def follow_recalibrations(
    items: AsyncIterator[StreamItem], session: Session, at_s: Iterable[float]
) -> AsyncIterator[StreamItem]:
    """The stream, with the session recalibrated at each of ``at_s``, where the live session
    did (``cut_at_recalibrations``, as ``analyze`` follows them)."""
    from hipsense.analysis import cut_at_recalibrations

    pending = deque(sorted(at_s))
    return _cut_batches(items, lambda batch: cut_at_recalibrations(batch, pending, session))


async def _cut_batches(
    items: AsyncIterator[StreamItem], cut: Callable[[SampleBatch], Iterable[SampleBatch]]
) -> AsyncIterator[StreamItem]:
    """The stream with each sample batch replaced by the pieces ``cut`` makes of it (the
    session acted on between them); anything else passes as it is."""
    async for item in items:
        if not isinstance(item, SampleBatch):
            yield item
            continue
        for piece in cut(item):
            yield piece


async def _replay(args: argparse.Namespace) -> int:
    from hipsense.analysis import recalibrations_in
    from hipsense.recording import read_recording
    from hipsense.sensors import calibrations_in
    from hipsense.sources.replay import (
        RecordingReplay,
        input_was_bad,
        parse_speed,
        recording_notes,
    )

    if str(args.path).lower().endswith(".csv"):
        raise RecordingError(
            str(args.path),
            "replay plays hipsense recordings (.jsonl, .jsonl.gz);"
            " for an IMU CSV use hipsense analyze FILE --exercise EX",
        )
    recording = read_recording(args.path, salvage=True)
    if len(recording) == 0:
        for warning in recording.warnings:
            print(f"hipsense: {recording.path}: {warning}", file=sys.stderr)
        if recording.error is not None:
            print(f"hipsense: {recording.error}", file=sys.stderr)
        raise RecordingError(
            recording.path, "no sensor samples in the file: was the sensor streaming?"
        )
    header = recording.header
    exercise_id = args.exercise or header.exercise or "swing-forward"
    leg = Leg(args.leg or header.leg or "right")
    roles = [s.sensor_id for s in header.sensors]
    rates = {s.sensor_id: float(s.info.sample_rate_hz) for s in header.sensors}
    session = Session(
        exercise_id, leg, rates, sensor_calibrations=calibrations_in(header, recording.path)
    )
    replay = RecordingReplay(recording)
    marks = exercise_marks(
        recording.markers, exercises=args.exercise is None, legs=args.leg is None
    )
    # Recalibrated where the live session did (the calibrate key), as analyze does: the
    # session's first sensor says where (the key recalibrates every sensor at once).
    recalibrations = recalibrations_in(recording.calibrations, recording.markers, roles[0])
    items = follow_marks(replay.stream(parse_speed(args.speed)), session, marks)
    items = follow_recalibrations(items, session, recalibrations.at_s)
    events = session_events(items, session)
    code = await _present(events, session, plain=args.plain, roles=roles, mode="replay")
    # As analyze: damage, malformed packets and losses in transit, one line each; bad
    # input (damage, malformed packets) ends with exit 2 after the replay. A malformed
    # calibration record or marker is told and ignored.
    for note in (*recording_notes(recording, replay.stats), *recalibrations.warnings):
        print(f"hipsense: {recording.path}: {note}", file=sys.stderr)
    return 2 if input_was_bad(recording, replay.stats) else code


def run_replay(args: argparse.Namespace) -> int:
    return asyncio.run(_replay(args))
