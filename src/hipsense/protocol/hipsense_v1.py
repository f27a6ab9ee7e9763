"""The hipsense GATT profile, protocol version 1 (see firmware_protocol/PROTOCOL.md).

IMU data notification::

    offset size  field
    0      1     protocol version (1)
    1      1     bits 0-5 sample count N (1..63), bit 6 reserved (0), bit 7 magnetometer present
    2      2     sequence number of the first sample (u16, counts samples, wraps)
    4      4     device time of the first sample in microseconds (u32, wraps)
    8      12*N  samples: int16 acc x,y,z then gyr x,y,z (+ int16 mag x,y,z when bit 7 is set)

All little-endian. Six-axis samples are 12 bytes, so one fits the 20-byte minimum ATT payload.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hipsense.errors import ProtocolError
from hipsense.samples import STANDARD_GRAVITY_MPS2

PROTOCOL_VERSION = 1

_UUID_SUFFIX = "-5c4e-4b8e-9c3d-68697073656e"
SERVICE_UUID = "7a1f0001" + _UUID_SUFFIX
IMU_DATA_UUID = "7a1f0002" + _UUID_SUFFIX
SENSOR_INFO_UUID = "7a1f0003" + _UUID_SUFFIX
CONTROL_UUID = "7a1f0004" + _UUID_SUFFIX

HEADER = struct.Struct("<BBHI")
COUNT_MASK = 0x3F
RESERVED_BIT = 0x40
MAG_FLAG = 0x80
MAX_COUNT = COUNT_MASK
SEQ_MODULO = 1 << 16
TIME_MODULO_US = 1 << 32
ATT_NOTIFY_OVERHEAD = 3

SAMPLE_DTYPE = np.dtype([("acc", "<i2", (3,)), ("gyr", "<i2", (3,))])
SAMPLE_MAG_DTYPE = np.dtype([("acc", "<i2", (3,)), ("gyr", "<i2", (3,)), ("mag", "<i2", (3,))])

Int16Array = npt.NDArray[np.int16]
FloatArray = npt.NDArray[np.float64]


def max_samples_per_packet(mtu: int, *, with_mag: bool = False) -> int:
    """How many samples one notification carries at a negotiated ATT MTU."""
    itemsize = (SAMPLE_MAG_DTYPE if with_mag else SAMPLE_DTYPE).itemsize
    fit = (mtu - ATT_NOTIFY_OVERHEAD - HEADER.size) // itemsize
    return max(0, min(MAX_COUNT, fit))


@dataclass(frozen=True, eq=False)
class ImuPacket:
    """One decoded IMU notification: header fields and samples in raw counts and SI units."""

    version: int
    seq: int
    t0_us: int
    acc_raw: Int16Array
    gyr_raw: Int16Array
    mag_raw: Int16Array | None
    acc_mps2: FloatArray
    gyr_radps: FloatArray
    mag_ut: FloatArray | None

    @property
    def sample_count(self) -> int:
        return int(self.acc_raw.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImuPacket):
            return NotImplemented
        same_mag = (self.mag_raw is None and other.mag_raw is None) or (
            self.mag_raw is not None
            and other.mag_raw is not None
            and np.array_equal(self.mag_raw, other.mag_raw)
        )
        return (
            (self.version, self.seq, self.t0_us) == (other.version, other.seq, other.t0_us)
            and np.array_equal(self.acc_raw, other.acc_raw)
            and np.array_equal(self.gyr_raw, other.gyr_raw)
            and same_mag
        )

    __hash__ = None  # type: ignore[assignment]


_INFO = struct.Struct("<BBHBHfffB")
INFO_MAG_AVAILABLE = 0x01
INFO_STREAMING = 0x02
MODEL_MAX_BYTES = 16


@dataclass(frozen=True)
class SensorInfo:
    """The sensor-info characteristic: what the host needs to turn counts into SI units."""

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
    axis_convention: int = 0

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
            mag_scale_ut_per_lsb=_f32(0.15),
            model=model,
            mag_available=mag_available,
            streaming=streaming,
        )


def _f32(value: float) -> float:
    """The value as the characteristic's float32 carries it, so info round-trips exactly."""
    return float(np.float32(value))


