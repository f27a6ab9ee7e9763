from collections.abc import Callable

import numpy as np
import pytest

from hipsense.errors import ProtocolError
from hipsense.protocol import (
    SensorInfo,
    decode_imu_packet,
    decode_imu_packets,
    decode_sensor_info,
    encode_imu_packet,
    encode_sensor_info,
    max_samples_per_packet,
)

INFO = SensorInfo.for_ranges(sample_rate_hz=200)


def test_one_sample_fits_the_minimum_att_payload() -> None:
    assert max_samples_per_packet(23) == 1
    assert len(encode_imu_packet(0, 0, [[1, 2, 3]], [[4, 5, 6]])) == 20


def test_mtu_247_carries_19_samples() -> None:
    assert max_samples_per_packet(247) == 19


def test_roundtrip_keeps_header_and_samples() -> None:
    rng = np.random.default_rng(1)
    acc = rng.integers(-32768, 32767, size=(19, 3), dtype=np.int16)
    gyr = rng.integers(-32768, 32767, size=(19, 3), dtype=np.int16)
    packet = decode_imu_packet(encode_imu_packet(65535, 2**32 - 1, acc, gyr), INFO)
    assert (packet.seq, packet.t0_us, packet.sample_count) == (65535, 2**32 - 1, 19)
    np.testing.assert_array_equal(packet.acc_raw, acc)
    np.testing.assert_allclose(packet.gyr_radps, gyr * INFO.gyr_scale_radps_per_lsb)


def test_length_disagreeing_with_count_is_rejected() -> None:
    payload = encode_imu_packet(0, 0, [[1, 2, 3]] * 2, [[4, 5, 6]] * 2)
    with pytest.raises(ProtocolError, match="declares 2 samples"):
        decode_imu_packet(payload[:-1], INFO)


def test_sensor_info_roundtrip() -> None:
    assert decode_sensor_info(encode_sensor_info(INFO)) == INFO


def test_max_samples_per_packet_follows_the_mtu() -> None:
    assert [max_samples_per_packet(m) for m in (0, 22, 23, 34, 35, 247, 1000)] == [
        0,
        0,
        1,
        1,
        2,
        19,
        63,
    ]
    assert max_samples_per_packet(28, with_mag=True) == 0
    assert max_samples_per_packet(29, with_mag=True) == 1


def test_magnetometer_packet_roundtrip() -> None:
    acc, gyr, mag = ([[i, -i, 2 * i]] * 3 for i in (1, 2, 3))
    payload = encode_imu_packet(10, 20, acc, gyr, mag)
    assert payload[1] == 0x80 | 3 and len(payload) == 8 + 3 * 18
    packet = decode_imu_packet(payload, INFO)
    assert packet.mag_raw is not None and packet.mag_ut is not None
    np.testing.assert_array_equal(packet.mag_raw, mag)
    np.testing.assert_allclose(packet.mag_ut, np.asarray(mag) * INFO.mag_scale_ut_per_lsb)
    assert packet == decode_imu_packet(payload, INFO)
    assert packet != decode_imu_packet(encode_imu_packet(10, 20, acc, gyr), INFO)


def test_decoded_arrays_do_not_alias_the_callers_buffer() -> None:
    buffer = bytearray(encode_imu_packet(0, 0, [[1, 2, 3]], [[4, 5, 6]]))
    packet = decode_imu_packet(buffer, INFO)
    buffer[8:20] = bytes(12)
    np.testing.assert_array_equal(packet.acc_raw, [[1, 2, 3]])


def test_seq_and_time_are_taken_modulo_their_width() -> None:
    packet = decode_imu_packet(encode_imu_packet(65536 + 5, 2**32 + 7, [[0] * 3], [[0] * 3]), INFO)
    assert (packet.seq, packet.t0_us) == (5, 7)


