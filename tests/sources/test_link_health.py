"""Link health on its own: counter unwrapping, loss accounting and device-to-host clock mapping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hipsense.protocol import ImuPacketRun, SensorInfo, encode_imu_packet
from hipsense.sources.link_health import (
    ClockMapper,
    DeviceClock,
    PacketAssembler,
    PacketVerdict,
    SequenceTracker,
    unwrap,
)


def test_unwrap_picks_the_nearest_congruent_value() -> None:
    assert unwrap(5, 65_530, 1 << 16) == 65_541
    assert unwrap(65_530, 65_541, 1 << 16) == 65_530
    assert unwrap(10, 10, 1 << 16) == 10


def test_sequence_tracker_classifies_gap_duplicate_and_late_packets() -> None:
    seq = SequenceTracker()
    assert seq.observe(65_500, 19).verdict is PacketVerdict.ACCEPT
    gap = seq.observe((65_500 + 19 + 38) % 65_536, 19)  # two packets missing, across the wrap
    assert (gap.verdict, gap.first_index, gap.lost_before) == (PacketVerdict.ACCEPT, 65_557, 38)
    assert seq.observe((65_500 + 57) % 65_536, 19).verdict is PacketVerdict.DUPLICATE
    assert seq.observe(65_519, 19).verdict is PacketVerdict.OUT_OF_ORDER
    assert (seq.received_samples, seq.lost_samples, seq.duplicates, seq.out_of_order) == (
        38,
        38,
        1,
        1,
    )
    assert seq.loss_pct == pytest.approx(50.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["ok", "drop", "dup", "swap"]), min_size=1, max_size=400))
def test_sequence_tracker_accounts_for_every_sample(events: list[str]) -> None:
    """Whatever the link does, received + lost covers every sample up to the newest one."""
    n, sent, arrivals = 7, 0, []
    for event in events:
        packet = (sent % 65_536, sent)
        sent += n
        if event == "ok":
            arrivals.append(packet)
        elif event == "dup":
            arrivals += [packet, packet]
        elif event == "swap" and arrivals:
            arrivals.insert(len(arrivals) - 1, packet)
    seq = SequenceTracker()
    accepted = [i for s, i in arrivals if seq.observe(s, n).verdict is PacketVerdict.ACCEPT]
    assert accepted == sorted(set(accepted))  # in order, each once
    if accepted:
        assert seq.received_samples + seq.lost_samples == accepted[-1] + n - arrivals[0][1]


def test_device_clock_unwraps_u32_microseconds() -> None:
    clock = DeviceClock()
    stamps = [(4_294_967_000 + k * 5_000) % (1 << 32) for k in range(4)]
    assert [clock.unwrap_us(t) for t in stamps] == [4_294_967_000 + k * 5_000 for k in range(4)]


@pytest.mark.parametrize("drift_ppm", [-300.0, 0.0, 250.0])
def test_clock_mapper_removes_arrival_jitter_and_follows_drift(drift_ppm: float) -> None:
    """Device clock off by ``drift_ppm``, packets every 15 ms arriving 2 ms + Exp(8 ms) late:
    mapped sample times stay within a millisecond of the truth (plus the 2 ms floor)."""
    rng = np.random.default_rng(7)
    true_s = np.arange(0.0, 300.0, 0.015) + 10.0
    device_s = 1234.5 + (true_s - 10.0) * (1 + drift_ppm * 1e-6)
    arrival_s = true_s + 0.002 + rng.exponential(0.008, true_s.size)
    mapper = ClockMapper()
    errors_ms = []
    for d, a, t in zip(device_s, arrival_s, true_s, strict=True):
        mapper.observe(float(d), float(a))
        errors_ms.append((mapper.to_host_s(np.array([d]))[0] - t) * 1e3)
    late = np.array(errors_ms[len(errors_ms) // 10 :])  # after the first 30 s
    assert np.all(np.abs(late - 2.0) < 1.0), (late.min(), late.max())


def _packets(first: int, count: int, per_packet: int, rate_hz: int) -> list[bytes]:
    out = []
    for start in range(first, first + count, per_packet):
        k = np.arange(start, start + per_packet)[:, None] + np.zeros(3, dtype=int)
        out.append(encode_imu_packet(start, start * 1_000_000 // rate_hz, k, -k))
    return out


def test_assembler_splits_batches_at_gaps_and_stays_monotonic() -> None:
    info = SensorInfo.for_ranges(sample_rate_hz=100)
    asm = PacketAssembler("right_thigh", info)
    payloads = _packets(0, 40, 10, 100) + _packets(60, 20, 10, 100)  # samples 40-59 lost
    items = [(0.5 + i * 0.1, p) for i, p in enumerate(payloads)] + [(9.0, b"\x01\x02")]
    batches = asm.assemble(items)
    assert [(b.meta["first_index"], len(b), b.lost_before) for b in batches] == [
        (0, 40, 0),
        (60, 20, 20),
    ]
    assert asm.counts().malformed == 1 and asm.counts().lost_samples == 20
    t_s = np.concatenate([b.t_s for b in batches])
    assert np.all(np.diff(t_s) > 0)


def test_assembler_starts_a_new_epoch_when_the_sensor_rebooted() -> None:
    info = SensorInfo.for_ranges(sample_rate_hz=100)
    asm = PacketAssembler("left_thigh", info)
    first = asm.assemble([(1.0 + i * 0.1, p) for i, p in enumerate(_packets(0, 500, 10, 100))])
    asm.resume(info)
    again = asm.assemble([(20.0, p) for p in _packets(0, 20, 10, 100)])  # counter restarted
    assert sum(len(b) for b in again) == 20
    assert again[0].t_s[0] > first[-1].t_s[-1]


def test_assembler_resolves_a_gap_longer_than_the_counter_by_device_time() -> None:
    """40,000 samples (200 s at 200 Hz) missing: the u16 counter alone would read it as
    40,000 - 65,536 < 0, i.e. an old packet; the device clock says how long it really was."""
    info = SensorInfo.for_ranges(sample_rate_hz=200)
    asm = PacketAssembler("right_thigh", info)
    ZEROS = np.zeros((10, 3), dtype=np.int16)
    before = _packets(0, 100, 10, 200)
    after = [
        encode_imu_packet(s % 65_536, s * 5_000 % (1 << 32), ZEROS, ZEROS)
        for s in range(40_100, 40_200, 10)
    ]
    batches = asm.assemble([(1.0, p) for p in before] + [(201.0, p) for p in after])
    assert [(b.meta["first_index"], b.lost_before) for b in batches] == [(0, 0), (40_100, 40_000)]
    assert asm.counts().out_of_order == 0


def _link(events: list[str], per_packet: int, rate_hz: int) -> list[tuple[float, bytes]]:
    """A stream across both wraps (counter and clock) in which packets go missing, come twice,
    late or malformed, with arrival jitter; each event is one packet sent."""
    rng = np.random.default_rng(len(events))
    start, out = 65_536 - 3 * per_packet, []
    for k, event in enumerate(events):
        first = start + k * per_packet
        raw = rng.integers(-2000, 2000, size=(2, per_packet, 3))
        t_us = (first * 1_000_000 // rate_hz + (1 << 32) - 20_000) % (1 << 32)
        payload = encode_imu_packet(first, t_us, raw[0], raw[1])
        arrival = (first - start + per_packet) / rate_hz + 0.004 + 0.01 * rng.random()
        if event == "drop":
            continue
        if event == "bad":
            payload = payload[:-1]
        out.append((arrival, payload))
        if event == "dup":
            out.append((arrival + 0.001, payload))
        if event == "swap" and len(out) > 1:
            out[-2], out[-1] = out[-1], out[-2]
    return out


class _EachPacket(PacketAssembler):
    """The packet-by-packet path only."""

    def _accept_run(self, run: ImuPacketRun, arrivals: list[float]) -> None:
        return None


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.sampled_from(["ok"] * 6 + ["drop", "dup", "swap", "bad"]), min_size=1, max_size=300
    ),
    st.lists(st.integers(1, 40), min_size=1, max_size=20),
)
def test_assembler_handles_a_chunk_at_once_as_packet_by_packet(
    events: list[str], cuts: list[int]
) -> None:
    """Whole chunks of packets are handled with array operations when nothing is odd about
    them: batches (bit for bit) and counts are those of handling each packet on its own."""
    info = SensorInfo.for_ranges(sample_rate_hz=100)
    items = _link(events, 7, 100)
    chunked, single = PacketAssembler("thigh", info), _EachPacket("thigh", info)
    got, want, i, c = [], [], 0, 0
    while i < len(items):
        step = cuts[c % len(cuts)]
        got += chunked.assemble(items[i : i + step])
        want += single.assemble(items[i : i + step])
        i, c = i + step, c + 1
    assert chunked.counts() == single.counts()
    if chunked.mapper.ready or single.mapper.ready:
        one = np.array([1.0])
        assert chunked.mapper.to_host_s(one) == single.mapper.to_host_s(one)
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert (a.lost_before, a.meta) == (b.lost_before, b.meta)
        for x, y in ((a.t_s, b.t_s), (a.acc_mps2, b.acc_mps2), (a.gyr_radps, b.gyr_radps)):
            assert np.array_equal(x, y)


def test_the_magnetometer_reaches_the_batches() -> None:
    """Packets with the magnetometer bit: its samples (µT) come out with acc and gyr, in a
    run handled at once and packet by packet alike; a run that mixes layouts has none."""
    info = SensorInfo.for_ranges(sample_rate_hz=100)
    k = np.arange(10)[:, None] + np.zeros(3, dtype=int)
    mag = [encode_imu_packet(s, s * 10_000, k + s, -k, 3 * k + s) for s in range(0, 100, 10)]
    for asm in (PacketAssembler("thigh", info), _EachPacket("thigh", info)):
        batches = asm.assemble([(0.1, mag[0])]) + asm.assemble(
            [(0.2 + 0.1 * i, p) for i, p in enumerate(mag[1:])]
        )
        got = np.concatenate([b.mag_ut for b in batches if b.mag_ut is not None])
        assert all(b.mag_ut is not None for b in batches) and got.shape == (100, 3)
        raw = np.concatenate([3 * k + s for s in range(0, 100, 10)])
        np.testing.assert_array_equal(got, raw * info.mag_scale_ut_per_lsb)
    mixed = PacketAssembler("thigh", info)
    plain = encode_imu_packet(30, 300_000, k, -k)
    batches = mixed.assemble([(0.1, mag[0]), (0.2, mag[1])]) + mixed.assemble(
        [(0.3, mag[2]), (0.4, plain)]
    )
    assert [b.mag_ut is None for b in batches] == [False, True]


def test_witmotion_frames_of_another_kind_are_counted_as_skipped() -> None:
    """A register reply (55 71) among the IMU frames is dropped by the decoder and counted."""
    from hipsense.protocol.witmotion import FLAG_REGISTER, encode_witmotion_frames
    from hipsense.sources.link_health import WitMotionAssembler

    imu = encode_witmotion_frames(np.ones((2, 3)), np.zeros((2, 3)), np.zeros((2, 3)))
    reply = bytes([0x55, FLAG_REGISTER]) + bytes(18)
    asm = WitMotionAssembler("shank")
    batches = asm.assemble([(0.1, imu + reply), (0.2, reply + reply), (0.3, b"\x55")])
    counts = asm.counts()
    assert [len(b) for b in batches] == [2]
    assert (counts.received_samples, counts.skipped_frames, counts.malformed) == (2, 3, 1)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-1e-2, 1e-2, allow_nan=False), min_size=2, max_size=30),
    st.floats(0.5, 5.0),
)
def test_the_clock_line_slope_is_polyfits_to_the_bit(offsets: list[float], step_s: float) -> None:
    from hipsense.sources.link_health import _line_slope

    x = np.arange(len(offsets), dtype=np.float64) * step_s
    y = np.array(offsets, dtype=np.float64)
    assert _line_slope(x, y) == float(np.polyfit(x, y, 1)[0])
