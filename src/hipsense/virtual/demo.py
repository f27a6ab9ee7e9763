"""Virtual sensors playing a simulated warm-up: the demo, and hipsense without hardware.

async with simulated_sensors(("right_thigh", "left_thigh")) as (radio, names):
    async with SensorLink(names["right_thigh"], "right_thigh",
                          backend=radio.bleak_backend) as link:
        async for item in link.stream(): ...
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import numpy as np

from hipsense.exercises import Leg
from hipsense.sim import Conditions, plan_warmup, simulate
from hipsense.virtual.link import VirtualRadio
from hipsense.virtual.motion import ArraySource
from hipsense.virtual.peripheral import Pacing


@asynccontextmanager
async def simulated_sensors(
    roles: Sequence[str] = ("right_thigh",),
    *,
    seed: int = 0,
    rate_hz: int = 100,
    pacing: Pacing = "realtime",
    loop: bool = True,
    realistic: bool = True,
) -> AsyncIterator[tuple[VirtualRadio, dict[str, str]]]:
    """A radio with one virtual sensor per role, each playing a simulated warm-up of its leg.

    Yields the radio and ``{role: sensor name}``. ``realistic`` adds the simulator's everyday
    nuisances (noise, bias, some lost samples); ``loop`` replays the warm-up forever.
    """
    conditions = Conditions.realistic() if realistic else Conditions.clean()
    async with VirtualRadio() as radio:
        names: dict[str, str] = {}
        for i, role in enumerate(roles):
            leg = Leg.LEFT if role.startswith("left") else Leg.RIGHT
            plan = plan_warmup(leg, np.random.default_rng(seed + i))
            # Simulating takes about a second: keep the event loop (and the radio) responsive.
            session = await asyncio.to_thread(
                simulate, plan, rate_hz=rate_hz, seed=seed + i, conditions=conditions
            )
            sensor = await radio.add_sensor(
                None, ArraySource.from_session(session, loop=loop), info=session.info, pacing=pacing
            )
            names[role] = sensor.name
        yield radio, names
