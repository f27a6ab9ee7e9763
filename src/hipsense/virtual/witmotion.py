"""A virtual WitMotion WT901BLE-family sensor: service 0xFFE5, notify 0xFFE4, write 0xFFE9.

It streams one 20-byte ``55 61`` frame per notification as soon as notifications are enabled,
at the rate set by register 0x03 (10 Hz until it is written, PROTOCOL.md §9), like the real
module. Frames carry no counter or clock.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from bumble import att, gatt
from bumble.core import UUID
from bumble.device import Connection

from hipsense.errors import ProtocolError
from hipsense.protocol.witmotion import (
    DEFAULT_RATE_HZ,
    RATE_HZ_BY_CODE,
    REGISTER_RATE,
    decode_witmotion_command,
    encode_witmotion_frames,
)
from hipsense.virtual.motion import MotionSource, RampSource
from hipsense.virtual.peripheral import Pacing, VirtualPeripheral

SERVICE_16 = 0xFFE5
NOTIFY_16 = 0xFFE4
WRITE_16 = 0xFFE9


class VirtualWitMotion(VirtualPeripheral):
    """A WitMotion-profile sensor on the virtual radio."""

    service_uuids_16 = (SERVICE_16,)

    def __init__(
        self,
        name: str | None = None,
        motion: MotionSource | None = None,
        *,
        rate_hz: float = DEFAULT_RATE_HZ,
        pacing: Pacing = "realtime",
        **options: Any,
    ) -> None:
        super().__init__(name, pacing=pacing, model="WT901BLE", **options)
        self.motion: MotionSource = motion if motion is not None else RampSource()
        self.rate_hz = rate_hz
        self.samples_sent = 0
        self._sample_index = 0
        self._stream_start_index = 0
        self._notify_char: gatt.Characteristic[bytes] | None = None

    def default_name(self, address: str) -> str:
        return "WT901BLE" + address[-2:]

    def _services(self) -> list[gatt.Service]:
        props = gatt.Characteristic.Properties
        self._notify_char = gatt.Characteristic(
            UUID.from_16_bits(NOTIFY_16), props.NOTIFY, gatt.Characteristic.READABLE, b""
        )
        write_char: gatt.Characteristic[bytes] = gatt.Characteristic(
            UUID.from_16_bits(WRITE_16),
            props.WRITE | props.WRITE_WITHOUT_RESPONSE,
            gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue[bytes](write=self._on_write),
        )
        self._notify_char.on("subscription", self._on_subscription)
        return [gatt.Service(UUID.from_16_bits(SERVICE_16), [self._notify_char, write_char])]

    def _on_subscription(self, _connection: Connection, notify_enabled: bool, *_: Any) -> None:
        if notify_enabled:
            self.start_streaming()
        else:
            self.stop_streaming()

    def _on_write(self, _connection: Connection, value: bytes) -> None:
        try:
            register, code = decode_witmotion_command(value)
        except ProtocolError as exc:
            raise att.ATT_Error(att.ErrorCode.VALUE_NOT_ALLOWED) from exc
        if register == REGISTER_RATE and code in RATE_HZ_BY_CODE:
            self.rate_hz = RATE_HZ_BY_CODE[code]

    def _on_stream_start(self) -> None:
        self._stream_start_index = self._sample_index

    def _due_samples(self, elapsed_s: float) -> int | None:
        if self.pacing == "fast":
            return None
        return self._stream_start_index + int(elapsed_s * self.rate_hz) - self._sample_index

    async def _stream_once(self, connection: Connection, due: int | None) -> bool:
        for _ in range(1 if due is None else due):
            block = self.motion.read(1)
            if block is None:
                return False
            angle = np.zeros((1, 3), dtype=np.int16)
            frame = encode_witmotion_frames(block.acc_raw, block.gyr_raw, angle)
            assert self._notify_char is not None
            await self.notify(connection, self._notify_char, frame)
            self._sample_index += 1
            self.samples_sent += 1
        return True
