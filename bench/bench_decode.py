"""Decoder throughput: 100,000 full-MTU (19-sample) hipsense packets, plus WitMotion frames.

Run: .venv/bin/python bench/bench_decode.py   (prints a markdown table for the README)
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from hipsense.protocol import (
    SensorInfo,
    decode_imu_packet,
    decode_imu_packets,
    decode_witmotion,
    encode_imu_packet,
    max_samples_per_packet,
)
from hipsense.protocol.witmotion import encode_witmotion_frames

PACKETS = 100_000
DISTINCT = 1_000  # distinct payloads cycled through, so caches do not flatter the numbers


def full_mtu_packets(rng: np.random.Generator) -> list[bytes]:
    n = max_samples_per_packet(247)
    raw = rng.integers(-32768, 32768, size=(DISTINCT, 2, n, 3), dtype=np.int16)
    return [encode_imu_packet(i * n, i * 50_000, acc, gyr) for i, (acc, gyr) in enumerate(raw)]


def witmotion_notifications(rng: np.random.Generator) -> list[bytes]:
    raw = rng.integers(-32768, 32768, size=(DISTINCT, 3, 1, 3), dtype=np.int16)
    return [encode_witmotion_frames(acc, gyr, angle) for acc, gyr, angle in raw]


def rate(decode: Callable[[bytes], int], payloads: list[bytes]) -> tuple[float, float]:
    """(packets/s, samples/s) over PACKETS decodes."""
    samples = 0
    start = time.perf_counter()
    for i in range(PACKETS):
        samples += decode(payloads[i % DISTINCT])
    elapsed = time.perf_counter() - start
    return PACKETS / elapsed, samples / elapsed


def run_rate(info: SensorInfo, payloads: list[bytes], per_call: int) -> tuple[float, float]:
    """(packets/s, samples/s) decoding ``per_call`` packets at a time (as replay does)."""
    runs = [list(payloads[i : i + per_call]) for i in range(0, DISTINCT, per_call)]
    samples, packets = 0, 0
    start = time.perf_counter()
    while packets < PACKETS:
        for run in runs:
            decoded = decode_imu_packets(list[bytes | bytearray](run), info)
            assert decoded is not None
            samples += len(decoded) * decoded.sample_count
            packets += len(decoded)
    elapsed = time.perf_counter() - start
    return packets / elapsed, samples / elapsed


def main() -> None:
    rng = np.random.default_rng(0)
    info = SensorInfo.for_ranges(sample_rate_hz=200)
    packets = full_mtu_packets(rng)
    rows = [
        (
            "hipsense v1, 19 samples (MTU 247)",
            rate(lambda p: decode_imu_packet(p, info).sample_count, packets),
        ),
        ("hipsense v1, 19 samples, 250 packets a call (replay)", run_rate(info, packets, 250)),
        (
            "WitMotion, 1 frame (20 bytes)",
            rate(lambda p: decode_witmotion(p).sample_count, witmotion_notifications(rng)),
        ),
    ]
    print(f"{PACKETS:,} packets per decoder, one core\n")
    print("| decoder | packets/s | samples/s | µs/packet |")
    print("|---|---:|---:|---:|")
    for name, (packets_s, samples_s) in rows:
        print(f"| {name} | {packets_s:,.0f} | {samples_s:,.0f} | {1e6 / packets_s:.1f} |")


if __name__ == "__main__":
    main()
