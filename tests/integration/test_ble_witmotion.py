"""The WitMotion variant (service 0xFFE5, 20-byte 55 61 frames) is found, streams and decodes."""

from __future__ import annotations

import numpy as np
from bleak import BleakClient

from hipsense.protocol.witmotion import (
    ACC_SCALE_MPS2_PER_LSB,
    GYR_SCALE_RADPS_PER_LSB,
    WITMOTION_WRITE_UUID,
    rate_command,
)
from hipsense.sources.ble import SensorLink, scan_sensors
from hipsense.virtual import RampSource, VirtualRadio, ramp_block

from .conftest import Collector

TOTAL = 600


async def test_witmotion_is_found_streams_and_decodes() -> None:
    async with VirtualRadio() as radio:
        await radio.add_witmotion("WT901BLE67", RampSource(TOTAL), pacing="fast")
        found = await scan_sensors(0.3, backend=radio.bleak_backend)
        async with SensorLink(found[0], "right_thigh", backend=radio.bleak_backend) as link:
            got = await Collector(link).samples_at_least(TOTAL)
            await got.close()
    assert [(s.name, s.kind) for s in found] == [("WT901BLE67", "witmotion")]
    expected = ramp_block(0, TOTAL)
    np.testing.assert_array_equal(got.cat("acc_mps2"), expected.acc_raw * ACC_SCALE_MPS2_PER_LSB)
    np.testing.assert_array_equal(got.cat("gyr_radps"), expected.gyr_raw * GYR_SCALE_RADPS_PER_LSB)
    assert np.all(np.diff(got.cat("t_s")) > 0)


async def test_virtual_witmotion_streams_at_10_hz_until_the_rate_register_is_written() -> None:
    async with VirtualRadio() as radio:
        sensor = await radio.add_witmotion("WT901BLE68")
        default_hz = sensor.rate_hz
        async with BleakClient(sensor.address, backend=radio.bleak_backend.client) as client:
            await client.write_gatt_char(WITMOTION_WRITE_UUID, rate_command(50), response=True)
    assert (default_hz, sensor.rate_hz) == (10.0, 50.0)  # PROTOCOL.md §9: 10 Hz by default
