"""Fuzzing every decoder: random bytes and mutated valid payloads raise nothing but ProtocolError.

One hypothesis example drives all five decoders, each with its own input, so every decoder sees
10,000 examples while the hypothesis engine's per-example cost is paid once. Hypothesis picks the
structure (packet shape, mutation kind, seed); a seeded numpy generator fills in the bulk bytes,
which would be slow to draw one choice at a time. Runs are derandomized: a failure reproduces
exactly, and hypothesis prints the falsifying seed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hipsense.errors import ProtocolError
from hipsense.protocol import (
    SensorInfo,
    decode_battery_level,
    decode_control,
    decode_imu_packet,
    decode_sensor_info,
    decode_witmotion,
    encode_imu_packet,
    encode_sensor_info,
)
from hipsense.protocol.hipsense_v1 import HEADER, MAG_FLAG

INFO = SensorInfo.for_ranges(sample_rate_hz=100)
MUTATIONS = ("none", "random", "flip", "truncate", "extend", "flip_truncate", "flip_extend")
MODELS = ("", "XIAO", "hipsense-virtual", "Sensör-ü-ßensor-long-name", "日本語のモデル名")
CONTROL_WRITES = (b"\x01", b"\x02", b"\x03\x19\x00", b"\x03\x90\x01", b"\x04\x10\xd0\x07")
Rng = np.random.Generator


def _imu(payload: bytes) -> object:
    return decode_imu_packet(payload, INFO)


def _valid_info(rng: Rng) -> bytes:
    info = SensorInfo.for_ranges(
        sample_rate_hz=int(rng.integers(1, 0x10000)),
        acc_range_g=int(rng.choice([2, 4, 8, 16])),
        gyr_range_dps=int(rng.choice([125, 250, 500, 1000, 2000])),
        model=str(rng.choice(MODELS)),
        mag_available=bool(rng.integers(2)),
        streaming=bool(rng.integers(2)),
    )
    return encode_sensor_info(info)


def _valid_witmotion(rng: Rng) -> bytes:
    frames = rng.integers(0, 256, size=(int(rng.integers(1, 13)), 20), dtype=np.uint8)
    frames[:, 0] = 0x55
    frames[:, 1] = rng.choice([0x61, 0x71], size=frames.shape[0])
    return frames.tobytes()


VALID: dict[str, Callable[[Rng], bytes]] = {
    "sensor_info": _valid_info,
    "control": lambda rng: CONTROL_WRITES[int(rng.integers(len(CONTROL_WRITES)))],
    "battery": lambda rng: bytes([int(rng.integers(0, 101))]),
    "witmotion": _valid_witmotion,
}
DECODERS: dict[str, Callable[[bytes], object]] = {
    "imu": _imu,
    "sensor_info": decode_sensor_info,
    "control": decode_control,
    "battery": decode_battery_level,
    "witmotion": decode_witmotion,
}


def mutate(valid: bytes, mutation: str, rng: Rng) -> bytes:
    """Apply one mutation kind; positions and bytes come from the seeded generator."""
    if mutation == "random":
        return rng.bytes(int(rng.integers(0, 300)))
    data = bytearray(valid)
    if "flip" in mutation:
        for position in rng.integers(0, len(data), size=int(rng.integers(1, 4))):
            data[position] ^= 1 << int(rng.integers(8))
    if "truncate" in mutation:
        del data[int(rng.integers(0, len(data))) :]
    if "extend" in mutation:
        data += rng.bytes(int(rng.integers(1, 25)))
    return bytes(data)


def imu_packet(mag: bool, count: int, seq: int, t0_us: int, rng: Rng) -> bytes:
    """A valid IMU notification; sample bytes are arbitrary because every int16 is valid."""
    header = HEADER.pack(1, count | (MAG_FLAG if mag else 0), seq, t0_us)
    return header + rng.bytes(count * (18 if mag else 12))


Case = tuple[bytes, dict[str, bytes], dict[str, str]]


def build_case(drawn: tuple[int, bool, int, int, int, int]) -> Case:
    seed, mag, count, seq, t0_us, mutation_index = drawn
    rng = np.random.default_rng(seed)
    valid = {"imu": imu_packet(mag, count, seq, t0_us, rng)}
    valid |= {name: make(rng) for name, make in VALID.items()}
    # one integer in base len(MUTATIONS) picks every decoder's mutation: fewer hypothesis draws
    digits = np.base_repr(mutation_index, len(MUTATIONS)).zfill(len(DECODERS))
    mutations = {name: MUTATIONS[int(digit)] for name, digit in zip(DECODERS, digits, strict=True)}
    inputs = {name: mutate(valid[name], mutations[name], rng) for name in DECODERS}
    return valid["imu"], inputs, mutations


# Strategies built once: constructing them inside each example costs more than decoding.
FUZZ_CASES = st.tuples(
    st.integers(0, 2**64 - 1),
    st.booleans(),
    st.integers(1, 63),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFFFFFF),
    st.integers(0, len(MUTATIONS) ** len(DECODERS) - 1),
).map(build_case)


@settings(
    max_examples=10_000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(FUZZ_CASES)
def test_decoders_raise_only_protocol_error_and_valid_packets_round_trip(
    case: Case,
) -> None:
    valid_imu, inputs, mutations = case
    packet = decode_imu_packet(valid_imu, INFO)
    again = encode_imu_packet(
        packet.seq, packet.t0_us, packet.acc_raw, packet.gyr_raw, packet.mag_raw
    )
    assert again == valid_imu
    for name, payload in inputs.items():
        try:
            DECODERS[name](payload)
        except ProtocolError as exc:
            assert mutations[name] != "none", f"valid {name} payload rejected: {exc}"
            assert str(exc), "a ProtocolError must say what was wrong"