@pytest.mark.parametrize(
    ("acc", "gyr", "mag", "message"),
    [
        ([], [], None, "cannot encode 0"),
        ([[0, 0, 0]] * 64, [[0, 0, 0]] * 64, None, "cannot encode 64"),
        ([[0, 0, 0]], [[0, 0, 0]] * 2, None, "1 acc / 2 gyr"),
        ([[40000, 0, 0]], [[0, 0, 0]], None, "int16 range"),
        ([[0.5, 0, 0]], [[0, 0, 0]], None, "integer counts"),
        ([[0, 0, 0]], [[0, 0, 0]], [[0, 0, 0]] * 2, "2 mag samples"),
    ],
)
def test_encoder_rejects_what_the_wire_cannot_carry(
    acc: list[list[float]], gyr: list[list[int]], mag: list[list[int]] | None, message: str
) -> None:
    with pytest.raises(ProtocolError, match=message):
        encode_imu_packet(0, 0, acc, gyr, mag)


def test_sensor_info_model_is_cut_on_a_character_boundary() -> None:
    info = SensorInfo.for_ranges(sample_rate_hz=50, model="Sensör-ü-ßenß-long")
    payload = encode_sensor_info(info)
    assert len(payload) == 20 + 15
    assert decode_sensor_info(payload).model == "Sensör-ü-ßen"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b[:19], "expected at least 20"),
        (lambda b: b + b"x" * 17, "at most 36"),
        (lambda b: b"\x02" + b[1:], "protocol 2"),
        (lambda b: b[:2] + b"\x00\x00" + b[4:], "invalid rate"),
        (lambda b: b[:7] + b"\x00\x00\xc0\x7f" + b[11:], "invalid rate/scales"),
        (lambda b: b[:19] + b"\x01" + b[20:], "axis convention 1"),
        (lambda b: b + b"\xff", "not UTF-8"),
    ],
)
def test_sensor_info_rejects_malformed_payloads(
    mutate: Callable[[bytes], bytes], message: str
) -> None:
    with pytest.raises(ProtocolError, match=message):
        decode_sensor_info(mutate(encode_sensor_info(INFO)))


def test_sensor_info_ignores_reserved_flag_bits() -> None:
    payload = bytearray(encode_sensor_info(INFO))
    payload[1] |= 0xFC
    assert decode_sensor_info(payload) == INFO


def test_sensor_info_fields_out_of_wire_range_are_protocol_errors() -> None:
    with pytest.raises(ProtocolError, match="out of range"):
        encode_sensor_info(SensorInfo.for_ranges(sample_rate_hz=70_000))


@pytest.mark.parametrize("with_mag", [False, True])
def test_a_run_of_packets_decodes_as_each_packet_does(with_mag: bool) -> None:
    rng = np.random.default_rng(5)
    raw = rng.integers(-32768, 32767, size=(6, 3, 4, 3), dtype=np.int16)
    payloads = [
        encode_imu_packet(65_530 + 4 * k, 4_294_967_000 + 20_000 * k, a, g, m if with_mag else None)
        for k, (a, g, m) in enumerate(raw)
    ]
    run = decode_imu_packets(payloads, INFO)
    assert run is not None and len(run) == 6 and run.sample_count == 4
    each = [decode_imu_packet(p, INFO) for p in payloads]
    assert run.seq.tolist() == [p.seq for p in each]
    assert run.t0_us.tolist() == [p.t0_us for p in each]
    assert np.array_equal(run.acc_mps2, np.stack([p.acc_mps2 for p in each]))
    assert np.array_equal(run.gyr_radps, np.stack([p.gyr_radps for p in each]))
    if with_mag:
        assert run.mag_ut is not None
        mags = [p.mag_ut for p in each if p.mag_ut is not None]
        assert len(mags) == 6 and np.array_equal(run.mag_ut, np.stack(mags))
    else:
        assert run.mag_ut is None


def test_a_run_with_any_odd_packet_is_left_to_the_single_decoder() -> None:
    ok = [encode_imu_packet(k, k, [[k, 0, 0]] * 2, [[0, k, 0]] * 2) for k in range(3)]
    shorter = encode_imu_packet(9, 9, [[1, 2, 3]], [[4, 5, 6]])
    bad_version = bytes([2]) + ok[1][1:]
    reserved = ok[1][:1] + bytes([ok[1][1] | 0x40]) + ok[1][2:]
    assert decode_imu_packets([], INFO) is None
    for odd in (shorter, bad_version, reserved, ok[1][:-1]):
        assert decode_imu_packets([ok[0], odd, ok[2]], INFO) is None
        assert decode_imu_packets([odd, *ok], INFO) is None
