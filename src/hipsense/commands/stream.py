"""What demo, live and replay share: a session on a stream, into the live app or lines."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from hipsense.errors import RecordingError
from hipsense.events import SessionEvent
from hipsense.exercises import CATALOGUE, Leg
from hipsense.live.plain import print_events
from hipsense.live.recorder import SessionRecorder
from hipsense.live.runner import BatchHook, StreamItem, session_events
from hipsense.recording.model import Marker
from hipsense.samples import SampleBatch
from hipsense.session import Session
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


def refuse_existing(record: str | None) -> None:
    """``--record FILE`` never overwrites: say so before any sensor is connected."""
    if record is not None and Path(record).exists():
        raise RecordingError(record, "already exists: choose another file name")


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
    )
    await app.run_async()
    return 0


@dataclass(frozen=True)
class ExerciseMark:
    """A recorded change of drill or leg (a ``set-start`` marker), on the recording's clock."""

    t_host_s: float
    exercise_id: str | None
    leg: Leg | None


def exercise_marks(
    markers: Iterable[Marker], *, exercises: bool = True, legs: bool = True
) -> list[ExerciseMark]:
    """The ``set-start`` markers that name a drill (``exercises``) or a leg (``legs``)."""
    marks = []
    for marker in markers:
        if marker.kind != "set-start":
            continue
        exercise, leg = marker.data.get("exercise"), marker.data.get("leg")
        exercise_id = exercise if exercises and exercise in CATALOGUE else None
        side = Leg(leg) if legs and leg in {x.value for x in Leg} else None
        if exercise_id is not None or side is not None:
            marks.append(ExerciseMark(marker.t_host_s, exercise_id, side))
    return sorted(marks, key=lambda m: m.t_host_s)


def _apply_mark(mark: ExerciseMark, session: Session) -> None:
    """Bring the session to the marked drill and leg (nothing happens if it is there)."""
    if mark.leg is not None and mark.leg is not session.leg:
        session.switch_leg()
    if mark.exercise_id is not None and mark.exercise_id != session.exercise.id:
        session.select_exercise(mark.exercise_id)


def _split(batch: SampleBatch, k: int) -> tuple[SampleBatch, SampleBatch]:
    mag = batch.mag_ut
    head = replace(
        batch,
        t_s=batch.t_s[:k],
        acc_mps2=batch.acc_mps2[:k],
        gyr_radps=batch.gyr_radps[:k],
        mag_ut=None if mag is None else mag[:k],
        meta=dict(batch.meta),
    )
    tail = replace(
        batch,
        t_s=batch.t_s[k:],
        acc_mps2=batch.acc_mps2[k:],
        gyr_radps=batch.gyr_radps[k:],
        mag_ut=None if mag is None else mag[k:],
        lost_before=0,
        meta=dict(batch.meta),
    )
    return head, tail


async def follow_marks(
    items: AsyncIterator[StreamItem], session: Session, marks: Iterable[ExerciseMark]
) -> AsyncIterator[StreamItem]:
    """The stream, with the session switched to each recorded drill and leg at the sample
    where the recording switched (a batch spanning a mark is cut there), as it was live."""
    pending = deque(marks)
    async for item in items:
        if not isinstance(item, SampleBatch):
            yield item
            continue
        batch = item
        while pending and len(batch):
            k = int(np.searchsorted(batch.t_s, pending[0].t_host_s, side="left"))
            if k >= len(batch):
                break
            if k > 0:
                head, batch = _split(batch, k)
                yield head  # fed to the session before the mark applies
            _apply_mark(pending.popleft(), session)
        yield batch


async def _replay(args: argparse.Namespace) -> int:
    from hipsense.recording import read_recording
    from hipsense.sensors import calibrations_in
    from hipsense.sources.replay import RecordingReplay, parse_speed

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
    items = follow_marks(replay.stream(parse_speed(args.speed)), session, marks)
    events = session_events(items, session)
    code = await _present(events, session, plain=args.plain, roles=roles, mode="replay")
    for warning in recording.warnings:
        print(f"hipsense: {recording.path}: {warning}", file=sys.stderr)
    if recording.error is not None:
        print(f"hipsense: {recording.error}", file=sys.stderr)
    return 2 if recording.damaged else code


def run_replay(args: argparse.Namespace) -> int:
    return asyncio.run(_replay(args))
