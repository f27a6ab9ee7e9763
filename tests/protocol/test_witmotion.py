"""WitMotion WT901BLE notifications, with frames written out byte by byte as the manual shows."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from hipsense.errors import ProtocolError
from hipsense.protocol.witmotion import (
    SAVE_COMMAND,
    UNLOCK_COMMAND,
    decode_witmotion,
    decode_witmotion_command,
    encode_witmotion_frames,
    rate_command,
)

G = 9.80665


def frame(flag: int, *values: int) -> bytes:
    return bytes([0x55, flag]) + struct.pack("<9h", *values)


def test_one_frame_in_si_units() -> None:
    # 1 g on z, 250 °/s about x, roll 90°, pitch -45°, yaw 180° (-32768)
    batch = decode_witmotion(frame(0x61, 0, 0, 2048, 4096, 0, 0, 16384, -8192, -32768))
    assert batch.sample_count == 1 and batch.skipped_frames == 0
    np.testing.assert_allclose(batch.acc_mps2, [[0, 0, G]])
    np.testing.assert_allclose(batch.gyr_radps, [[math.radians(250), 0, 0]])
    np.testing.assert_allclose(batch.angle_deg, [[90, -45, -180]])


def test_concatenated_frames_keep_order_and_skip_register_replies() -> None:
    payload = (
        frame(0x61, 1, 2, 3, 4, 5, 6, 7, 8, 9)
        + frame(0x71, 0x3A, 0, 0, 0, 0, 0, 0, 0, 0)
        + frame(0x61, -1, -2, -3, -4, -5, -6, -7, -8, -9)
    )
    batch = decode_witmotion(payload)
    assert (batch.sample_count, batch.skipped_frames) == (2, 1)
    np.testing.assert_array_equal(batch.acc_raw, [[1, 2, 3], [-1, -2, -3]])
    np.testing.assert_array_equal(batch.gyr_raw, [[4, 5, 6], [-4, -5, -6]])
    np.testing.assert_array_equal(batch.angle_raw, [[7, 8, 9], [-7, -8, -9]])


def test_only_register_replies_give_an_empty_batch() -> None:
    batch = decode_witmotion(frame(0x71, *range(9)))
    assert (batch.sample_count, batch.skipped_frames) == (0, 1)
    assert batch.acc_mps2.shape == (0, 3)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "0 bytes"),
        (frame(0x61, *range(9))[:19], "19 bytes"),
        (frame(0x61, *range(9)) + b"\x55", "21 bytes"),
        (frame(0x61, *range(9)) + b"\xaa" + frame(0x61, *range(9))[1:], "frame 1 starts with 0xAA"),
    ],
)
def test_torn_or_foreign_notifications_are_protocol_errors(payload: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        decode_witmotion(payload)


def test_encoder_matches_the_hand_written_frames() -> None:
    encoded = encode_witmotion_frames([[1, 2, 3]], [[4, 5, 6]], [[7, 8, 9]])
    assert encoded == frame(0x61, 1, 2, 3, 4, 5, 6, 7, 8, 9)


def test_rate_commands() -> None:
    assert bytes.fromhex("ff aa 69 88 b5") == UNLOCK_COMMAND
    assert bytes.fromhex("ff aa 00 00 00") == SAVE_COMMAND
    assert rate_command(10) == bytes.fromhex("ff aa 03 06 00")
    assert rate_command(100) == bytes.fromhex("ff aa 03 09 00")
    assert rate_command(200) == bytes.fromhex("ff aa 03 0b 00")
    assert decode_witmotion_command(rate_command(50)) == (0x03, 0x08)
    with pytest.raises(ProtocolError, match="cannot stream at 125 Hz"):
        rate_command(125)
    with pytest.raises(ProtocolError, match="not a WitMotion command"):
        decode_witmotion_command(b"\xff\xab\x03\x06\x00")
