import numpy as np
import pytest

from hipsense.errors import ProtocolError
from hipsense.protocol import (
    SensorInfo,
    decode_imu_packet,
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
