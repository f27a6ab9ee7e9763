"""``hipsense demo``: a simulated warm-up from a virtual sensor over the virtual radio."""

from __future__ import annotations

import argparse
import asyncio
import time
from contextlib import AsyncExitStack

import numpy as np

from hipsense.commands.stream import LinkRun, PayloadSink, check_record_path, cut_after
from hipsense.exercises import Leg
from hipsense.live.coach import DemoCoach, cues_for, first_exercise
from hipsense.session import Session
from hipsense.sim import Segment
from hipsense.sources.ble import SensorLink

DEMO_RATE_HZ = 100
DEMO_TAIL_S = 1.0  # keep listening this long after the last set, for its result to show


def demo_end_s(segments: tuple[Segment, ...]) -> float:
    """When the demo stops: just after its last set (the right leg's SLR test). The test then
    asks for the other leg, whose calibration the simulated person, who keeps the sensor on
    the right thigh and fidgets, would only fail ("you moved during the still phase")."""
    return max(s.end_s for s in segments if s.kind == "set") + DEMO_TAIL_S


async def _demo(args: argparse.Namespace) -> int:
    from hipsense.sim import Conditions, plan_warmup, simulate
    from hipsense.virtual import ArraySource, VirtualRadio

    check_record_path(args.record)
    leg = Leg.RIGHT
    sim = simulate(
        plan_warmup(leg, np.random.default_rng(args.seed)),
        rate_hz=DEMO_RATE_HZ,
        seed=args.seed,
        conditions=Conditions.realistic(),
    )
    role = f"{leg.value}_thigh"
    duration_s = args.duration if args.duration is not None else demo_end_s(sim.segments)
    sink = PayloadSink()
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
        run = LinkRun(session, [link], origin, args.record, sink, notes="demo warm-up")
        items = cut_after(link.stream(), duration_s)  # the app then says the demo is over
        return await run.present(items, plain=args.plain, mode="demo", before_batch=coach)


def run_demo(args: argparse.Namespace) -> int:
    return asyncio.run(_demo(args))
