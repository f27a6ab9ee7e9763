"""Control-point commands and battery level of the hipsense GATT profile, version 1.

Control characteristic (write with response)::

    opcode  name              parameters                        length
    0x01    start streaming   -                                 1
    0x02    stop streaming    -                                 1
    0x03    set sample rate   u16 rate_hz (25..400)             3
    0x04    set ranges        u8 acc_range_g, u16 gyr_range_dps 4

A sensor answers a bad write with an ATT application error (``ControlAttError``), so the
host's write call fails and the sensor's state stays unchanged.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from hipsense.errors import ProtocolError

SAMPLE_RATE_MIN_HZ = 25
SAMPLE_RATE_MAX_HZ = 400
ACC_RANGES_G = (2, 4, 8, 16)
GYR_RANGES_DPS = (125, 250, 500, 1000, 2000)
BATTERY_LEVEL_MAX_PERCENT = 100

_RATE = struct.Struct("<BH")
_RANGES = struct.Struct("<BBH")


class ControlOpcode(IntEnum):
    START_STREAMING = 0x01
    STOP_STREAMING = 0x02
    SET_SAMPLE_RATE = 0x03
    SET_RANGES = 0x04


class ControlAttError(IntEnum):
    """ATT application error codes (0x80-0x9F) a sensor returns for a rejected command."""

    UNKNOWN_OPCODE = 0x80
    INVALID_LENGTH = 0x81
    VALUE_OUT_OF_RANGE = 0x82
    BUSY_STREAMING = 0x83


class ControlCommandError(ProtocolError):
    """A control write the sensor must reject; ``att_error`` is the code it answers with."""

    def __init__(self, att_error: ControlAttError, message: str) -> None:
        self.att_error = att_error
        super().__init__(f"{message} (ATT error 0x{att_error:02X} {att_error.name})")


@dataclass(frozen=True)
class StartStreaming:
    pass


@dataclass(frozen=True)
class StopStreaming:
    pass


@dataclass(frozen=True)
class SetSampleRate:
    sample_rate_hz: int


@dataclass(frozen=True)
class SetRanges:
    acc_range_g: int
    gyr_range_dps: int


ControlCommand = StartStreaming | StopStreaming | SetSampleRate | SetRanges

_LENGTHS = {
    ControlOpcode.START_STREAMING: 1,
    ControlOpcode.STOP_STREAMING: 1,
    ControlOpcode.SET_SAMPLE_RATE: _RATE.size,
    ControlOpcode.SET_RANGES: _RANGES.size,
}


def encode_control(command: ControlCommand) -> bytes:
    """Bytes to write to the control characteristic; validated as the sensor would."""
    match command:
        case StartStreaming():
            payload = bytes([ControlOpcode.START_STREAMING])
        case StopStreaming():
            payload = bytes([ControlOpcode.STOP_STREAMING])
        case SetSampleRate(rate):
            _check_rate(rate)
            payload = _RATE.pack(ControlOpcode.SET_SAMPLE_RATE, rate)
        case SetRanges(acc_g, gyr_dps):
            _check_ranges(acc_g, gyr_dps)
            payload = _RANGES.pack(ControlOpcode.SET_RANGES, acc_g, gyr_dps)
    return payload


def decode_control(payload: bytes | bytearray | memoryview) -> ControlCommand:
    """Parse a control write; raise ControlCommandError carrying the ATT error to answer."""
    data = bytes(payload)
    if not data:
        raise ControlCommandError(ControlAttError.INVALID_LENGTH, "control write is empty")
    try:
        opcode = ControlOpcode(data[0])
    except ValueError as exc:
        raise ControlCommandError(
            ControlAttError.UNKNOWN_OPCODE, f"control opcode 0x{data[0]:02X} is not defined"
        ) from exc
    if len(data) != _LENGTHS[opcode]:
        raise ControlCommandError(
            ControlAttError.INVALID_LENGTH,
            f"{opcode.name} takes {_LENGTHS[opcode]} bytes, got {len(data)}",
        )
    return _parse(opcode, data)


def _parse(opcode: ControlOpcode, data: bytes) -> ControlCommand:
    if opcode is ControlOpcode.START_STREAMING:
        return StartStreaming()
    if opcode is ControlOpcode.STOP_STREAMING:
        return StopStreaming()
    if opcode is ControlOpcode.SET_SAMPLE_RATE:
        _, rate = _RATE.unpack(data)
        _check_rate(rate)
        return SetSampleRate(rate)
    _, acc_g, gyr_dps = _RANGES.unpack(data)
    _check_ranges(acc_g, gyr_dps)
    return SetRanges(acc_g, gyr_dps)


def _check_rate(rate_hz: int) -> None:
    if not SAMPLE_RATE_MIN_HZ <= rate_hz <= SAMPLE_RATE_MAX_HZ:
        raise ControlCommandError(
            ControlAttError.VALUE_OUT_OF_RANGE,
            f"sample rate {rate_hz} Hz is outside {SAMPLE_RATE_MIN_HZ}..{SAMPLE_RATE_MAX_HZ} Hz",
        )


def _check_ranges(acc_g: int, gyr_dps: int) -> None:
    if acc_g not in ACC_RANGES_G or gyr_dps not in GYR_RANGES_DPS:
        raise ControlCommandError(
            ControlAttError.VALUE_OUT_OF_RANGE,
            f"ranges ±{acc_g} g / ±{gyr_dps} °/s unsupported: acc one of {ACC_RANGES_G} g,"
            f" gyro one of {GYR_RANGES_DPS} °/s",
        )


def encode_battery_level(percent: int) -> bytes:
    """Battery Level (0x2A19): one unsigned byte, 0..100 %."""
    if not 0 <= percent <= BATTERY_LEVEL_MAX_PERCENT:
        raise ProtocolError(f"battery level {percent} % is outside 0..100 %")
    return bytes([percent])


def decode_battery_level(payload: bytes | bytearray | memoryview) -> int:
    if len(payload) != 1:
        raise ProtocolError(f"battery level is {len(payload)} bytes, expected 1")
    percent = int(payload[0])
    if percent > BATTERY_LEVEL_MAX_PERCENT:
        raise ProtocolError(f"battery level {percent} % is above 100 %: a faulty sensor reading")
    return percent
