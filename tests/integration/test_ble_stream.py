"""End to end on a real host stack: virtual sensor -> Bumble LocalLink -> bleak -> SampleBatch."""

from __future__ import annotations

import numpy as np
import pytest

from hipsense.protocol import max_samples_per_packet
from hipsense.sources.ble import SensorLink, scan_sensors
from hipsense.virtual import RampSource, VirtualRadio, ramp_block

from .conftest import Collector

SAMPLES_60_S_AT_200_HZ = 12_000


async def test_scan_finds_sensor_named_from_its_address_in_the_scan_response() -> None:
    async with VirtualRadio() as radio:
        sensor = await radio.add_sensor()
        found = await scan_sensors(0.3, backend=radio.bleak_backend)
    name = "hipsense-" + sensor.address[-5:].replace(":", "")  # PROTOCOL.md §1
    assert [(s.name, s.address, s.kind, s.battery_pct) for s in found] == [
        (name, sensor.address, "hipsense", None)  # the battery is not advertised (§1)
    ]


@pytest.mark.parametrize("mtu", [247, 23])
async def test_60_s_at_200_hz_arrive_once_in_order_with_exact_values(mtu: int) -> None:
    async with VirtualRadio(central_mtu=mtu) as radio:
        await radio.add_sensor(
            "hipsense-0001", RampSource(SAMPLES_60_S_AT_200_HZ), rate_hz=200, pacing="fast"
        )
        async with SensorLink("hipsense-0001", "right_thigh", backend=radio.bleak_backend) as link:
            got = await Collector(link).samples_at_least(SAMPLES_60_S_AT_200_HZ, timeout_s=60)
            await got.close()
            status = link.status()
            assert link.info is not None
            info = link.info
    assert got.samples == SAMPLES_60_S_AT_200_HZ
    np.testing.assert_array_equal(got.indices(), np.arange(SAMPLES_60_S_AT_200_HZ))
    expected = ramp_block(0, SAMPLES_60_S_AT_200_HZ)
    np.testing.assert_array_equal(
        got.cat("acc_mps2"), expected.acc_raw * info.acc_scale_mps2_per_lsb
    )
    np.testing.assert_array_equal(
        got.cat("gyr_radps"), expected.gyr_raw * info.gyr_scale_radps_per_lsb
    )
    assert all(b.sensor_id == "right_thigh" and b.lost_before == 0 for b in got.batches)
    assert np.all(np.diff(got.cat("t_s")) > 0)
    assert status.mtu == mtu
    health = (status.lost_samples, status.duplicates, status.malformed, status.overflow_count)
    assert health == (0, 0, 0, 0)
    per_packet = max_samples_per_packet(mtu)
    assert per_packet == (19 if mtu == 247 else 1)
