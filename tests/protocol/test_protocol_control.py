from __future__ import annotations

import pytest

from hipsense.errors import ProtocolError
from hipsense.protocol import (
    ControlAttError,
    ControlCommandError,
    SetRanges,
    SetSampleRate,
    StartStreaming,
    StopStreaming,
    decode_battery_level,
    decode_control,
    encode_battery_level,
    encode_control,
)


@pytest.mark.parametrize(
    "command",
    [
        StartStreaming(),
        StopStreaming(),
        SetSampleRate(25),
        SetSampleRate(208),
        SetSampleRate(400),
        SetRanges(2, 125),
        SetRanges(16, 2000),
        SetRanges(8, 1000),
    ],
)
def test_control_commands_round_trip(command: object) -> None:
    assert decode_control(encode_control(command)) == command  # type: ignore[arg-type]


def test_set_sample_rate_is_a_little_endian_u16() -> None:
    assert encode_control(SetSampleRate(400)) == b"\x03\x90\x01"
    assert encode_control(SetRanges(16, 2000)) == b"\x04\x10\xd0\x07"


@pytest.mark.parametrize(
    ("payload", "error", "message"),
    [
        (b"", ControlAttError.INVALID_LENGTH, "empty"),
        (b"\x09", ControlAttError.UNKNOWN_OPCODE, "0x09 is not defined"),
        (b"\x02\x00", ControlAttError.INVALID_LENGTH, "STOP_STREAMING takes 1 bytes, got 2"),
        (b"\x03\x18\x00", ControlAttError.VALUE_OUT_OF_RANGE, "24 Hz is outside 25..400"),
        (b"\x03\x91\x01", ControlAttError.VALUE_OUT_OF_RANGE, "401 Hz"),
        (b"\x04\x03\xd0\x07", ControlAttError.VALUE_OUT_OF_RANGE, "±3 g"),
    ],
)
def test_bad_control_writes_carry_the_att_error_to_answer(
    payload: bytes, error: ControlAttError, message: str
) -> None:
    with pytest.raises(ControlCommandError, match=message) as caught:
        decode_control(payload)
    assert caught.value.att_error is error
    assert isinstance(caught.value, ProtocolError)
    assert f"0x{error.value:02X}" in str(caught.value)


def test_encoder_refuses_commands_the_sensor_would_reject() -> None:
    with pytest.raises(ControlCommandError):
        encode_control(SetSampleRate(1000))
    with pytest.raises(ControlCommandError):
        encode_control(SetRanges(16, 4000))


@pytest.mark.parametrize("percent", [0, 1, 57, 100])
def test_battery_level_round_trips(percent: int) -> None:
    assert decode_battery_level(encode_battery_level(percent)) == percent


@pytest.mark.parametrize(
    ("payload", "message"), [(b"", "0 bytes"), (b"\x10\x00", "2 bytes"), (b"\x65", "101 %")]
)
def test_bad_battery_levels_are_protocol_errors(payload: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        decode_battery_level(payload)


def test_battery_level_encoder_checks_the_range() -> None:
    with pytest.raises(ProtocolError, match=r"outside 0\.\.100"):
        encode_battery_level(101)
