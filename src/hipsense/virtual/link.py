"""The virtual radio: an in-process Bumble LocalLink with one controller + host per device.

Every virtual sensor is a Bumble peripheral and every bleak scanner/client made from
``radio.bleak_backend`` is a Bumble central on the same link, so the client code runs against
a real Bluetooth host stack (HCI, L2CAP, ATT, GATT) without a radio.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any

from bumble import hci, ll
from bumble.controller import Controller
from bumble.device import Device
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

if TYPE_CHECKING:
    from bleak.backends.client import BaseBleakClient
    from bleak.backends.scanner import BaseBleakScanner

    from hipsense.virtual.peripheral import VirtualPeripheral
    from hipsense.virtual.sensor import VirtualSensor
    from hipsense.virtual.witmotion import VirtualWitMotion

_controller_log = logging.getLogger("bumble.controller")
_host_log = logging.getLogger("bumble.host")
ATT_MTU_MAX = 247
ATT_MTU_MIN = 23
LL_DATA_LENGTH_MAX = 251


class _Controller(Controller):
    """Two fixes to Bumble's virtual controller.

    It answers an active scan with the advertising data instead of the advertiser's scan
    response, so a scanner would never see the name (PROTOCOL.md §1 puts it there): the scan
    response report is rewritten with the advertiser's real scan response data. And it formats
    every HCI packet into a debug line even with debug logging off; skipping that when nobody
    listens halves the virtual radio's CPU cost.
    """

    _scan_response: bytes | None = None

    def on_advertising_pdu(self, pdu: ll.AdvInd | ll.AdvExtInd) -> None:
        self._scan_response = self._scan_response_of(pdu.advertiser_address)
        try:
            super().on_advertising_pdu(pdu)
        finally:
            self._scan_response = None

    def _scan_response_of(self, address: hci.Address) -> bytes | None:
        advertiser = self.link.find_le_controller(address)
        if advertiser is None:
            return None
        for adv_set in advertiser.advertising_sets.values():
            if adv_set.address == address and adv_set.enabled:
                return bytes(adv_set.scan_response_data)
        legacy = advertiser.le_legacy_advertiser
        return bytes(legacy.scan_response_data) if legacy.enabled else None

    def send_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if self._scan_response is not None:
            packet = _with_scan_response(packet, self._scan_response)
        if _controller_log.isEnabledFor(logging.DEBUG):
            super().send_hci_packet(packet)
        elif self.host:
            asyncio.get_running_loop().call_soon(self.host.on_packet, bytes(packet))

    def on_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if _controller_log.isEnabledFor(logging.DEBUG):
            super().on_hci_packet(packet)
        elif isinstance(packet, hci.HCI_Command):
            self.on_hci_command_packet(packet)
        elif isinstance(packet, hci.HCI_AclDataPacket):
            self.on_hci_acl_data_packet(packet)
        else:
            super().on_hci_packet(packet)


def _with_scan_response(packet: hci.HCI_Packet, data: bytes) -> hci.HCI_Packet:
    ext = hci.HCI_LE_Extended_Advertising_Report_Event
    if isinstance(packet, ext):
        scan_response = ext.EventType.SCAN_RESPONSE
        return ext(
            [replace(r, data=data) if r.event_type & scan_response else r for r in packet.reports]
        )
    legacy = hci.HCI_LE_Advertising_Report_Event
    if isinstance(packet, legacy):
        scan_rsp = legacy.EventType.SCAN_RSP
        return legacy(
            [replace(r, data=data) if r.event_type == scan_rsp else r for r in packet.reports]
        )
    return packet


class _Host(Host):
    """Same eager debug formatting as in ``_Controller``, on the host side of HCI."""

    def send_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if _host_log.isEnabledFor(logging.DEBUG) or self.snooper:
            super().send_hci_packet(packet)
        elif self.hci_sink:
            self.hci_sink.on_packet(bytes(packet))

    def on_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if _host_log.isEnabledFor(logging.DEBUG) or self.snooper:
            super().on_hci_packet(packet)
        elif isinstance(packet, hci.HCI_Event):
            self.on_hci_event_packet(packet)
        elif isinstance(packet, hci.HCI_AclDataPacket):
            self.on_hci_acl_data_packet(packet)
        else:
            super().on_hci_packet(packet)


@dataclass(frozen=True)
class BleakBackend:
    """Backend classes to pass to ``BleakScanner(backend=...)`` / ``BleakClient(backend=...)``."""

    scanner: type[BaseBleakScanner]
    client: type[BaseBleakClient]


class _InFlightAfterDrop(logging.Filter):
    """A dropped link leaves packets in flight, and Bumble's controller warns once per packet
    ("no connection for ..."); on the virtual radio that is the expected end of a link."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("!!! no connection for")


