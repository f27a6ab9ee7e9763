"""The hipsense-profile virtual sensor (firmware_protocol/PROTOCOL.md, version 1).

IMU data notify, sensor info read, control write-with-response; samples come from a motion
source, counted by a u16 sequence and stamped by a u32 µs clock that keep running across
reconnects, and each notification carries as many samples as the negotiated MTU allows.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from bumble import att, gatt
from bumble.device import Connection

from hipsense.masks import runs
from hipsense.protocol import (
    CONTROL_UUID,
    IMU_DATA_UUID,
    SENSOR_INFO_UUID,
    SERVICE_UUID,
    ControlAttError,
    ControlCommandError,
    SensorInfo,
    SetRanges,
    SetSampleRate,
    StartStreaming,
    StopStreaming,
    decode_control,
    encode_imu_packet,
    encode_sensor_info,
    max_samples_per_packet,
)
from hipsense.virtual.faults import FaultInjector, Faults
from hipsense.virtual.motion import MotionSource, RampSource, RawBlock
from hipsense.virtual.peripheral import Pacing, VirtualPeripheral

US_PER_S = 1_000_000


class VirtualSensor(VirtualPeripheral):
    """A hipsense sensor on the virtual radio, fed by a motion source."""

    service_uuids_128 = (SERVICE_UUID,)

    def __init__(
        self,
        name: str | None = None,
        motion: MotionSource | None = None,
        *,
        rate_hz: int = 200,
        acc_range_g: int = 16,
        gyr_range_dps: int = 2000,
        info: SensorInfo | None = None,
        pacing: Pacing = "realtime",
        faults: Faults | None = None,
        seq_start: int = 0,
        clock_start_us: int = 1_000_000,
        **options: Any,
    ) -> None:
        if info is not None:  # e.g. a simulated session's (its datasheet scales)
            options.setdefault("model", info.model)
        super().__init__(name, pacing=pacing, **options)
        self.motion: MotionSource = motion if motion is not None else RampSource()
        self.info = info or SensorInfo.for_ranges(
            sample_rate_hz=rate_hz,
            acc_range_g=acc_range_g,
            gyr_range_dps=gyr_range_dps,
            model=self.model,
        )
        self.faults = FaultInjector(faults or Faults())
        self.sample_index = 0  # samples produced since power-on; seq = seq_start + index
        self.seq_start = seq_start
        self.clock_start_us = clock_start_us
        self.samples_sent = 0
        self.packets_sent = 0
        self._pending_loss = 0
        self.disconnect_indices: list[int] = []  # sample index at each link loss
        self.stream_start_index = 0
        self._imu_char: gatt.Characteristic[bytes] | None = None
        # For latency benchmarks: index of a packet's last sample -> monotonic send time.
        self.send_log: dict[int, float] | None = None

    # --- GATT ------------------------------------------------------------------------------

    def _services(self) -> list[gatt.Service]:
        props = gatt.Characteristic.Properties
        self._imu_char = gatt.Characteristic(
            IMU_DATA_UUID, props.NOTIFY, gatt.Characteristic.READABLE, b""
        )
        info_char: gatt.Characteristic[bytes] = gatt.Characteristic(
            SENSOR_INFO_UUID,
            props.READ,
            gatt.Characteristic.READABLE,
            gatt.CharacteristicValue[bytes](read=lambda _c: encode_sensor_info(self.current_info)),
        )
        control_char: gatt.Characteristic[bytes] = gatt.Characteristic(
            CONTROL_UUID,
            props.WRITE,
            gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue[bytes](write=self._on_control),
        )
        return [gatt.Service(SERVICE_UUID, [self._imu_char, info_char, control_char])]

    def default_name(self, address: str) -> str:
        return "hipsense-" + address[-5:].replace(":", "")  # last two address bytes (§1)

    @property
    def current_info(self) -> SensorInfo:
        return replace(self.info, streaming=self.streaming)

    def _on_control(self, _connection: Connection, value: bytes) -> None:
        try:
            command = decode_control(value)
            if isinstance(command, SetSampleRate | SetRanges) and self.streaming:
                raise ControlCommandError(
                    ControlAttError.BUSY_STREAMING, "stop streaming before changing settings"
                )
        except ControlCommandError as exc:
            raise att.ATT_Error(int(exc.att_error), message=str(exc)) from exc
        match command:
            case StartStreaming():
                self.start_streaming()
            case StopStreaming():
                self.stop_streaming()
            case SetSampleRate(rate):
                self._retime(rate)
            case SetRanges(acc_g, gyr_dps):
                self.info = SensorInfo.for_ranges(
                    sample_rate_hz=self.info.sample_rate_hz,
                    acc_range_g=acc_g,
                    gyr_range_dps=gyr_dps,
                    model=self.model,
                )

    def _retime(self, rate_hz: int) -> None:
        # Keep the device clock continuous: re-anchor it at the current sample.
        now_us = self._time_us(self.sample_index)
        self.clock_start_us = now_us - self.sample_index * US_PER_S // rate_hz
        self.info = replace(self.info, sample_rate_hz=rate_hz)

    def _time_us(self, index: int) -> int:
        return self.clock_start_us + index * US_PER_S // self.info.sample_rate_hz

    # --- streaming -------------------------------------------------------------------------

    def lose_samples(self, count: int) -> None:
        """Samples that happen while no one listens (e.g. during a link drop) in fast pacing."""
        self._pending_loss += count

    async def drop_link(self, lost_samples: int = 0) -> None:
        self.lose_samples(lost_samples)
        await super().drop_link()

    def _on_disconnection(self) -> None:
        super()._on_disconnection()
        self.disconnect_indices.append(self.sample_index)

    def _on_stream_start(self) -> None:
        # seq and the device clock run on while not streaming (§5): the host sees a gap.
        if self.pacing == "realtime" and self.stopped_at_s is not None:
            self._pending_loss += int(
                (time.monotonic() - self.stopped_at_s) * self.info.sample_rate_hz
            )
        if self._pending_loss:
            self._skip(self._pending_loss)
            self._pending_loss = 0
        self.stream_start_index = self.sample_index

    def _skip(self, count: int) -> None:
        while count > 0 and (block := self.motion.read(count)) is not None:
            self.sample_index += len(block)
            count -= len(block)

    def _due_samples(self, elapsed_s: float) -> int | None:
        if self.pacing == "fast":
            return None
        due_index = self.stream_start_index + int(elapsed_s * self.info.sample_rate_hz)
        return due_index - self.sample_index

    async def _stream_once(self, connection: Connection, due: int | None) -> bool:
        per_packet = max_samples_per_packet(connection.att_mtu)
        budget = per_packet if due is None else due
        while budget > 0:
            block = self.motion.read(min(per_packet, budget))
            if block is None:
                return False
            budget -= len(block)
            await self._send_block(connection, block)
        return True

    async def _send_block(self, connection: Connection, block: RawBlock) -> None:
        start = self.sample_index
        self.sample_index += len(block)
        for first, stop in _kept_runs(block):
            payload = encode_imu_packet(
                (self.seq_start + start + first) % (1 << 16),
                self._time_us(start + first) % (1 << 32),
                block.acc_raw[first:stop],
                block.gyr_raw[first:stop],
            )
            for data in self.faults.apply(payload, start + first, stop - first):
                assert self._imu_char is not None
                if self.send_log is not None:
                    self.send_log[start + stop - 1] = time.monotonic()
                await self.notify(connection, self._imu_char, data)
                self.packets_sent += 1
            self.samples_sent += stop - first


def _kept_runs(block: RawBlock) -> list[tuple[int, int]]:
    """[start, stop) runs of samples not marked lost by the motion source."""
    if block.lost is None:
        return [(0, len(block))]
    return runs(~block.lost)
