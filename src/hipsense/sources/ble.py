"""Live Bluetooth LE sensors via bleak: scan, connect, stream, reconnect (the only bleak import).

The notification handler only stamps arrival time and enqueues the bytes; decoding, loss
accounting and clock mapping happen in the consumer (``SensorLink.stream``), so nothing
downstream can block the Bluetooth stack. Pass ``backend=radio.bleak_backend`` to run the very
same code against virtual sensors; ``backend=None`` uses the platform's Bluetooth.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import warnings
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Protocol

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakBluetoothNotAvailableError, BleakDeviceNotFoundError, BleakError

from hipsense.errors import AdapterError, ProtocolError, SensorError, SensorNotFoundError
from hipsense.protocol import (
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    CONTROL_UUID,
    IMU_DATA_UUID,
    LOCAL_NAME_PREFIX,
    SENSOR_INFO_UUID,
    SERVICE_UUID,
    SensorInfo,
    StartStreaming,
    decode_battery_level,
    decode_sensor_info,
    encode_control,
)
from hipsense.protocol.witmotion import WITMOTION_NOTIFY_UUID, WITMOTION_SERVICE_UUID
from hipsense.samples import SampleBatch
from hipsense.sources.link_health import HealthCounts, PacketAssembler, WitMotionAssembler

SensorKind = Literal["hipsense", "witmotion"]
LinkState = Literal["connecting", "connected", "reconnecting", "disconnected"]
BATTERY_SERVICE, BATTERY_LEVEL = BATTERY_SERVICE_UUID, BATTERY_LEVEL_UUID
WITMOTION_SERVICE, WITMOTION_NOTIFY = WITMOTION_SERVICE_UUID, WITMOTION_NOTIFY_UUID
_ADDRESS = re.compile(r"^([0-9A-F]{2}:){5}[0-9A-F]{2}$|^[0-9A-F-]{36}$", re.IGNORECASE)
_NOT_FOUND_ADVICE = "is it charging, within a few metres, and not connected to a phone?"


class BackendClasses(Protocol):
    """A bleak backend pair, e.g. ``VirtualRadio().bleak_backend``."""

    @property
    def scanner(self) -> type[BaseBleakScanner]: ...
    @property
    def client(self) -> type[BaseBleakClient]: ...


# (role, [(host arrival time in the link's time base, raw payload), ...])
PayloadSink = Callable[[str, list[tuple[float, bytes]]], None]


@dataclass(frozen=True)
class DiscoveredSensor:
    name: str
    address: str
    kind: SensorKind
    rssi_dbm: int
    battery_pct: int | None


@dataclass(frozen=True)
class LinkStatus:
    """How one sensor's link is doing; emitted on every change and about once a second."""

    role: str
    name: str
    address: str
    state: LinkState
    battery_pct: int | None = None
    rate_hz: float = 0.0
    loss_pct: float = 0.0
    lost_samples: int = 0
    overflow_count: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    malformed: int = 0
    received_samples: int = 0
    mtu: int = 23
    reconnects: int = 0
    message: str = ""


@dataclass(frozen=True)
class ReconnectPolicy:
    """Exponential backoff between attempts, as bleak-retry-connector does; give up after."""

    first_delay_s: float = 0.25
    max_delay_s: float = 5.0
    give_up_after_s: float = 60.0
    connect_timeout_s: float = 10.0


def _kind_of(device: BLEDevice, adv: AdvertisementData) -> SensorKind | None:
    name = adv.local_name or device.name or ""
    if SERVICE_UUID in adv.service_uuids or name.startswith(LOCAL_NAME_PREFIX):
        return "hipsense"
    if WITMOTION_SERVICE in adv.service_uuids or name.startswith("WT901"):
        return "witmotion"
    return None


def _discovered(device: BLEDevice, adv: AdvertisementData) -> DiscoveredSensor | None:
    kind = _kind_of(device, adv)
    if kind is None:
        return None
    battery = adv.service_data.get(BATTERY_SERVICE)
    return DiscoveredSensor(
        name=adv.local_name or device.name or device.address,
        address=device.address,
        kind=kind,
        rssi_dbm=adv.rssi,
        battery_pct=battery[0] if battery and battery[0] <= 100 else None,
    )


_ADAPTER_HINTS = ("adapter", "notready", "not ready", "powered", "accessdenied", "permission")


