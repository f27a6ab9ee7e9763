"""WitMotion WT901BLE family (WT901BLECL, BWT901BLE...): notification decoder and commands.

The sensor notifies on 0xFFE4 in service 0xFFE5 and takes commands on 0xFFE9. A notification
holds one or more 20-byte frames: ``55 61`` then int16 LE ax, ay, az, wx, wy, wz, roll, pitch,
yaw, scaled by 16 g, 2000 °/s and 180° per 32768. Other frame types (``55 71`` register replies)
are skipped and counted. Frames carry no counter or timestamp: the host stamps arrival time.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hipsense.errors import ProtocolError
from hipsense.protocol.gatt import sig_uuid
from hipsense.samples import STANDARD_GRAVITY_MPS2

WITMOTION_SERVICE_UUID = sig_uuid(0xFFE5)
WITMOTION_NOTIFY_UUID = sig_uuid(0xFFE4)
WITMOTION_WRITE_UUID = sig_uuid(0xFFE9)

FRAME_SIZE = 20
FRAME_MAGIC = 0x55
FLAG_IMU = 0x61
FLAG_REGISTER = 0x71
FRAME_DTYPE = np.dtype(
    [
        ("magic", "u1"),
        ("flag", "u1"),
        ("acc", "<i2", (3,)),
        ("gyr", "<i2", (3,)),
        ("angle", "<i2", (3,)),
    ]
)
ACC_SCALE_MPS2_PER_LSB = 16.0 * STANDARD_GRAVITY_MPS2 / 32768.0
GYR_SCALE_RADPS_PER_LSB = math.radians(2000.0) / 32768.0
ANGLE_SCALE_DEG_PER_LSB = 180.0 / 32768.0

# Register writes are FF AA <register> <value low> <value high>
_COMMAND = struct.Struct("<BBBH")
COMMAND_PREFIX = (0xFF, 0xAA)
REGISTER_SAVE = 0x00
REGISTER_RATE = 0x03
UNLOCK_COMMAND = bytes.fromhex("ffaa6988b5")
SAVE_COMMAND = bytes.fromhex("ffaa000000")
# Output-rate codes of register 0x03 as the WT901BLE documents them (0x0A is not offered).
RATE_CODES_BY_HZ: dict[float, int] = {
    0.2: 0x01,
    0.5: 0x02,
    1.0: 0x03,
    2.0: 0x04,
    5.0: 0x05,
    10.0: 0x06,
    20.0: 0x07,
    50.0: 0x08,
    100.0: 0x09,
    200.0: 0x0B,
}
RATE_HZ_BY_CODE = {code: hz for hz, code in RATE_CODES_BY_HZ.items()}
DEFAULT_RATE_HZ = 10.0

FloatArray = npt.NDArray[np.float64]
Int16Array = npt.NDArray[np.int16]


@dataclass(frozen=True, eq=False)
class WitMotionBatch:
    """The IMU frames of one notification, in raw counts and SI units, oldest first."""

    acc_raw: Int16Array
    gyr_raw: Int16Array
    angle_raw: Int16Array
    acc_mps2: FloatArray
    gyr_radps: FloatArray
    angle_deg: FloatArray
    skipped_frames: int

    @property
    def sample_count(self) -> int:
        return int(self.acc_raw.shape[0])


def _scaled(raw: Int16Array, scale: float) -> FloatArray:
    return raw.astype(np.float64) * scale


def decode_witmotion(payload: bytes | bytearray | memoryview) -> WitMotionBatch:
    """Decode a WitMotion notification; raise ProtocolError unless it is whole 55-xx frames."""
    if len(payload) == 0 or len(payload) % FRAME_SIZE:
        raise ProtocolError(
            f"WitMotion notification is {len(payload)} bytes, not a whole number of"
            f" {FRAME_SIZE}-byte frames"
        )
    frames = np.frombuffer(payload, dtype=FRAME_DTYPE)
    foreign = frames["magic"] != FRAME_MAGIC
    if foreign.any():
        first = int(np.argmax(foreign))
        raise ProtocolError(
            f"WitMotion frame {first} starts with 0x{int(frames['magic'][first]):02X},"
            f" expected 0x{FRAME_MAGIC:02X}: not a WitMotion sensor, or a torn notification"
        )
    is_imu = frames["flag"] == FLAG_IMU
    imu = frames if is_imu.all() else frames[is_imu]
    acc_raw: Int16Array = imu["acc"].astype(np.int16)
    gyr_raw: Int16Array = imu["gyr"].astype(np.int16)
    angle_raw: Int16Array = imu["angle"].astype(np.int16)
    return WitMotionBatch(
        acc_raw=acc_raw,
        gyr_raw=gyr_raw,
        angle_raw=angle_raw,
        acc_mps2=_scaled(acc_raw, ACC_SCALE_MPS2_PER_LSB),
        gyr_radps=_scaled(gyr_raw, GYR_SCALE_RADPS_PER_LSB),
        angle_deg=_scaled(angle_raw, ANGLE_SCALE_DEG_PER_LSB),
        skipped_frames=int(frames.shape[0] - imu.shape[0]),
    )


def encode_witmotion_frames(
    acc_raw: npt.ArrayLike, gyr_raw: npt.ArrayLike, angle_raw: npt.ArrayLike
) -> bytes:
    """Concatenated ``55 61`` frames for rows of raw counts (for the virtual WitMotion sensor)."""
    acc = np.asarray(acc_raw, dtype=np.int16).reshape(-1, 3)
    frames = np.zeros(acc.shape[0], dtype=FRAME_DTYPE)
    frames["magic"] = FRAME_MAGIC
    frames["flag"] = FLAG_IMU
    frames["acc"] = acc
    frames["gyr"] = np.asarray(gyr_raw, dtype=np.int16).reshape(-1, 3)
    frames["angle"] = np.asarray(angle_raw, dtype=np.int16).reshape(-1, 3)
    return frames.tobytes()


def encode_witmotion_command(register: int, value: int) -> bytes:
    """A register write, ``FF AA <register> <value u16 LE>``."""
    if not (0 <= register <= 0xFF and 0 <= value <= 0xFFFF):
        raise ProtocolError(f"WitMotion register 0x{register:X} = {value} does not fit the command")
    return _COMMAND.pack(*COMMAND_PREFIX, register, value)


def decode_witmotion_command(payload: bytes | bytearray | memoryview) -> tuple[int, int]:
    """(register, value) of a register write; the unlock command is register 0x69."""
    if len(payload) != _COMMAND.size or tuple(payload[:2]) != COMMAND_PREFIX:
        raise ProtocolError(f"not a WitMotion command (FF AA reg lo hi): {bytes(payload).hex()}")
    _, _, register, value = _COMMAND.unpack(payload)
    return register, value


def rate_command(rate_hz: float) -> bytes:
    """The command that sets the output rate; send UNLOCK_COMMAND first, SAVE_COMMAND after."""
    try:
        code = RATE_CODES_BY_HZ[float(rate_hz)]
    except KeyError as exc:
        choices = ", ".join(f"{hz:g}" for hz in RATE_CODES_BY_HZ)
        raise ProtocolError(f"WitMotion cannot stream at {rate_hz} Hz; choose {choices}") from exc
    return encode_witmotion_command(REGISTER_RATE, code)
