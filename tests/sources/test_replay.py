"""Replay: a recording becomes the SampleBatch stream live data gives."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
from collections import deque
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hipsense.protocol import SensorInfo, encode_imu_packet
from hipsense.protocol.witmotion import encode_witmotion_frames
from hipsense.recording import (
    Recording,
    RecordingHeader,
    RecordingWriter,
    SensorEntry,
    read_recording,
)
from hipsense.samples import SampleBatch
from hipsense.sources.replay import RecordingReplay, parse_speed

RATE_HZ = 100
PER_PACKET = 4
INFO = SensorInfo.for_ranges(sample_rate_hz=RATE_HZ)
WIT_INFO = SensorInfo.for_ranges(sample_rate_hz=50, model="WT901BLE")
HEADER = RecordingHeader(
    sensors=(SensorEntry("thigh", INFO), SensorEntry("shank", WIT_INFO, kind="witmotion"))
)


def _record(path: Path, packets: int = 50, *, skip: int = 20, duplicate: int = 30) -> Path:
    """Thigh packets of 4 samples (seq and device clock consistent, arrival 5-8 ms late),
    one dropped, one duplicated, one malformed; shank WitMotion frames interleaved."""
    rng = np.random.default_rng(1)
    with RecordingWriter(path, HEADER) as writer:
        for k in range(packets):
            seq = k * PER_PACKET
            device_s = 100.0 + seq / RATE_HZ  # device clock started long before
            raw = np.full((PER_PACKET, 3), seq, dtype=np.int16) + np.arange(PER_PACKET)[:, None]
            payload = encode_imu_packet(seq, round(device_s * 1e6), raw, -raw)
            arrival = (seq + PER_PACKET - 1) / RATE_HZ + rng.uniform(0.005, 0.008)
            if k != skip:
                writer.write_packet("thigh", payload, t_host_s=arrival)
            if k == duplicate:
                writer.write_packet("thigh", payload, t_host_s=arrival + 0.001)
            if k == 10:
                writer.write_packet("thigh", b"\x01\x02garbage", t_host_s=arrival)
            if k % 2 == 0:
                frames = encode_witmotion_frames(
                    np.full((2, 3), k), np.zeros((2, 3)), np.zeros((2, 3))
                )
                writer.write_packet("shank", frames, t_host_s=arrival)
    return path


def _concat(batches: list[SampleBatch], sensor: str) -> tuple[np.ndarray, np.ndarray]:
    mine = [b for b in batches if b.sensor_id == sensor]
    return np.concatenate([b.t_s for b in mine]), np.concatenate([b.acc_mps2 for b in mine])


def test_sync_replay_decodes_maps_time_and_reports_losses(tmp_path: Path) -> None:
    replay = RecordingReplay(read_recording(_record(tmp_path / "r.jsonl")))
    batches = list(replay.batches())
    t_s, acc = _concat(batches, "thigh")
    assert len(t_s) == 49 * PER_PACKET
    assert np.all(np.diff(t_s) > 0)
    # spacing from the device clock, placed on the host clock by the live clock mapper
    # (whose lower-envelope estimate may tighten by the arrival jitter, never go back)
    np.testing.assert_allclose(np.diff(t_s[:4]), 1 / RATE_HZ, rtol=1e-6)
    steps = np.diff(t_s)
    off = np.abs(steps - 1 / RATE_HZ) > 0.004
    assert off.sum() == 1 and steps[off][0] == pytest.approx(5 / RATE_HZ, abs=0.004)  # the gap
    assert 0.0 <= t_s[0] < 0.01
    np.testing.assert_allclose(acc[:4, 0], np.arange(4) * INFO.acc_scale_mps2_per_lsb)
    after_gap = [b for b in batches if b.sensor_id == "thigh" and b.lost_before]
    assert [b.lost_before for b in after_gap] == [PER_PACKET]
    assert replay.stats.lost_samples == PER_PACKET
    assert replay.stats.malformed_packets == 1
    assert replay.stats.duplicate_packets == 1


def test_witmotion_goes_through_the_live_assembler(tmp_path: Path) -> None:
    rec = read_recording(_record(tmp_path / "w.jsonl"))
    batches = list(RecordingReplay(rec, sensor_ids=["shank"]).batches())
    assert {b.sensor_id for b in batches} == {"shank"}
    t_s, _ = _concat(batches, "shank")
    assert len(t_s) == 50 and np.all(np.diff(t_s) >= 0)
    # the live WitMotionAssembler stamps each notification's last frame at its arrival
    np.testing.assert_allclose(t_s[1::2], rec.t_host_s[rec.sensor_ids == "shank"])


def test_replay_stats_count_skipped_witmotion_frames(tmp_path: Path) -> None:
    reply = bytes([0x55, 0x71]) + bytes(18)  # a register reply: not IMU data
    imu = encode_witmotion_frames(np.ones((1, 3)), np.zeros((1, 3)), np.zeros((1, 3)))
    with RecordingWriter(tmp_path / "s.jsonl", HEADER) as writer:
        writer.write_packet("shank", imu + reply, t_host_s=0.1)
        writer.write_packet("shank", reply, t_host_s=0.2)
    replay = RecordingReplay(read_recording(tmp_path / "s.jsonl"))
    assert sum(len(b) for b in replay.batches()) == 1
    assert replay.stats.skipped_frames == 2 and replay.stats.malformed_packets == 0


def test_unknown_sensor_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no sensor"):
        RecordingReplay(read_recording(_record(tmp_path / "u.jsonl")), sensor_ids=["hip"])


def _total(batches: list[SampleBatch]) -> int:
    return sum(len(b) for b in batches)


async def _collect(rec: Recording, speed: float | None) -> tuple[list[SampleBatch], float]:
    start = time.perf_counter()
    batches = [b async for b in RecordingReplay(rec).stream(speed=speed)]
    return batches, time.perf_counter() - start


async def test_async_stream_paces_by_speed_and_matches_sync(tmp_path: Path) -> None:
    rec = read_recording(_record(tmp_path / "a.jsonl"))
    duration_s = float(rec.t_host_s[-1] - rec.t_host_s[0])  # about 2 s
    sync_total = _total(list(RecordingReplay(rec).batches()))
    fast, fast_s = await _collect(rec, None)
    paced, paced_s = await _collect(rec, 4.0)
    assert _total(fast) == _total(paced) == sync_total
    # Pacing never runs ahead of the recording's clock; unpaced never waits for it.
    assert paced_s >= duration_s / 4 - 0.02
    assert fast_s < paced_s


async def test_stream_yields_to_the_event_loop_when_unpaced(tmp_path: Path) -> None:
    rec = read_recording(_record(tmp_path / "y.jsonl"))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await _collect(rec, None)
    task.cancel()
    assert ticks > 5


def test_reconnect_marker_resumes_a_rebooted_sensor(tmp_path: Path) -> None:
    path = tmp_path / "re.jsonl"
    with RecordingWriter(path, HEADER) as writer:
        for k in range(10):
            raw = np.zeros((PER_PACKET, 3), dtype=np.int16)
            writer.write_packet(
                "thigh", encode_imu_packet(1000 + k * 4, k * 40_000, raw, raw), k * 0.04
            )
        writer.write_marker("reconnect", 0.5, sensor="thigh")
        for k in range(10):  # rebooted: counter and clock from zero
            raw = np.zeros((PER_PACKET, 3), dtype=np.int16)
            writer.write_packet(
                "thigh", encode_imu_packet(k * 4, k * 40_000, raw, raw), 1.0 + k * 0.04
            )
    replay = RecordingReplay(read_recording(path))
    t_s, _ = _concat(list(replay.batches()), "thigh")
    assert len(t_s) == 80 and np.all(np.diff(t_s) > 0)
    assert replay.stats.out_of_order_packets == 0


@pytest.mark.parametrize(
    ("text", "speed"), [("1", 1.0), ("4", 4.0), ("max", None), (" MAX ", None)]
)
def test_parse_speed(text: str, speed: float | None) -> None:
    assert parse_speed(text) == speed


def test_parse_speed_refuses_negative() -> None:
    with pytest.raises(ValueError, match="positive"):
        parse_speed("-2")


@settings(max_examples=60, deadline=None)
@given(payloads=st.lists(st.binary(max_size=70), min_size=1, max_size=8))
def test_garbage_payloads_are_counted_never_raised(payloads: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "g.jsonl"
        with RecordingWriter(path, HEADER) as writer:
            for i, payload in enumerate(payloads):
                writer.write_packet("thigh" if i % 2 else "shank", payload, t_host_s=i * 0.01)
        replay = RecordingReplay(read_recording(path))
        batches = list(replay.batches())
    assert replay.stats.packets == len(payloads)
    assert all(len(b) > 0 for b in batches)


_STREAMS = st.lists(
    st.tuples(st.floats(0.0, 10.0, allow_nan=False), st.sampled_from(["thigh"] * 15 + ["shank"])),
    min_size=1,
    max_size=900,
)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(_STREAMS, _STREAMS.map(lambda p: p * (600 // len(p) + 1))),  # also > 2 chunks
    st.lists(st.integers(1, 400), max_size=6),
    st.lists(st.floats(0.0, 10.0, allow_nan=False), max_size=3),
    st.sampled_from([["thigh"], ["thigh", "shank"], ["shank"]]),
    st.booleans(),
)
def test_block_chunks_are_the_packet_by_packet_chunks(
    packets: list[tuple[float, str]],
    block_sizes: list[int],
    reconnect_s: list[float],
    wanted: list[str],
    in_order: bool,
) -> None:
    """Blocks of one sensor's packets with no reconnect due are cut with slices; any block
    gives the chunks (and resumes, and packet count) of the packet-by-packet rules."""
    times = [t for t, _ in packets]
    if in_order:  # as recorded; otherwise also times that step back
        times.sort()
    sids = [s if k % 3 else "thigh" for k, (_, s) in enumerate(packets)]  # long thigh runs too
    if len(block_sizes) % 2:  # one sensor throughout: every block can be cut with slices
        sids = ["thigh"] * len(packets)
    payloads = [bytes([k % 256]) for k in range(len(packets))]
    cuts = list(itertools.accumulate(block_sizes))
    bounds = [0, *[c for c in cuts if c < len(packets)], len(packets)]

    def block(a: int, b: int) -> Recording:
        return Recording(
            path="x",
            header=HEADER,
            t_host_s=np.asarray(times[a:b], dtype=np.float64),
            sensor_ids=np.asarray(sids[a:b], dtype=np.str_),
            payloads=tuple(payloads[a:b]),
            markers=(),
            calibrations=(),
            warnings=(),
        )

    def run(blockwise: bool) -> tuple[object, ...]:
        replay = RecordingReplay(block(0, len(packets)), sensor_ids=wanted)
        replay._reset()
        resumed: list[str] = []

        def resume(sensor_id: str) -> None:
            resumed.append(sensor_id)

        replay._resume = resume  # type: ignore[method-assign]
        reconnects = {"thigh": deque(sorted(reconnect_s)), "shank": deque(sorted(reconnect_s))}
        if blockwise:
            blocks = [block(a, b) for a, b in itertools.pairwise(bounds) if b > a]
            chunks = list(replay.block_chunks(blocks, reconnects))
        else:
            flat = zip(times, sids, payloads, strict=True)
            chunks = list(replay.chunks(flat, reconnects))
        return chunks, resumed, replay.stats.packets

    assert run(blockwise=True) == run(blockwise=False)
