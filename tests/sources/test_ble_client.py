"""The BLE client's behaviour around the stream: lookup errors, overflow, battery, addressing."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakError

from hipsense.errors import AdapterError, SensorError, SensorNotFoundError
from hipsense.samples import SampleBatch
from hipsense.sources.ble import (
    LinkStatus,
    SensorLink,
    _adapter_error,
    _negotiated_mtu,
    merge_streams,
    open_links,
    scan_sensors,
)
from hipsense.virtual import RampSource, VirtualRadio


async def test_unknown_sensor_name_says_what_to_do() -> None:
    async with VirtualRadio() as radio:
        await radio.add_sensor("hipsense-0001")
        link = SensorLink("hipsense-9999", backend=radio.bleak_backend, scan_timeout_s=0.3)
        with pytest.raises(SensorNotFoundError, match="no sensor named hipsense-9999 found: is it"):
            await link.open()


@pytest.mark.parametrize(
    "exc",
    [
        BleakBluetoothNotAvailableError("off", BleakBluetoothNotAvailableReason.POWERED_OFF),
        BleakError("No Bluetooth adapters found."),
        BleakError("[org.bluez.Error.NotReady] Resource Not Ready"),
        PermissionError("org.freedesktop.DBus.Error.AccessDenied"),
    ],
)
def test_adapter_problems_become_adapter_error_with_advice(exc: Exception) -> None:
    error = _adapter_error(exc)
    assert isinstance(error, AdapterError)
    assert "switch Bluetooth on" in str(error)


def test_no_bluetooth_service_says_to_start_it() -> None:
    """Where BlueZ does not run, bleak's D-Bus connection fails with a bare "[Errno 2] No such
    file or directory", which is what the message used to show."""
    missing = FileNotFoundError(2, "No such file or directory")
    error = _adapter_error(missing)
    assert isinstance(error, AdapterError) and "systemctl start bluetooth" in str(error)
    assert "Errno" not in str(error)


def test_other_bluetooth_failures_stay_sensor_errors() -> None:
    error = _adapter_error(BleakError("characteristic 42 was not found"))
    assert type(error) is SensorError


async def test_scan_lists_both_kinds_strongest_first_and_connects_by_address() -> None:
    async with VirtualRadio() as radio:
        await radio.add_sensor("hipsense-00AA")
        await radio.add_witmotion("WT901BLE55")
        found = await scan_sensors(0.3, backend=radio.bleak_backend)
        hip = next(s for s in found if s.kind == "hipsense")
        async with SensorLink(hip.address, "right_thigh", backend=radio.bleak_backend) as link:
            assert link.sensor == hip
    assert sorted((s.name, s.kind) for s in found) == [
        ("WT901BLE55", "witmotion"),
        ("hipsense-00AA", "hipsense"),
    ]


async def test_a_stalled_consumer_overflows_the_queue_not_the_handler() -> None:
    """The handler never blocks: when nobody reads, further notifications are counted as
    overflow, and what the queue held is still delivered in order."""
    async with VirtualRadio() as radio:
        sensor = await radio.add_sensor("hipsense-00BB", RampSource(3000), pacing="fast")
        async with SensorLink("hipsense-00BB", backend=radio.bleak_backend, queue_size=8) as link:
            await asyncio.wait_for(sensor.ended.wait(), 20)  # nobody consumes meanwhile
            await asyncio.sleep(0.05)
            batches: list[SampleBatch] = []
            status: LinkStatus | None = None
            async for item in link.stream():
                if isinstance(item, LinkStatus):
                    status = item
                    if batches:
                        break
                else:
                    batches.append(item)
    assert status is not None and status.overflow_count > 0
    received = sum(len(b) for b in batches)
    assert received == 8 * 19  # exactly what the queue held
    assert np.all(np.diff([b.meta["first_index"] for b in batches]) > 0)


async def test_battery_level_is_followed_while_streaming() -> None:
    async with VirtualRadio() as radio:
        sensor = await radio.add_sensor("hipsense-00CC", battery_pct=80)
        async with SensorLink(
            "hipsense-00CC", backend=radio.bleak_backend, status_interval_s=0.05
        ) as link:
            seen: list[int | None] = []
            async for item in link.stream():
                if isinstance(item, LinkStatus):
                    seen.append(item.battery_pct)
                    if len(seen) == 2:
                        await sensor.set_battery(79)
                    if item.battery_pct == 79:
                        break
    assert seen[0] == 80 and seen[-1] == 79


async def test_mtu_is_acquired_where_bleak_needs_asking() -> None:
    """On BlueZ bleak learns the negotiated MTU only through ``_acquire_mtu``."""

    class FakeBlueZ:
        mtu = 23

        async def _acquire_mtu(self) -> None:
            self.mtu = 247

    class FakeClient:
        _backend = FakeBlueZ()

        @property
        def mtu_size(self) -> int:
            return self._backend.mtu

    assert await _negotiated_mtu(FakeClient()) == 247  # type: ignore[arg-type]


async def test_open_links_opens_every_role_and_merges_their_streams() -> None:
    async with VirtualRadio() as radio:
        await radio.add_sensor("hipsense-00D1", RampSource(400), pacing="fast")
        await radio.add_sensor("hipsense-00D2", RampSource(400), pacing="fast")
        targets = {"right_thigh": "hipsense-00D1", "left_thigh": "hipsense-00D2"}
        samples = {"right_thigh": 0, "left_thigh": 0}
        async with open_links(targets, backend=radio.bleak_backend) as links:
            async for item in merge_streams(*links):
                if not isinstance(item, LinkStatus):
                    samples[item.sensor_id] += len(item)
                if min(samples.values()) == 400:
                    break
    assert [link.role for link in links] == ["right_thigh", "left_thigh"]