def _adapter_error(exc: Exception) -> SensorError:
    """Map bleak/OS errors: adapter missing, off or not permitted -> AdapterError."""
    if isinstance(exc, FileNotFoundError):  # Linux: no system D-Bus socket to reach BlueZ by
        return AdapterError(
            "Bluetooth is not available: no Bluetooth service is running (BlueZ's D-Bus socket"
            " is missing): start it (Linux: systemctl start bluetooth); 'hipsense demo' needs none"
        )
    text = str(exc).lower().replace(" ", "")
    hinted = any(h.replace(" ", "") in text for h in _ADAPTER_HINTS)
    if isinstance(exc, BleakBluetoothNotAvailableError | OSError) or hinted:
        return AdapterError(
            f"Bluetooth is not available ({exc}): switch Bluetooth on, check the adapter is"
            " plugged in, and that hipsense may use it (Linux: user in the 'bluetooth' group)"
        )
    return SensorError(f"Bluetooth failed: {exc}")


async def scan_sensors(
    timeout_s: float = 5.0, backend: BackendClasses | None = None
) -> list[DiscoveredSensor]:
    """hipsense and WitMotion sensors in range, strongest signal first."""
    try:
        async with BleakScanner(backend=_scanner(backend)) as scanner:
            await asyncio.sleep(timeout_s)
        found = scanner.discovered_devices_and_advertisement_data
    except (BleakError, OSError) as exc:
        raise _adapter_error(exc) from exc
    sensors = [s for d, a in found.values() if (s := _discovered(d, a)) is not None]
    return sorted(sensors, key=lambda s: -s.rssi_dbm)


async def find_sensor(
    target: str, timeout_s: float = 10.0, backend: BackendClasses | None = None
) -> tuple[BLEDevice, DiscoveredSensor]:
    """The sensor whose address or advertised name is ``target`` (case-insensitive)."""
    by_address = bool(_ADDRESS.match(target))

    def matches(device: BLEDevice, adv: AdvertisementData) -> bool:
        key = device.address if by_address else (adv.local_name or device.name or "")
        return key.lower() == target.lower() and _kind_of(device, adv) is not None

    try:
        async with BleakScanner(backend=_scanner(backend)) as scanner, asyncio.timeout(timeout_s):
            async for device, adv in scanner.advertisement_data():
                if matches(device, adv) and (sensor := _discovered(device, adv)) is not None:
                    return device, sensor
    except TimeoutError:
        pass
    except (BleakError, OSError) as exc:
        raise _adapter_error(exc) from exc
    what = "with address" if by_address else "named"
    raise SensorNotFoundError(f"no sensor {what} {target} found: {_NOT_FOUND_ADVICE}")


def _scanner(backend: BackendClasses | None) -> type[BaseBleakScanner] | None:
    return None if backend is None else backend.scanner


