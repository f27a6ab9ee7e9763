"""Every golden vector in firmware_protocol/vectors decodes to its expected values."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from protocol_files import PACKET_VECTOR_FILES, VECTORS, load_json

from hipsense.errors import ProtocolError
from hipsense.protocol import (
    ControlCommand,
    ControlCommandError,
    SetRanges,
    SetSampleRate,
    StartStreaming,
    StopStreaming,
    decode_control,
    decode_imu_packet,
    decode_sensor_info,
    encode_control,
    encode_imu_packet,
    encode_sensor_info,
    max_samples_per_packet,
)
from hipsense.protocol.hipsense_v1 import SEQ_MODULO, TIME_MODULO_US

INFO = load_json(VECTORS / "sensor_info.json")
SENSOR_INFO = decode_sensor_info(bytes.fromhex(INFO["hex"]))


def assert_packet_matches(payload: bytes, expected: dict[str, Any]) -> None:
    packet = decode_imu_packet(payload, SENSOR_INFO)
    assert (packet.version, packet.seq, packet.t0_us, packet.sample_count) == (
        expected["version"],
        expected["seq"],
        expected["t0_us"],
        expected["sample_count"],
    )
    np.testing.assert_array_equal(packet.acc_raw, expected["acc_raw"])
    np.testing.assert_array_equal(packet.gyr_raw, expected["gyr_raw"])
    assert (packet.mag_raw is not None) == expected["mag_present"]
    if expected["mag_present"]:
        np.testing.assert_array_equal(packet.mag_raw, expected["mag_raw"])
    np.testing.assert_allclose(
        packet.acc_mps2, np.asarray(expected["acc_raw"]) * SENSOR_INFO.acc_scale_mps2_per_lsb
    )


def test_the_vector_set_is_complete() -> None:
    names = {path.stem for path in PACKET_VECTOR_FILES}
    assert names == {
        "one_sample",
        "full_mtu_247",
        "counter_wrap",
        "timestamp_wrap",
        "int16_extremes",
        "magnetometer",
    }


@pytest.mark.parametrize("path", PACKET_VECTOR_FILES, ids=lambda p: p.stem)
def test_packet_vectors_decode_to_expected_values(path: Path) -> None:
    for packet in load_json(path)["packets"]:
        assert_packet_matches(bytes.fromhex(packet["hex"]), packet["expected"])


@pytest.mark.parametrize("path", PACKET_VECTOR_FILES, ids=lambda p: p.stem)
def test_python_encoder_reproduces_packet_vectors(path: Path) -> None:
    for packet in load_json(path)["packets"]:
        e = packet["expected"]
        payload = encode_imu_packet(e["seq"], e["t0_us"], e["acc_raw"], e["gyr_raw"], e["mag_raw"])
        assert payload.hex() == packet["hex"]


def test_mtu_vectors_fill_their_mtu() -> None:
    one = load_json(VECTORS / "one_sample.json")
    assert len(bytes.fromhex(one["packets"][0]["hex"])) == 20 == one["mtu"] - 3
    full = load_json(VECTORS / "full_mtu_247.json")["packets"][0]
    assert full["expected"]["sample_count"] == max_samples_per_packet(247) == 19
    mag = load_json(VECTORS / "magnetometer.json")["packets"][0]
    assert mag["expected"]["sample_count"] == max_samples_per_packet(247, with_mag=True)


@pytest.mark.parametrize(
    ("name", "modulo", "field"),
    [("counter_wrap", SEQ_MODULO, "seq"), ("timestamp_wrap", TIME_MODULO_US, "t0_us")],
)
def test_wrap_vectors_continue_across_the_wrap(name: str, modulo: int, field: str) -> None:
    first, second = (p["expected"] for p in load_json(VECTORS / f"{name}.json")["packets"])
    assert second[field] < first[field]
    step = (second[field] - first[field]) % modulo
    if field == "seq":
        assert step == first["sample_count"], "no sample lost across the counter wrap"
    else:
        assert 0 < step < 1_000_000, "the time wrap is a short step forward, not a jump back"


@pytest.mark.parametrize(
    "case", load_json(VECTORS / "invalid_packets.json")["cases"], ids=lambda c: c["name"]
)
def test_invalid_vectors_raise_protocol_error_saying_why(case: dict[str, Any]) -> None:
    assert case["error"] == "ProtocolError"
    with pytest.raises(ProtocolError, match=re.escape(case["message_contains"])):
        decode_imu_packet(bytes.fromhex(case["hex"]), SENSOR_INFO)


def test_sensor_info_vector() -> None:
    expected = INFO["expected"]
    assert SENSOR_INFO.model == expected["model"]
    assert (SENSOR_INFO.sample_rate_hz, SENSOR_INFO.acc_range_g, SENSOR_INFO.gyr_range_dps) == (
        expected["sample_rate_hz"],
        expected["acc_range_g"],
        expected["gyr_range_dps"],
    )
    assert SENSOR_INFO.acc_scale_mps2_per_lsb == expected["acc_scale_mps2_per_lsb"]
    assert SENSOR_INFO.gyr_scale_radps_per_lsb == expected["gyr_scale_radps_per_lsb"]
    assert SENSOR_INFO.streaming and not SENSOR_INFO.mag_available
    assert encode_sensor_info(SENSOR_INFO).hex() == INFO["hex"]


def _command(fields: dict[str, int]) -> ControlCommand:
    opcode = fields["opcode"]
    if opcode == 1:
        return StartStreaming()
    if opcode == 2:
        return StopStreaming()
    if opcode == 3:
        return SetSampleRate(fields["sample_rate_hz"])
    return SetRanges(fields["acc_range_g"], fields["gyr_range_dps"])


@pytest.mark.parametrize(
    "case", load_json(VECTORS / "control.json")["cases"], ids=lambda c: c["name"]
)
def test_control_vectors(case: dict[str, Any]) -> None:
    payload = bytes.fromhex(case["hex"])
    if "command" in case:
        command = _command(case["command"])
        assert decode_control(payload) == command
        assert encode_control(command) == payload
    else:
        with pytest.raises(ControlCommandError) as caught:
            decode_control(payload)
        assert caught.value.att_error == case["att_error"]
