"""Two sensors at 200 Hz at once, in real time, each on its own device clock: both streams are
complete and their samples land on the host clock where they were measured."""

from __future__ import annotations

import asyncio

import numpy as np

from hipsense.samples import SampleBatch
from hipsense.sources.ble import LinkStatus, SensorLink, merge_streams
from hipsense.virtual import RampSource, VirtualRadio, VirtualSensor

from .conftest import first_index

RATE_HZ = 200
SAMPLES = 600  # 3 s each
SETTLE = 100  # the clock mapping needs a few packets before it is trusted


async def test_two_sensors_stream_at_once_time_aligned_on_the_host_clock() -> None:
    async with VirtualRadio() as radio:
        right: VirtualSensor = await radio.add_sensor(
            "hipsense-00R1", RampSource(), rate_hz=RATE_HZ, clock_start_us=4_294_000_000
        )  # wraps its u32 µs clock after 0.97 s
        left: VirtualSensor = await radio.add_sensor(
            "hipsense-00L1", RampSource(), rate_hz=RATE_HZ, clock_start_us=5_000
        )
        backend = radio.bleak_backend
        async with (
            SensorLink("hipsense-00R1", "right_thigh", backend=backend) as right_link,
            SensorLink("hipsense-00L1", "left_thigh", backend=backend) as left_link,
        ):
            batches: dict[str, list[SampleBatch]] = {"right_thigh": [], "left_thigh": []}
            roles_seen: set[str] = set()

            async def gather() -> None:
                async for item in merge_streams(right_link, left_link):
                    if isinstance(item, LinkStatus):
                        roles_seen.add(item.role)
                    else:
                        batches[item.sensor_id].append(item)
                    if min(sum(len(b) for b in bs) for bs in batches.values()) >= SAMPLES:
                        return

            await asyncio.wait_for(gather(), 20)

    assert roles_seen == {"right_thigh", "left_thigh"}
    errors_ms = {}
    for role, sensor in (("right_thigh", right), ("left_thigh", left)):
        index = np.concatenate([first_index(b) + np.arange(len(b)) for b in batches[role]])
        np.testing.assert_array_equal(index, np.arange(index.size))  # complete, in order
        t_s = np.concatenate([b.t_s for b in batches[role]])
        assert sensor.stream_started_s is not None
        measured_s = sensor.stream_started_s + (index + 1) / RATE_HZ  # when each sample fell due
        errors_ms[role] = (t_s - measured_s)[SETTLE:] * 1e3
        assert np.all(np.diff(t_s) > 0)
    for role, err in errors_ms.items():
        # No arrival jitter (notifications go out every 15 ms) leaks into sample times.
        assert np.ptp(err) < 3.0, role
        assert abs(np.median(err)) < 8.0, role
    # Samples measured at the same moment by the two sensors carry the same host time.
    assert abs(np.median(errors_ms["right_thigh"]) - np.median(errors_ms["left_thigh"])) < 5.0
