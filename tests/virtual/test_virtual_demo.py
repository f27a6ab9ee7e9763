"""The demo path: simulated warm-ups on virtual sensors, streamed in real time."""

from __future__ import annotations

import asyncio

from hipsense.samples import SampleBatch
from hipsense.sources.ble import SensorLink, merge_streams
from hipsense.virtual.demo import simulated_sensors


async def test_simulated_sensors_stream_both_legs_in_real_time() -> None:
    roles = ("right_thigh", "left_thigh")
    async with simulated_sensors(roles, seed=2) as (radio, names):
        backend = radio.bleak_backend
        async with (
            SensorLink(names["right_thigh"], "right_thigh", backend=backend) as right,
            SensorLink(names["left_thigh"], "left_thigh", backend=backend) as left,
        ):
            samples = dict.fromkeys(roles, 0)

            async def until_half_a_second_each() -> None:
                async for item in merge_streams(right, left):
                    if isinstance(item, SampleBatch):
                        samples[item.sensor_id] += len(item)
                    if min(samples.values()) >= 50:
                        return

            await asyncio.wait_for(until_half_a_second_each(), 10)
    assert sorted(names) == sorted(roles)
    assert all(name.startswith("hipsense-") for name in names.values())
