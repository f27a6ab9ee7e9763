"""bleak backend classes running on the virtual radio, so bleak code runs unchanged on Bumble.

``backend_for(radio)`` makes a scanner and a client class bound to one radio; pass them as
``BleakScanner(backend=...)`` / ``BleakClient(backend=...)``. Each scanner or client is a
Bumble central of its own on the shared LocalLink.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from bleak.assigned_numbers import CHARACTERISTIC_PROPERTIES, CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bleak.uuids import normalize_uuid_16, normalize_uuid_str
from bumble import att
from bumble.core import UUID
from bumble.device import Advertisement, Connection, Device, Peer

from hipsense.virtual.link import ATT_MTU_MIN, BleakBackend, VirtualRadio


def backend_for(radio: VirtualRadio) -> BleakBackend:
    scanner = type("VirtualBleakScanner", (VirtualBleakScanner,), {"radio": radio})
    client = type("VirtualBleakClient", (VirtualBleakClient,), {"radio": radio})
    return BleakBackend(scanner=scanner, client=client)


def _uuid_str(value: UUID) -> str:
    return normalize_uuid_str(value.to_hex_str("-"))


def _parse_advertising(fields: list[tuple[int, bytes]], rssi: int) -> AdvertisementData:
    """bleak's view of merged advertising + scan response AD structures."""
    name: str | None = None
    uuids: list[str] = []
    service_data: dict[str, bytes] = {}
    manufacturer: dict[int, bytes] = {}
    tx_power: int | None = None
    for ad_type, value in fields:
        if ad_type in (0x08, 0x09):
            name = value.decode("utf-8", "replace")
        elif ad_type in (0x02, 0x03):
            uuids += [
                normalize_uuid_16(int.from_bytes(value[i : i + 2], "little"))
                for i in range(0, len(value) - 1, 2)
            ]
        elif ad_type in (0x06, 0x07):
            uuids += [
                str(uuid.UUID(bytes=value[i : i + 16][::-1])) for i in range(0, len(value) - 15, 16)
            ]
        elif ad_type == 0x16 and len(value) >= 2:
            service_data[normalize_uuid_16(int.from_bytes(value[:2], "little"))] = value[2:]
        elif ad_type == 0xFF and len(value) >= 2:
            manufacturer[int.from_bytes(value[:2], "little")] = value[2:]
        elif ad_type == 0x0A and len(value) == 1:
            tx_power = int.from_bytes(value, "little", signed=True)
    return AdvertisementData(name, manufacturer, service_data, uuids, tx_power, rssi, ())


class VirtualBleakScanner(BaseBleakScanner):
    radio: ClassVar[VirtualRadio]

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **_kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._central: Device | None = None
        self._fields: dict[str, dict[bool, list[tuple[int, bytes]]]] = {}

    async def start(self) -> None:
        self.seen_devices = {}
        self._fields = {}
        if self._central is None:
            self._central = await self.radio.new_central()
        self._central.on(self._central.EVENT_ADVERTISEMENT, self._on_advertisement)
        await self._central.start_scanning(filter_duplicates=False)

    async def stop(self) -> None:
        central, self._central = self._central, None
        if central is not None:
            central.remove_listener(central.EVENT_ADVERTISEMENT, self._on_advertisement)
            await central.stop_scanning()
            self.radio.release_central(central)

    def _on_advertisement(self, adv: Advertisement) -> None:
        address = str(adv.address)
        parts = self._fields.setdefault(address, {})
        parts[adv.is_scan_response] = list(adv.data.ad_structures)
        data = _parse_advertising(parts.get(False, []) + parts.get(True, []), adv.rssi)
        if not self.is_allowed_uuid(data.service_uuids):
            return
        device = self.create_or_update_device(address, address, data.local_name, adv, data)
        self.call_detection_callbacks(device, data)


class VirtualBleakClient(BaseBleakClient):
    radio: ClassVar[VirtualRadio]

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        **_kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self._connection: Connection | None = None
        self._central: Device | None = None
        self._disconnecting = False
        self._subscribers: dict[int, Callable[[bytes], None]] = {}

    @property
    def name(self) -> str:
        return self.address

    @property
    def mtu_size(self) -> int:
        return ATT_MTU_MIN if self._connection is None else int(self._connection.att_mtu)

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        if not any(s.device and s.address == self.address for s in self.radio.sensors):
            raise BleakDeviceNotFoundError(self.address, f"Device {self.address} was not found")
        self._central = await self.radio.new_central()
        try:
            connection = await self._central.connect(self.address, timeout=self._timeout)
        except Exception as exc:
            self.radio.release_central(self._central)
            raise BleakError(f"could not connect to {self.address}: {exc}") from exc
        self._connection = connection
        self._disconnecting = False
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        peer = Peer(connection)
        if self.radio.central_mtu > ATT_MTU_MIN:
            await peer.request_mtu(self.radio.central_mtu)
        self.services = await self._discover(peer)

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        await peer.discover_services()
        for service in peer.services:
            await service.discover_characteristics()
            bleak_service = BleakGATTService(service, service.handle, _uuid_str(service.uuid))
            collection.add_service(bleak_service)
            for char in service.characteristics:
                await char.discover_descriptors()
                props: list[CharacteristicPropertyName] = [
                    name for bit, name in CHARACTERISTIC_PROPERTIES.items() if char.properties & bit
                ]
                bleak_char = BleakGATTCharacteristic(
                    char,
                    char.handle,
                    _uuid_str(char.uuid),
                    props,
                    lambda: self.mtu_size - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for desc in char.descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, _uuid_str(desc.type), bleak_char)
                    )
        return collection

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        self._subscribers.clear()
        if self._central is not None:
            self.radio.release_central(self._central)
            self._central = None
        if not self._disconnecting and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        connection, self._disconnecting = self._connection, True
        if connection is not None:
            gone = asyncio.get_running_loop().create_future()
            connection.once(connection.EVENT_DISCONNECTION, gone.set_result)
            try:
                await connection.disconnect()
                await asyncio.wait_for(gone, timeout=2.0)
            except Exception:
                pass
        self._connection = None

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("the virtual sensors need no pairing")

    async def unpair(self) -> None:
        raise NotImplementedError("the virtual sensors need no pairing")

    def _require(self) -> Connection:
        if self._connection is None:
            raise BleakError("Not connected")
        return self._connection

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **_: Any
    ) -> bytearray:
        self._require()
        return bytearray(await _att(characteristic.obj.read_value()))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **_: Any
    ) -> bytearray:
        self._require()
        return bytearray(await _att(descriptor.obj.read_value()))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        self._require()
        await _att(characteristic.obj.write_value(bytes(data), with_response=response))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        self._require()
        await _att(descriptor.obj.write_value(bytes(data), with_response=True))

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **_: Any
    ) -> None:
        self._require()

        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        self._subscribers[characteristic.handle] = on_value
        await _att(characteristic.obj.subscribe(on_value, prefer_notify=True))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._require()
        subscriber = self._subscribers.pop(characteristic.handle, None)
        await _att(characteristic.obj.unsubscribe(subscriber))


async def _att(awaitable: Any) -> Any:
    """ATT errors surface as bleak's GATT protocol error, as on the native backends."""
    try:
        return await awaitable
    except att.ATT_Error as exc:
        raise BleakGATTProtocolError(exc.error_code) from exc