class SensorLink:
    """One sensor in one role, streamed as SampleBatch and LinkStatus items; reconnects itself.

    ``async with SensorLink("hipsense-1A2B", "right_thigh") as link:
    async for item in link.stream(): ...``
    """

    def __init__(
        self,
        target: str | DiscoveredSensor,
        role: str = "right_thigh",
        *,
        backend: BackendClasses | None = None,
        scan_timeout_s: float = 10.0,
        queue_size: int = 8192,
        reconnect: ReconnectPolicy = ReconnectPolicy(),
        time_origin_s: float = 0.0,
        status_interval_s: float = 1.0,
        on_payloads: PayloadSink | None = None,
    ) -> None:
        self.target = target.address if isinstance(target, DiscoveredSensor) else target
        self.role = role
        self.backend = backend
        self.scan_timeout_s = scan_timeout_s
        self.policy = reconnect
        self.time_origin_s = time_origin_s
        self.status_interval_s = status_interval_s
        self.on_payloads = on_payloads  # raw notifications for the recorder, before decoding
        self.sensor: DiscoveredSensor | None = None
        self.info: SensorInfo | None = None
        self.overflow_count = 0
        self.reconnects = 0
        self.battery_pct: int | None = None
        self._queue: asyncio.Queue[tuple[float, bytearray] | None] = asyncio.Queue(queue_size)
        self._dropped = False
        self._client: BleakClient | None = None
        self._assembler: PacketAssembler | WitMotionAssembler | None = None
        self._closing = False
        self._state: LinkState = "connecting"
        self._mtu = 23
        self._rate_mark = (time.monotonic(), 0)

    async def __aenter__(self) -> SensorLink:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        device, self.sensor = await find_sensor(self.target, self.scan_timeout_s, self.backend)
        await self._connect(device)

    async def close(self) -> None:
        self._closing = True
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            # Closing a link that is already failing: nothing is left to save.
            with contextlib.suppress(BleakError, TimeoutError, OSError):
                await asyncio.wait_for(client.disconnect(), self.policy.connect_timeout_s)
        self._state = "disconnected"

    # --- connection ------------------------------------------------------------------------

    async def _connect(self, device: BLEDevice) -> None:
        client = BleakClient(
            device,
            disconnected_callback=self._on_disconnect,
            timeout=self.policy.connect_timeout_s,
            backend=None if self.backend is None else self.backend.client,
        )
        try:
            await client.connect()
            self._dropped = False
            if self._kind == "hipsense":
                await self._start_hipsense(client)
            else:
                await self._start_witmotion(client)
        except BleakDeviceNotFoundError as exc:
            raise SensorNotFoundError(
                f"sensor {self.target} vanished: {_NOT_FOUND_ADVICE}"
            ) from exc
        except (BleakError, TimeoutError, OSError, ProtocolError) as exc:
            await _disconnect_quietly(client)
            if isinstance(exc, BleakBluetoothNotAvailableError):
                raise _adapter_error(exc) from exc
            raise SensorError(
                f"could not connect to {self.target} ({exc}): move it closer, check it is"
                " charged, and that no phone app holds it"
            ) from exc
        self._client, self._state = client, "connected"
        self._mtu = await _negotiated_mtu(client)

    @property
    def _kind(self) -> SensorKind:
        return "hipsense" if self.sensor is None else self.sensor.kind

    async def _start_hipsense(self, client: BleakClient) -> None:
        await self._follow_battery(client)
        await client.start_notify(IMU_DATA_UUID, self._on_notify)
        await client.write_gatt_char(CONTROL_UUID, encode_control(StartStreaming()), response=True)
        # PROTOCOL.md §4: re-read the info after every successful control write, before decoding.
        self.info = decode_sensor_info(await client.read_gatt_char(SENSOR_INFO_UUID))
        if isinstance(self._assembler, PacketAssembler):
            self._assembler.resume(self.info)
        else:
            self._assembler = PacketAssembler(self.role, self.info, self.time_origin_s)

    async def _start_witmotion(self, client: BleakClient) -> None:
        if isinstance(self._assembler, WitMotionAssembler):
            self._assembler.resume()
        else:
            self._assembler = WitMotionAssembler(self.role, self.time_origin_s)
        await self._follow_battery(client)
        await client.start_notify(WITMOTION_NOTIFY, self._on_notify)

    async def _follow_battery(self, client: BleakClient) -> None:
        if client.services.get_characteristic(BATTERY_LEVEL) is None:
            return
        self._on_battery(None, await client.read_gatt_char(BATTERY_LEVEL))
        await client.start_notify(BATTERY_LEVEL, self._on_battery)

    # --- callbacks: minimal work, never block ---------------------------------------------

    def _on_notify(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        try:
            self._queue.put_nowait((time.monotonic(), data))
        except asyncio.QueueFull:
            self.overflow_count += 1

    def _on_battery(self, _char: BleakGATTCharacteristic | None, data: bytearray) -> None:
        try:
            self.battery_pct = decode_battery_level(data)
        except ProtocolError:
            self.battery_pct = None

    def _on_disconnect(self, _client: BleakClient) -> None:
        if self._closing:
            return
        self._dropped = True
        # Wake the consumer after what already arrived; if the queue is full, the consumer is
        # busy anyway and checks _dropped when it runs dry.
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)

    # --- the consumer ----------------------------------------------------------------------

    async def stream(self) -> AsyncGenerator[SampleBatch | LinkStatus, None]:
        """Decoded batches in order, and a LinkStatus on every change and each interval."""
        yield self.status()
        next_status_s = time.monotonic() + self.status_interval_s
        while True:
            items = await self._drain(next_status_s - time.monotonic())
            assert self._assembler is not None
            received = [i for i in items if i is not None]
            if self.on_payloads is not None and received:
                self.on_payloads(
                    self.role, [(t - self.time_origin_s, bytes(d)) for t, d in received]
                )
            for batch in self._assembler.assemble(received):
                yield batch
            if self._dropped and (None in items or self._queue.empty()):
                async for status in self._reconnect():
                    yield status
            if time.monotonic() >= next_status_s:
                yield self.status()
                next_status_s = time.monotonic() + self.status_interval_s

    async def _drain(self, wait_s: float, most: int = 1024) -> list[tuple[float, bytearray] | None]:
        """Everything queued (up to ``most``), waiting at most ``wait_s`` for the first item."""
        if self._queue.empty():
            try:
                first = await asyncio.wait_for(self._queue.get(), max(wait_s, 0.0))
            except TimeoutError:
                return []
            items = [first]
        else:
            items = []
        while len(items) < most and not self._queue.empty():
            items.append(self._queue.get_nowait())
        return items

    async def _reconnect(self) -> AsyncIterator[LinkStatus]:
        lost_at_s = time.monotonic()
        self._client, self._state = None, "reconnecting"
        self.reconnects += 1
        yield self.status(f"link lost: reconnecting to {self.target}")
        delay_s, give_up_s = self.policy.first_delay_s, lost_at_s + self.policy.give_up_after_s
        while True:
            try:
                device, _ = await find_sensor(self.target, self.scan_timeout_s, self.backend)
                await self._connect(device)
            except SensorError as exc:
                if time.monotonic() + delay_s > give_up_s:
                    self._state = "disconnected"
                    message = (
                        f"lost {self.target} and could not reconnect for"
                        f" {self.policy.give_up_after_s:.0f} s ({exc})"
                    )
                    yield self.status(message)
                    raise SensorError(message) from exc
                await asyncio.sleep(delay_s)
                delay_s = min(2 * delay_s, self.policy.max_delay_s)
                continue
            gap_s = time.monotonic() - lost_at_s
            yield self.status(f"reconnected after {gap_s:.1f} s")
            return

    def status(self, message: str = "") -> LinkStatus:
        now_s, counts = time.monotonic(), self.counts()
        mark_s, mark_count = self._rate_mark
        rate = (counts.received_samples - mark_count) / (now_s - mark_s) if now_s > mark_s else 0.0
        self._rate_mark = (now_s, counts.received_samples)
        return LinkStatus(
            role=self.role,
            name=self.sensor.name if self.sensor else self.target,
            address=self.sensor.address if self.sensor else self.target,
            state=self._state,
            battery_pct=self.battery_pct,
            rate_hz=rate,
            loss_pct=counts.loss_pct,
            lost_samples=counts.lost_samples,
            overflow_count=self.overflow_count,
            duplicates=counts.duplicates,
            out_of_order=counts.out_of_order,
            malformed=counts.malformed,
            received_samples=counts.received_samples,
            mtu=self._mtu,
            reconnects=self.reconnects,
            message=message,
        )

    def counts(self) -> HealthCounts:
        return HealthCounts() if self._assembler is None else self._assembler.counts()