def encode_sensor_info(info: SensorInfo) -> bytes:
    flags = (INFO_MAG_AVAILABLE if info.mag_available else 0) | (
        INFO_STREAMING if info.streaming else 0
    )
    model = info.model.encode("utf-8")[:MODEL_MAX_BYTES]
    return (
        _INFO.pack(
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
        + model
    )


def decode_sensor_info(payload: bytes) -> SensorInfo:
    if len(payload) < _INFO.size:
        raise ProtocolError(
            f"sensor info is {len(payload)} bytes, expected at least {_INFO.size}:"
            " check the sensor firmware implements hipsense protocol 1"
        )
    version, flags, rate, acc_g, gyr_dps, acc_s, gyr_s, mag_s, axes = _INFO.unpack_from(payload)
    if version != PROTOCOL_VERSION:
        raise ProtocolError(
            f"sensor speaks hipsense protocol {version}; this hipsense understands"
            f" {PROTOCOL_VERSION}: update hipsense or the sensor firmware"
        )
    scales = (acc_s, gyr_s, mag_s)
    if not all(math.isfinite(s) and s > 0 for s in scales) or rate == 0:
        raise ProtocolError(f"sensor info has invalid rate/scales: rate={rate}, scales={scales}")
    try:
        model = bytes(payload[_INFO.size :]).decode("utf-8")
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


def _scaled(raw: Int16Array, scale: float) -> FloatArray:
    return raw.astype(np.float64) * scale


def decode_imu_packet(payload: bytes | bytearray | memoryview, info: SensorInfo) -> ImuPacket:
    """Decode one IMU-data notification; raise ProtocolError for anything malformed."""
    if len(payload) < HEADER.size:
        raise ProtocolError(
            f"IMU packet is {len(payload)} bytes, shorter than the {HEADER.size}-byte header"
        )
    version, info_byte, seq, t0_us = HEADER.unpack_from(payload)
    if version != PROTOCOL_VERSION:
        raise ProtocolError(
            f"IMU packet has protocol version {version}; this hipsense understands"
            f" {PROTOCOL_VERSION}: update hipsense or the sensor firmware"
        )
    if info_byte & RESERVED_BIT:
        raise ProtocolError("IMU packet sets the reserved header bit 6: not a version-1 packet")
    count = info_byte & COUNT_MASK
    dtype = SAMPLE_MAG_DTYPE if info_byte & MAG_FLAG else SAMPLE_DTYPE
    expected = HEADER.size + count * dtype.itemsize
    if count == 0 or len(payload) != expected:
        raise ProtocolError(
            f"IMU packet declares {count} samples ({expected} bytes) but is {len(payload)} bytes"
        )
    samples = np.frombuffer(payload, dtype=dtype, count=count, offset=HEADER.size)
    acc_raw = samples["acc"].astype(np.int16)
    gyr_raw = samples["gyr"].astype(np.int16)
    mag_raw = samples["mag"].astype(np.int16) if "mag" in dtype.names else None  # type: ignore[operator]
    return ImuPacket(
        version=version,
        seq=seq,
        t0_us=t0_us,
        acc_raw=acc_raw,
        gyr_raw=gyr_raw,
        mag_raw=mag_raw,
        acc_mps2=_scaled(acc_raw, info.acc_scale_mps2_per_lsb),
        gyr_radps=_scaled(gyr_raw, info.gyr_scale_radps_per_lsb),
        mag_ut=None if mag_raw is None else _scaled(mag_raw, info.mag_scale_ut_per_lsb),
    )


def encode_imu_packet(
    seq: int,
    t0_us: int,
    acc_raw: npt.ArrayLike,
    gyr_raw: npt.ArrayLike,
    mag_raw: npt.ArrayLike | None = None,
) -> bytes:
    """Encode raw int16 samples (shape (N, 3) each) into one IMU-data notification."""
    acc = np.asarray(acc_raw, dtype=np.int16).reshape(-1, 3)
    gyr = np.asarray(gyr_raw, dtype=np.int16).reshape(-1, 3)
    count = acc.shape[0]
    if not 1 <= count <= MAX_COUNT or gyr.shape[0] != count:
        raise ProtocolError(f"cannot encode {count} samples: 1..{MAX_COUNT} per packet")
    dtype = SAMPLE_DTYPE if mag_raw is None else SAMPLE_MAG_DTYPE
    samples = np.empty(count, dtype=dtype)
    samples["acc"] = acc
    samples["gyr"] = gyr
    if mag_raw is not None:
        samples["mag"] = np.asarray(mag_raw, dtype=np.int16).reshape(-1, 3)
    info_byte = count | (MAG_FLAG if mag_raw is not None else 0)
    header = HEADER.pack(PROTOCOL_VERSION, info_byte, seq % SEQ_MODULO, t0_us % TIME_MODULO_US)
    return header + samples.tobytes()
