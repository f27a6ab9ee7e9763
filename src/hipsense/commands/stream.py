"""``hipsense demo | live | replay | scan``: a stream of samples into the live app or lines."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import numpy as np

from hipsense.events import SessionEvent
from hipsense.exercises import Leg
from hipsense.live.coach import DemoCoach, cues_for, first_exercise
from hipsense.live.plain import print_events
from hipsense.live.runner import StreamItem, session_events
from hipsense.session import Session

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
    from hipsense.sources.ble import SensorLink
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
    async with VirtualRadio() as radio, AsyncExitStack() as stack:
        sensor = await radio.add_sensor(
            None, ArraySource.from_session(sim), info=sim.info, rate_hz=DEMO_RATE_HZ
        )
        link = await stack.enter_async_context(
            SensorLink(
                sensor.name, role, backend=radio.bleak_backend, time_origin_s=time.monotonic()
            )
        )
        session = Session(first_exercise(sim.segments), leg, {role: float(DEMO_RATE_HZ)})
        coach = DemoCoach(cues_for(sim.segments, DEMO_RATE_HZ))
        items = _until(link.stream(), duration_s if args.plain else args.duration)
        events = session_events(items, session, before_batch=coach)
        return await _present(events, session, plain=args.plain, roles=[role], mode="demo")


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