@asynccontextmanager
async def open_links(
    targets: Mapping[str, str | DiscoveredSensor],
    *,
    backend: BackendClasses | None = None,
    **options: Any,
) -> AsyncIterator[list[SensorLink]]:
    """Open one SensorLink per ``{role: name, address or DiscoveredSensor}``, all or none."""
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(SensorLink(t, role, backend=backend, **options))
            for role, t in targets.items()
        ]


async def merge_streams(*links: SensorLink) -> AsyncIterator[SampleBatch | LinkStatus]:
    """Items of several open links as they come (all on the same host clock)."""
    queue: asyncio.Queue[SampleBatch | LinkStatus | BaseException] = asyncio.Queue(1024)

    async def pump(link: SensorLink) -> None:
        try:
            async for item in link.stream():
                await queue.put(item)
        except Exception as exc:  # handed to the consumer, which re-raises it
            await queue.put(exc)

    tasks = [asyncio.create_task(pump(link)) for link in links]
    try:
        while True:
            item = await queue.get()
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _negotiated_mtu(client: BleakClient) -> int:
    """The ATT MTU in use. BlueZ exchanges it by itself, but bleak only learns the value when
    asked (``_acquire_mtu``, as bleak's docs advise) and otherwise warns on every read."""
    acquire = getattr(client._backend, "_acquire_mtu", None)  # BlueZ only
    if acquire is not None:
        with contextlib.suppress(BleakError, OSError):
            await acquire()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return int(client.mtu_size)


async def _disconnect_quietly(client: BleakClient) -> None:
    with contextlib.suppress(BleakError, TimeoutError, OSError):
        await client.disconnect()  # a half-open connection that fails to close is gone anyway