_DROP_FILTER = _InFlightAfterDrop()


class VirtualRadio:
    """A shared virtual radio; use ``async with VirtualRadio() as radio``."""

    def __init__(self, *, central_mtu: int = ATT_MTU_MAX) -> None:
        if _DROP_FILTER not in _controller_log.filters:
            _controller_log.addFilter(_DROP_FILTER)
        if not ATT_MTU_MIN <= central_mtu <= ATT_MTU_MAX:
            raise ValueError(f"central_mtu must be {ATT_MTU_MIN}..{ATT_MTU_MAX}, not {central_mtu}")
        self.central_mtu = central_mtu
        self.link = LocalLink()  # type: ignore[no-untyped-call]
        self.sensors: list[VirtualPeripheral] = []
        self._centrals: list[Device] = []
        self._controllers: dict[int, Controller] = {}
        self._serial = itertools.count(1)
        self._backend: BleakBackend | None = None

    async def __aenter__(self) -> VirtualRadio:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def next_address(self) -> str:
        """A fresh random static address (top bits 11), unique on this radio."""
        serial = next(self._serial)
        return "C0:00:00:00:" + f"{serial >> 8:02X}:{serial & 0xFF:02X}"

    async def new_device(self, name: str, address: str | None = None) -> Device:
        """A powered-on Bumble device attached to this radio."""
        address = address or self.next_address()
        controller = _Controller(name, link=self.link, public_address=address)
        # Data Length Extension, as on nRF52 sensors and current phones: a 247-byte ATT MTU
        # then travels in one link-layer packet instead of ten 27-byte fragments.
        controller.le_acl_data_packet_length = LL_DATA_LENGTH_MAX
        device = Device(
            name=name, address=Address(address), host=_Host(controller, AsyncPipeSink(controller))
        )
        await device.power_on()
        self._controllers[id(device)] = controller
        return device

    async def new_central(self) -> Device:
        device = await self.new_device(f"hipsense-host-{len(self._centrals)}")
        self._centrals.append(device)
        return device

    def release_central(self, device: Device) -> None:
        """Take a scanner's or client's central off the air once it is done with."""
        if device in self._centrals:
            self._centrals.remove(device)
            self.link.remove_controller(self._controllers.pop(id(device)))

    async def add_sensor(
        self, name: str | None = None, motion: Any = None, **options: Any
    ) -> VirtualSensor:
        """Create, power on and start advertising a hipsense-profile virtual sensor.

        ``name`` defaults to ``hipsense-XXXX`` from the address; ``motion`` to a ramp; the
        options are VirtualSensor's (rate_hz, pacing, faults, battery_pct, info, ...).
        """
        from hipsense.virtual.sensor import VirtualSensor

        sensor = VirtualSensor(name, motion, **options)
        await sensor.attach(self)
        self.sensors.append(sensor)
        return sensor

    async def add_witmotion(
        self, name: str | None = None, motion: Any = None, **options: Any
    ) -> VirtualWitMotion:
        """Create, power on and start advertising a WitMotion-profile virtual sensor."""
        from hipsense.virtual.witmotion import VirtualWitMotion

        sensor = VirtualWitMotion(name, motion, **options)
        await sensor.attach(self)
        self.sensors.append(sensor)
        return sensor

    @property
    def bleak_backend(self) -> BleakBackend:
        if self._backend is None:
            from hipsense.virtual.bleak_backend import backend_for

            self._backend = backend_for(self)
        return self._backend

    async def close(self) -> None:
        """Stop sensors and drop connections, then let in-flight HCI traffic settle."""
        for sensor in self.sensors:
            await sensor.close()
        for central in self._centrals:
            for connection in list(central.connections.values()):
                await _quietly(connection.disconnect())
            if central.scanning:
                await _quietly(central.stop_scanning())
        # Pending controller responses are delivered with call_soon: give them a few turns.
        for _ in range(5):
            await asyncio.sleep(0.001)


async def _quietly(awaitable: Any) -> None:
    """Teardown must not fail on a link that already went away."""
    try:
        await awaitable
    except Exception:
        return
