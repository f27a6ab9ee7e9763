"""``hipsense demo | live | replay | scan``: a stream of samples into the live app or lines."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import numpy as np

from hipsense.errors import HipsenseError
from hipsense.events import SessionEvent
from hipsense.exercises import Leg, Posture, get_exercise
from hipsense.live.coach import DemoCoach, cues_for, first_exercise
from hipsense.live.mountings import load_mounting, save_mountings
from hipsense.live.plain import print_events
from hipsense.live.recorder import SessionRecorder
from hipsense.live.runner import BatchHook, StreamItem, session_events
from hipsense.sensors import load_sensor_calibration
from hipsense.session import Session, SessionOptions
from hipsense.signal.calibration import MountingCalibration
from hipsense.signal.sensor_calibration import SensorCalibration
from hipsense.sources.ble import BackendClasses, SensorLink

DEMO_RATE_HZ = 100
DEMO_TAIL_S = 2.0  # keep listening this long after the simulated warm-up ends


async def _until(
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


class _PayloadSink:
    """Hands raw payloads to the recorder once there is one (links open before it exists)."""

    def __init__(self) -> None:
        self.recorder: SessionRecorder | None = None

    def __call__(self, role: str, items: list[tuple[float, bytes]]) -> None:
        if self.recorder is not None:
            self.recorder.payloads(role, items)


class _LinkRun:
    """A session on open links: optional recording, then the app or plain lines."""

    def __init__(
        self,
        session: Session,
        links: list[SensorLink],
        origin_s: float,
        record: str | None,
        sink: _PayloadSink,
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


async def _demo(args: argparse.Namespace) -> int:
    from hipsense.sim import Conditions, plan_warmup, simulate
    from hipsense.virtual import ArraySource, VirtualRadio

    leg = Leg.RIGHT
    sim = simulate(
        plan_warmup(leg, np.random.default_rng(args.seed)),
        rate_hz=DEMO_RATE_HZ,
        seed=args.seed,
        conditions=Conditions.realistic(),
    )
    role = f"{leg.value}_thigh"
    duration_s = args.duration if args.duration is not None else sim.t_s[-1] + DEMO_TAIL_S
    sink = _PayloadSink()
    async with VirtualRadio() as radio, AsyncExitStack() as stack:
        sensor = await radio.add_sensor(
            None, ArraySource.from_session(sim), info=sim.info, rate_hz=DEMO_RATE_HZ
        )
        origin = time.monotonic()
        link = await stack.enter_async_context(
            SensorLink(
                sensor.name,
                role,
                backend=radio.bleak_backend,
                time_origin_s=origin,
                on_payloads=sink,
            )
        )
        session = Session(first_exercise(sim.segments), leg, {role: float(DEMO_RATE_HZ)})
        coach = DemoCoach(cues_for(sim.segments, DEMO_RATE_HZ))
        run = _LinkRun(session, [link], origin, args.record, sink, notes="demo warm-up")
        items = _until(link.stream(), duration_s if args.plain else args.duration)
        return await run.present(items, plain=args.plain, mode="demo", before_batch=coach)


def run_demo(args: argparse.Namespace) -> int:
    return asyncio.run(_demo(args))


async def _replay(args: argparse.Namespace) -> int:
    from hipsense.recording import read_recording
    from hipsense.sources.replay import RecordingReplay, parse_speed

    recording = read_recording(args.path, salvage=True)
    header = recording.header
    exercise_id = args.exercise or header.exercise or "swing-forward"
    leg = Leg(args.leg or header.leg or "right")
    roles = [s.sensor_id for s in header.sensors]
    rates = {s.sensor_id: float(s.info.sample_rate_hz) for s in header.sensors}
    session = Session(exercise_id, leg, rates)
    replay = RecordingReplay(recording)
    events = session_events(replay.stream(parse_speed(args.speed)), session)
    code = await _present(events, session, plain=args.plain, roles=roles, mode="replay")
    if recording.error is not None:
        print(f"hipsense: {recording.error}", file=sys.stderr)
        return 2
    return code


def run_replay(args: argparse.Namespace) -> int:
    return asyncio.run(_replay(args))


async def _scan(args: argparse.Namespace) -> int:
    from hipsense.sources.ble import scan_sensors

    found = await scan_sensors(args.timeout)
    if not found:
        print(
            "no sensors found: is it charging, within a few metres, and not connected to a phone?"
        )
        return 0
    print(f"{'name':<20} {'address':<40} {'kind':<10} {'RSSI':>6} {'battery':>8}")
    for s in found:
        battery = "-" if s.battery_pct is None else f"{s.battery_pct}%"
        print(f"{s.name:<20} {s.address:<40} {s.kind:<10} {s.rssi_dbm:>4}dB {battery:>8}")
    return 0


def run_scan(args: argparse.Namespace) -> int:
    return asyncio.run(_scan(args))


def _targets(specs: list[str], leg: Leg) -> dict[str, str]:
    """``NAME_OR_ADDRESS[=ROLE]``; without roles the first sensor wears the chosen leg."""
    other = Leg.LEFT if leg is Leg.RIGHT else Leg.RIGHT
    defaults = [f"{leg.value}_thigh", f"{other.value}_thigh"]
    targets: dict[str, str] = {}
    for i, spec in enumerate(specs):
        target, _, role = spec.partition("=")
        role = role or (defaults[i] if i < len(defaults) else f"sensor{i + 1}")
        if role in targets:
            raise HipsenseError(f"two sensors have the role {role!r}: give each NAME=ROLE")
        targets[role] = target
    return targets


def _history_options(db: str | None) -> SessionOptions:
    from hipsense.commands.history import open_store

    with open_store(db) as store:
        previous = {leg: t.best_peak_deg for leg in Leg if (t := store.last_slr(leg.value))}
    return SessionOptions(previous_slr_deg=previous)


def _save_history(session: Session, db: str | None, recordings: list[Path]) -> None:
    from hipsense.commands.history import open_store, save_sets
    from hipsense.signal.quality import summarise_set

    sets = [
        (ex, leg.value, reps, summarise_set(reps, get_exercise(ex).target_reps))
        for ex, leg, reps in session.finished_sets
    ]
    if sets:
        with open_store(db) as store:
            recording = str(recordings[0]) if recordings else None
            save_sets(store, sets, source="live", recording=recording)


async def _live(args: argparse.Namespace, backend: BackendClasses | None = None) -> int:
    """``backend``: bleak's native one unless given (tests pass the virtual radio's)."""
    from hipsense.sources.ble import merge_streams, open_links

    leg = Leg(args.leg)
    exercise_id = args.exercise if args.exercise not in (None, "none") else "swing-forward"
    targets = _targets(args.sensor, leg)
    origin, sink = time.monotonic(), _PayloadSink()
    options = _history_options(args.db)
    links_cm = open_links(targets, backend=backend, time_origin_s=origin, on_payloads=sink)
    async with links_cm as links:
        rates = {link.role: float(link.info.sample_rate_hz) for link in links if link.info}
        keys = {link.role: _sensor_key(link) for link in links}
        session = Session(
            exercise_id,
            leg,
            rates,
            calibrations=_reused_mountings(keys) if args.reuse_calibration else None,
            sensor_calibrations=_sensor_calibrations(links),
            options=options,
        )
        run = _LinkRun(session, links, origin, args.record, sink, notes=getattr(args, "notes", ""))
        items = _until(merge_streams(*links), args.duration)
        try:
            return await run.present(items, plain=args.plain, mode="live")
        finally:
            session.finish()
            _save_history(session, args.db, run.recorder.paths)
            save_mountings({(keys[r], p): c for (r, p), c in session.calibrations.items()})


def _sensor_key(link: SensorLink) -> str:
    return link.sensor.address if link.sensor else link.target


def _sensor_calibrations(links: list[SensorLink]) -> dict[str, SensorCalibration]:
    """Each sensor's six-face calibration, if ``hipsense calibrate-sensor`` made one."""
    found: dict[str, SensorCalibration] = {}
    for link in links:
        names = [_sensor_key(link), link.sensor.name if link.sensor else link.target]
        cal = next((c for n in names if (c := load_sensor_calibration(n)) is not None), None)
        if cal is not None:
            found[link.role] = cal
            print(f"hipsense: {link.role}: using the saved sensor calibration", file=sys.stderr)
    return found


def _reused_mountings(keys: dict[str, str]) -> dict[tuple[str, Posture], MountingCalibration]:
    """The last mounting calibrations of these sensors, while recent (the strap stayed on)."""
    return {
        (role, posture): cal
        for role, key in keys.items()
        for posture in Posture
        if (cal := load_mounting(key, posture)) is not None
    }


def run_live(args: argparse.Namespace) -> int:
    return asyncio.run(_live(args))


def run_record(args: argparse.Namespace) -> int:
    args.record, args.plain, args.db = args.output, True, None
    args.reuse_calibration = False
    return asyncio.run(_live(args))
