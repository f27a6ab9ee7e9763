"""The virtual sensor implements the hipsense GATT profile, driven through plain bleak."""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakClient
from bleak.exc import BleakGATTProtocolError
from bleak.uuids import normalize_uuid_16

from hipsense.protocol import (
    CONTROL_UUID,
    IMU_DATA_UUID,
    SENSOR_INFO_UUID,
    ControlAttError,
    SetRanges,
    SetSampleRate,
    StartStreaming,
    StopStreaming,
    decode_imu_packet,
    decode_sensor_info,
    encode_control,
)
from hipsense.virtual import VirtualRadio

BATTERY_LEVEL = normalize_uuid_16(0x2A19)
MODEL_NUMBER = normalize_uuid_16(0x2A24)


async def test_profile_services_info_battery_and_device_information() -> None:
    async with VirtualRadio() as radio:
        sensor = await radio.add_sensor("hipsense-0A0A", rate_hz=100, battery_pct=55)
        async with BleakClient(sensor.address, backend=radio.bleak_backend.client) as client:
            services = {s.uuid for s in client.services}
            info = decode_sensor_info(await client.read_gatt_char(SENSOR_INFO_UUID))
            battery = await client.read_gatt_char(BATTERY_LEVEL)
            model = await client.read_gatt_char(MODEL_NUMBER)
            control = client.services.get_characteristic(CONTROL_UUID)
            assert control is not None
            props = control.properties
    assert {normalize_uuid_16(0x180F), normalize_uuid_16(0x180A)} <= services
    assert (info.sample_rate_hz, info.acc_range_g, info.streaming) == (100, 16, False)
    assert (battery, model) == (bytearray([55]), bytearray(b"hipsense-virtual"))
    assert props == ["write"]


async def test_control_start_stop_rate_and_ranges() -> None:
    async with VirtualRadio() as radio:
        sensor = await radio.add_sensor("hipsense-0B0B", pacing="fast")
        payloads: list[bytes] = []
        async with BleakClient(sensor.address, backend=radio.bleak_backend.client) as client:

            async def control(command: object) -> None:
                await client.write_gatt_char(CONTROL_UUID, encode_control(command), response=True)  # type: ignore[arg-type]

            await control(SetSampleRate(400))
            await control(SetRanges(8, 1000))
            await client.start_notify(IMU_DATA_UUID, lambda _c, d: payloads.append(bytes(d)))
            await control(StartStreaming())
            while len(payloads) < 10:
                await asyncio.sleep(0.01)
            info = decode_sensor_info(await client.read_gatt_char(SENSOR_INFO_UUID))
            with pytest.raises(BleakGATTProtocolError) as busy:
                await control(SetSampleRate(100))
            await control(StopStreaming())
            with pytest.raises(BleakGATTProtocolError) as bad:
                await client.write_gatt_char(CONTROL_UUID, b"\x03\x10\x00", response=True)
    assert (info.sample_rate_hz, info.acc_range_g, info.gyr_range_dps, info.streaming) == (
        400,
        8,
        1000,
        True,
    )
    assert int(busy.value.code) == ControlAttError.BUSY_STREAMING
    assert int(bad.value.code) == ControlAttError.VALUE_OUT_OF_RANGE
    first = decode_imu_packet(payloads[0], info)
    second = decode_imu_packet(payloads[1], info)
    assert second.seq == first.sample_count
    assert second.t0_us - first.t0_us == first.sample_count * 2_500  # 400 Hz


@pytest.mark.parametrize(("mtu", "per_packet"), [(247, 19), (100, 7), (23, 1)])
async def test_notifications_fill_the_mtu(mtu: int, per_packet: int) -> None:
    async with VirtualRadio(central_mtu=mtu) as radio:
        sensor = await radio.add_sensor("hipsense-0C0C", pacing="fast")
        payloads: list[bytes] = []
        async with BleakClient(sensor.address, backend=radio.bleak_backend.client) as client:
            await client.start_notify(IMU_DATA_UUID, lambda _c, d: payloads.append(bytes(d)))
            await client.write_gatt_char(
                CONTROL_UUID, encode_control(StartStreaming()), response=True
            )
            while len(payloads) < 3:
                await asyncio.sleep(0.01)
            assert client.mtu_size == mtu
    assert {p[1] & 0x3F for p in payloads[:3]} == {per_packet}
    assert max(len(p) for p in payloads) <= mtu - 3


async def test_sequence_and_clock_run_on_across_stop_and_start() -> None:
    """PROTOCOL.md §5: stop/start leaves a gap, never a restart."""
    async with VirtualRadio() as radio:
        sensor = await radio.add_sensor("hipsense-0D0D", rate_hz=200)
        payloads: list[bytes] = []
        async with BleakClient(sensor.address, backend=radio.bleak_backend.client) as client:
            firmware = await client.read_gatt_char(normalize_uuid_16(0x2A26))
            await client.start_notify(IMU_DATA_UUID, lambda _c, d: payloads.append(bytes(d)))
            start, stop = encode_control(StartStreaming()), encode_control(StopStreaming())
            await client.write_gatt_char(CONTROL_UUID, start, response=True)
            await asyncio.sleep(0.2)
            await client.write_gatt_char(CONTROL_UUID, stop, response=True)
            paused_at = len(payloads)
            await asyncio.sleep(0.3)
            await client.write_gatt_char(CONTROL_UUID, start, response=True)
            await asyncio.sleep(0.1)
            info = decode_sensor_info(await client.read_gatt_char(SENSOR_INFO_UUID))
    before = decode_imu_packet(payloads[paused_at - 1], info)
    after = decode_imu_packet(payloads[paused_at], info)
    gap = after.seq - (before.seq + before.sample_count)
    assert firmware == bytearray(b"1.0.0+proto1")
    assert 40 <= gap <= 80  # about 0.3 s at 200 Hz went by unsent
    assert after.t0_us - before.t0_us == (before.sample_count + gap) * 5_000
