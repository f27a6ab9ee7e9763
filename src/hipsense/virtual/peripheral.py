"""What every virtual sensor shares: a Bumble peripheral that advertises, accepts one central,
serves Battery and Device Information, and paces a stream of notifications.

Pacing is ``"realtime"`` (samples fall due with the wall clock, sent every notify interval as
firmware would) or ``"fast"`` (as fast as the link takes them, for tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any, Literal

from bumble import gatt
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.hci import HCI_CONNECTION_TIMEOUT_ERROR, HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR
from bumble.profiles.device_information_service import DeviceInformationService

from hipsense.protocol.control import encode_battery_level

if TYPE_CHECKING:
    from hipsense.virtual.link import VirtualRadio

Pacing = Literal["realtime", "fast"]
ADVERTISING_INTERVAL_MS = 50.0
FIRMWARE = "1.0.0+proto1"


class VirtualPeripheral:
    """Base of the virtual sensors; subclasses add their service and ``_stream_once``."""

    service_uuids_16: tuple[int, ...] = ()
    service_uuids_128: tuple[str, ...] = ()

    def __init__(
        self,
        name: str | None,
        *,
        battery_pct: int = 87,
        pacing: Pacing = "realtime",
        notify_interval_s: float = 0.015,
        max_mtu: int = 247,
        model: str = "hipsense-virtual",
    ) -> None:
        self.name = name or ""  # set from the address in attach() when not given
        self.battery_pct = battery_pct
        self.pacing = pacing
        self.notify_interval_s = notify_interval_s
        self.max_mtu = max_mtu
        self.model = model
        self.device: Device | None = None
        self.connection: Connection | None = None
        self.connections_made = 0
        self._stream_task: asyncio.Task[None] | None = None
        self.stream_started_s: float | None = None  # host monotonic time streaming last began
        self.stopped_at_s: float | None = None  # ... and last stopped
        self._battery_char: gatt.Characteristic[bytes] | None = None
        self.ended = asyncio.Event()  # set when the motion source is exhausted
        self._closing = False
        self._readvertise: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        assert self.device is not None, "sensor is not attached to a radio"
        return str(self.device.random_address)

    def default_name(self, address: str) -> str:
        raise NotImplementedError

    async def attach(self, radio: VirtualRadio) -> None:
        address = radio.next_address()
        self.name = self.name or self.default_name(address)
        self.device = device = await radio.new_device(self.name, address)
        device.gatt_server.max_mtu = self.max_mtu
        device.add_services([*self._services(), self._battery_service(), self._dis()])
        device.on(device.EVENT_CONNECTION, self._on_connection)
        await self._advertise()

    async def _advertise(self) -> None:
        """Legacy advertising: flags + service UUID, the name in the scan response (§1)."""
        assert self.device is not None
        await self.device.start_advertising(
            advertising_data=self._advertising_data(),
            scan_response_data=bytes(
                AdvertisingData([(AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode())])
            ),
            advertising_interval_min=ADVERTISING_INTERVAL_MS,
            advertising_interval_max=ADVERTISING_INTERVAL_MS,
        )

    def _services(self) -> list[gatt.Service]:
        raise NotImplementedError

    def _battery_service(self) -> gatt.Service:
        self._battery_char = gatt.Characteristic(
            gatt.GATT_BATTERY_LEVEL_CHARACTERISTIC,
            gatt.Characteristic.Properties.READ | gatt.Characteristic.Properties.NOTIFY,
            gatt.Characteristic.READABLE,
            gatt.CharacteristicValue(read=lambda _c: encode_battery_level(self.battery_pct)),
        )
        return gatt.Service(gatt.GATT_BATTERY_SERVICE, [self._battery_char])

    def _dis(self) -> gatt.Service:
        return DeviceInformationService(
            manufacturer_name="hipsense", model_number=self.model, firmware_revision=FIRMWARE
        )

    def _advertising_data(self) -> bytes:
        fields: list[tuple[int, bytes]] = [(AdvertisingData.FLAGS, bytes([0x06]))]
        if self.service_uuids_128:
            uuids = b"".join(bytes(UUID(u)) for u in self.service_uuids_128)
            fields.append((AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, uuids))
        if self.service_uuids_16:
            uuids = b"".join(u.to_bytes(2, "little") for u in self.service_uuids_16)
            fields.append((AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, uuids))
        return bytes(AdvertisingData(fields))

    def _on_connection(self, connection: Connection) -> None:
        self.connection = connection
        self.connections_made += 1
        connection.on(connection.EVENT_DISCONNECTION, lambda _reason: self._on_disconnection())

    def _on_disconnection(self) -> None:
        self.connection = None
        self.stop_streaming()  # firmware stops on disconnect; the host restarts it
        if not self._closing:  # advertise again so the host can reconnect
            self._readvertise = asyncio.create_task(self._advertise())

    # --- streaming -----------------------------------------------------------------------

    @property
    def streaming(self) -> bool:
        return self._stream_task is not None and not self._stream_task.done()

    def start_streaming(self) -> None:
        if not self.streaming:
            self._stream_task = asyncio.create_task(self._stream(), name=f"{self.name}-stream")

    def stop_streaming(self) -> None:
        if self.streaming:
            self.stopped_at_s = time.monotonic()
        if self._stream_task is not None:
            self._stream_task.cancel()
            self._stream_task = None

    async def _stream(self) -> None:
        self.stream_started_s = start_wall_s = time.monotonic()
        self._on_stream_start()
        while self.connection is not None:
            if self.pacing == "realtime":
                await asyncio.sleep(self.notify_interval_s)
            due = self._due_samples(time.monotonic() - start_wall_s)
            if not await self._stream_once(self.connection, due):
                self.ended.set()
                return

    def _on_stream_start(self) -> None:
        """Hook: the sensor's sample clock resumes (realtime: skip samples missed offline)."""

    def _due_samples(self, elapsed_s: float) -> int | None:
        """How many samples may be sent now; None means as many as one packet holds."""
        raise NotImplementedError

    async def _stream_once(self, connection: Connection, due: int | None) -> bool:
        """Send what is due; False when the motion source is exhausted."""
        raise NotImplementedError

    async def notify(
        self, connection: Connection, char: gatt.Characteristic[Any], data: bytes
    ) -> None:
        assert self.device is not None
        await self.device.notify_subscriber(connection, char, data)
        if self.pacing == "fast":
            # notify only queues: yielding lets delivery keep pace, as a link's flow would.
            await asyncio.sleep(0)

    # --- battery, link drop, teardown ----------------------------------------------------

    async def set_battery(self, percent: int) -> None:
        self.battery_pct = percent
        if self.device is not None and self._battery_char is not None:
            await self.device.notify_subscribers(self._battery_char)

    async def drop_link(self) -> None:
        """Drop the connection as a sensor out of range would (supervision timeout)."""
        if self.connection is not None:
            await self.connection.disconnect(HCI_CONNECTION_TIMEOUT_ERROR)

    async def close(self) -> None:
        self._closing = True
        self.stop_streaming()
        if self._readvertise is not None:
            with contextlib.suppress(Exception):
                await self._readvertise
        if self.device is None:
            return
        with contextlib.suppress(Exception):
            await self.device.stop_advertising()
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.disconnect(HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR)
