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

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hipsense.errors import ProtocolError
from hipsense.protocol.gatt import (
    CONTROL_UUID,
    IMU_DATA_UUID,
    PROTOCOL_VERSION,
    SENSOR_INFO_UUID,
    SERVICE_UUID,
)
from hipsense.protocol.sensor_info import (
    INFO_MAG_AVAILABLE,
    INFO_STREAMING,
    INFO_STRUCT,
    MODEL_MAX_BYTES,
    SensorInfo,
    decode_sensor_info,
    encode_sensor_info,
)

__all__ = [
    "ATT_NOTIFY_OVERHEAD",
    "CONTROL_UUID",
    "COUNT_MASK",
    "HEADER",
    "IMU_DATA_UUID",
    "INFO_MAG_AVAILABLE",
    "INFO_STREAMING",
    "INFO_STRUCT",
    "MAG_FLAG",
    "MAX_COUNT",
    "MODEL_MAX_BYTES",
    "PROTOCOL_VERSION",
    "RESERVED_BIT",
    "SAMPLE_DTYPE",
    "SAMPLE_MAG_DTYPE",
    "SENSOR_INFO_UUID",
    "SEQ_MODULO",
    "SERVICE_UUID",
    "TIME_MODULO_US",
    "ImuPacket",
    "ImuPacketRun",
    "SensorInfo",
    "decode_imu_packet",
    "decode_imu_packets",
    "decode_sensor_info",
    "encode_imu_packet",
    "encode_sensor_info",
    "max_samples_per_packet",
]

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


def _scaled(raw: Int16Array, scale: float) -> FloatArray:
    return raw.astype(np.float64) * scale


def _sample_dtype(payload: bytes | bytearray | memoryview) -> tuple[int, np.dtype[np.void]]:
    """Check the header and length; return the sample count and layout."""
    if len(payload) < HEADER.size:
        raise ProtocolError(
            f"IMU packet is {len(payload)} bytes, shorter than the {HEADER.size}-byte header"
        )
    version, info_byte = payload[0], payload[1]
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
    if count == 0:
        raise ProtocolError("IMU packet declares 0 samples; version 1 sends 1 to 63")
    if len(payload) != expected:
        raise ProtocolError(
            f"IMU packet declares {count} samples ({expected} bytes) but is {len(payload)} bytes"
        )
    return count, dtype


def decode_imu_packet(payload: bytes | bytearray | memoryview, info: SensorInfo) -> ImuPacket:
    """Decode one IMU-data notification; raise ProtocolError for anything malformed."""
    payload = memoryview(payload).cast("B")
    count, dtype = _sample_dtype(payload)
    version, _, seq, t0_us = HEADER.unpack_from(payload)
    samples = np.frombuffer(payload, dtype=dtype, count=count, offset=HEADER.size)
    # astype copies into native, contiguous arrays that do not alias the caller's buffer
    acc_raw = samples["acc"].astype(np.int16)
    gyr_raw = samples["gyr"].astype(np.int16)
    mag_raw = samples["mag"].astype(np.int16) if dtype is SAMPLE_MAG_DTYPE else None
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


@dataclass(frozen=True, eq=False)
class ImuPacketRun:
    """Consecutive IMU notifications of one layout, decoded at once: per-packet header fields
    (P,) and samples (P, N, 3) in SI units, the same values ``decode_imu_packet`` gives."""

    seq: npt.NDArray[np.int64]
    t0_us: npt.NDArray[np.int64]
    acc_mps2: FloatArray
    gyr_radps: FloatArray
    mag_ut: FloatArray | None

    @property
    def sample_count(self) -> int:
        """Samples per packet (N)."""
        return int(self.acc_mps2.shape[1])

    def __len__(self) -> int:
        return int(self.seq.shape[0])


def decode_imu_packets(
    payloads: Sequence[bytes | bytearray], info: SensorInfo
) -> ImuPacketRun | None:
    """Decode many notifications with one ``np.frombuffer`` when they are all valid and share
    one layout (length and header flags); None otherwise (decode them one by one then: only
    ``decode_imu_packet`` says what is wrong with a payload)."""
    if not payloads:
        return None
    first = payloads[0]
    try:
        count, dtype = _sample_dtype(first)
    except ProtocolError:
        return None
    size, info_byte = len(first), first[1]
    if any(len(p) != size for p in payloads):
        return None
    layout = np.dtype(
        [("version", "u1"), ("info", "u1"), ("seq", "<u2"), ("t0", "<u4"), ("s", dtype, (count,))]
    )
    packets = np.frombuffer(b"".join(payloads), dtype=layout)
    if not ((packets["version"] == PROTOCOL_VERSION) & (packets["info"] == info_byte)).all():
        return None
    samples = packets["s"]
    mag = samples["mag"] if dtype is SAMPLE_MAG_DTYPE else None
    return ImuPacketRun(
        seq=packets["seq"].astype(np.int64),
        t0_us=packets["t0"].astype(np.int64),
        acc_mps2=_scaled(samples["acc"], info.acc_scale_mps2_per_lsb),
        gyr_radps=_scaled(samples["gyr"], info.gyr_scale_radps_per_lsb),
        mag_ut=None if mag is None else _scaled(mag, info.mag_scale_ut_per_lsb),
    )


def _int16_rows(values: npt.ArrayLike, name: str) -> Int16Array:
    array = np.asarray(values)
    if array.size % 3 or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise ProtocolError(f"{name} must be integer counts of shape (N, 3)")
    if array.size and (array.min() < -32768 or array.max() > 32767):
        raise ProtocolError(f"{name} counts must lie in the int16 range -32768..32767")
    return array.astype(np.int16).reshape(-1, 3)


def encode_imu_packet(
    seq: int,
    t0_us: int,
    acc_raw: npt.ArrayLike,
    gyr_raw: npt.ArrayLike,
    mag_raw: npt.ArrayLike | None = None,
) -> bytes:
    """Encode raw int16 samples (shape (N, 3) each) into one IMU-data notification.

    ``seq`` and ``t0_us`` are taken modulo their wire width, so callers may pass running counts.
    """
    acc = _int16_rows(acc_raw, "acc_raw")
    gyr = _int16_rows(gyr_raw, "gyr_raw")
    mag = None if mag_raw is None else _int16_rows(mag_raw, "mag_raw")
    count = acc.shape[0]
    if not 1 <= count <= MAX_COUNT or gyr.shape[0] != count:
        raise ProtocolError(
            f"cannot encode {count} acc / {gyr.shape[0]} gyr samples: 1..{MAX_COUNT} each"
        )
    if mag is not None and mag.shape[0] != count:
        raise ProtocolError(f"cannot encode {mag.shape[0]} mag samples with {count} acc samples")
    samples = np.empty(count, dtype=SAMPLE_DTYPE if mag is None else SAMPLE_MAG_DTYPE)
    samples["acc"] = acc
    samples["gyr"] = gyr
    if mag is not None:
        samples["mag"] = mag
    info_byte = count | (0 if mag is None else MAG_FLAG)
    header = HEADER.pack(PROTOCOL_VERSION, info_byte, seq % SEQ_MODULO, t0_us % TIME_MODULO_US)
    return header + samples.tobytes()
