"""The sensor-info characteristic (read): rate, ranges, scales and model of a hipsense sensor.

Layout (little-endian, ``<BBHBHfffB`` then the model name)::

    offset size  field
    0      1     protocol version (1)
    1      1     flags: bit 0 magnetometer available, bit 1 streaming, bits 2-7 reserved
    2      2     sample rate in Hz (u16)
    4      1     accelerometer range in g (u8)
    5      2     gyroscope range in °/s (u16)
    7      4     accelerometer scale, m/s² per LSB (float32)
    11     4     gyroscope scale, rad/s per LSB (float32)
    15     4     magnetometer scale, µT per LSB (float32)
    19     1     axis convention (0 = right-handed sensor frame as printed on the board)
    20     0-16  model name, UTF-8, not terminated
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

from hipsense.errors import ProtocolError
from hipsense.protocol.gatt import PROTOCOL_VERSION
from hipsense.samples import STANDARD_GRAVITY_MPS2

INFO_STRUCT = struct.Struct("<BBHBHfffB")
INFO_MAG_AVAILABLE = 0x01
INFO_STREAMING = 0x02
MODEL_MAX_BYTES = 16
AXIS_CONVENTION_BOARD = 0
DEFAULT_MAG_SCALE_UT_PER_LSB = 0.15


@dataclass(frozen=True)
class SensorInfo:
    """What the host needs to turn counts into SI units."""

    protocol_version: int
    sample_rate_hz: int
    acc_range_g: int
    gyr_range_dps: int
    acc_scale_mps2_per_lsb: float
    gyr_scale_radps_per_lsb: float
    mag_scale_ut_per_lsb: float
    model: str
    mag_available: bool = False
    streaming: bool = False
    axis_convention: int = AXIS_CONVENTION_BOARD

    @classmethod
    def for_ranges(
        cls,
        *,
        sample_rate_hz: int,
        acc_range_g: int = 16,
        gyr_range_dps: int = 2000,
        model: str = "hipsense",
        mag_available: bool = False,
        streaming: bool = False,
    ) -> SensorInfo:
        """Scales of an ideal int16 sensor whose full scale is the given range."""
        return cls(
            protocol_version=PROTOCOL_VERSION,
            sample_rate_hz=sample_rate_hz,
            acc_range_g=acc_range_g,
            gyr_range_dps=gyr_range_dps,
            acc_scale_mps2_per_lsb=_f32(acc_range_g * STANDARD_GRAVITY_MPS2 / 32768.0),
            gyr_scale_radps_per_lsb=_f32(math.radians(gyr_range_dps) / 32768.0),
            mag_scale_ut_per_lsb=_f32(DEFAULT_MAG_SCALE_UT_PER_LSB),
            model=model,
            mag_available=mag_available,
            streaming=streaming,
        )


def _f32(value: float) -> float:
    """The value as the characteristic's float32 carries it, so info round-trips exactly."""
    return float(np.float32(value))


def _model_bytes(model: str) -> bytes:
    """At most MODEL_MAX_BYTES of UTF-8, never cutting a character in half."""
    encoded = model.encode("utf-8")
    while len(encoded) > MODEL_MAX_BYTES:
        model = model[:-1]
        encoded = model.encode("utf-8")
    return encoded


def encode_sensor_info(info: SensorInfo) -> bytes:
    flags = (INFO_MAG_AVAILABLE if info.mag_available else 0) | (
        INFO_STREAMING if info.streaming else 0
    )
    try:
        fixed = INFO_STRUCT.pack(
            info.protocol_version,
            flags,
            info.sample_rate_hz,
            info.acc_range_g,
            info.gyr_range_dps,
            info.acc_scale_mps2_per_lsb,
            info.gyr_scale_radps_per_lsb,
            info.mag_scale_ut_per_lsb,
            info.axis_convention,
        )
    except struct.error as exc:
        raise ProtocolError(f"sensor info field out of range for its wire type: {exc}") from exc
    return fixed + _model_bytes(info.model)


def decode_sensor_info(payload: bytes | bytearray | memoryview) -> SensorInfo:
    """Decode the sensor-info characteristic; raise ProtocolError for anything malformed."""
    data = bytes(payload)
    _check_info_length(len(data))
    version, flags, rate, acc_g, gyr_dps, acc_s, gyr_s, mag_s, axes = INFO_STRUCT.unpack_from(data)
    if version != PROTOCOL_VERSION:
        raise ProtocolError(
            f"sensor speaks hipsense protocol {version}; this hipsense understands"
            f" {PROTOCOL_VERSION}: update hipsense or the sensor firmware"
        )
    scales = (acc_s, gyr_s, mag_s)
    if not all(math.isfinite(s) and s > 0 for s in scales) or rate == 0:
        raise ProtocolError(f"sensor info has invalid rate/scales: rate={rate}, scales={scales}")
    if axes != AXIS_CONVENTION_BOARD:
        raise ProtocolError(f"sensor info axis convention {axes} is unknown (only 0 is defined)")
    try:
        model = data[INFO_STRUCT.size :].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError("sensor info model name is not UTF-8") from exc
    return SensorInfo(
        protocol_version=version,
        sample_rate_hz=rate,
        acc_range_g=acc_g,
        gyr_range_dps=gyr_dps,
        acc_scale_mps2_per_lsb=acc_s,
        gyr_scale_radps_per_lsb=gyr_s,
        mag_scale_ut_per_lsb=mag_s,
        model=model,
        mag_available=bool(flags & INFO_MAG_AVAILABLE),
        streaming=bool(flags & INFO_STREAMING),
        axis_convention=axes,
    )


def _check_info_length(length: int) -> None:
    if length < INFO_STRUCT.size:
        raise ProtocolError(
            f"sensor info is {length} bytes, expected at least {INFO_STRUCT.size}:"
            " check the sensor firmware implements hipsense protocol 1"
        )
    if length > INFO_STRUCT.size + MODEL_MAX_BYTES:
        raise ProtocolError(
            f"sensor info is {length} bytes, at most {INFO_STRUCT.size + MODEL_MAX_BYTES}"
            f" (model name over {MODEL_MAX_BYTES} bytes)"
        )
