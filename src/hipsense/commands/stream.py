"""What demo, live and replay share: a session on a stream, into the live app or lines."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

from hipsense.events import SessionEvent
from hipsense.exercises import Leg
from hipsense.live.plain import print_events
from hipsense.live.recorder import SessionRecorder
from hipsense.live.runner import BatchHook, StreamItem, session_events
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
            return await _present(
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


async def _replay(args: argparse.Namespace) -> int:
    from hipsense.recording import read_recording
    from hipsense.sensors import calibrations_in
    from hipsense.sources.replay import RecordingReplay, parse_speed

    recording = read_recording(args.path, salvage=True)
    header = recording.header
    exercise_id = args.exercise or header.exercise or "swing-forward"
    leg = Leg(args.leg or header.leg or "right")
    roles = [s.sensor_id for s in header.sensors]
    rates = {s.sensor_id: float(s.info.sample_rate_hz) for s in header.sensors}
    session = Session(exercise_id, leg, rates, sensor_calibrations=calibrations_in(header))
    replay = RecordingReplay(recording)
    events = session_events(replay.stream(parse_speed(args.speed)), session)
    code = await _present(events, session, plain=args.plain, roles=roles, mode="replay")
    for warning in recording.warnings:
        print(f"hipsense: {recording.path}: {warning}", file=sys.stderr)
    if recording.error is not None:
        print(f"hipsense: {recording.error}", file=sys.stderr)
    return 2 if recording.damaged else code


def run_replay(args: argparse.Namespace) -> int:
    return asyncio.run(_replay(args))
