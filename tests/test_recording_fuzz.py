"""Fuzz the recording reader: damaged files raise only RecordingError, never crash."""

from __future__ import annotations

import itertools
import json
import tempfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hipsense.errors import RecordingError
from hipsense.protocol import SensorInfo
from hipsense.recording import (
    Recording,
    RecordingHeader,
    RecordingWriter,
    SensorEntry,
    read_recording,
)

_HEADER = RecordingHeader(sensors=(SensorEntry("thigh", SensorInfo.for_ranges(sample_rate_hz=50)),))


def _valid_bytes(gz: bool) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("v.jsonl.gz" if gz else "v.jsonl")
        with RecordingWriter(path, _HEADER) as writer:
            for i in range(20):
                writer.write_packet("thigh", bytes([1, 1, i, 0]), t_host_s=i / 50)
            writer.write_marker("note", t_host_s=0.5, text="x")
        return path.read_bytes()


_PLAIN, _GZ = _valid_bytes(False), _valid_bytes(True)


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int) -> bytes:
    buf = bytearray(data[: max(1, len(data) - cut)])
    for position, value in edits:
        buf[position % len(buf)] = value
    return bytes(buf)


def _salvaged(data: bytes) -> tuple[Recording | None, str | None]:
    """``data`` read as a recording with salvage: the recording (None if reading raised) and
    the message of what went wrong, if anything, without the temporary folder's name."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.jsonl"
        path.write_bytes(data)
        try:
            rec = read_recording(path, salvage=True)
        except RecordingError as exc:
            return None, str(exc).replace(folder, "")
        return rec, None if rec.error is None else str(rec.error).replace(folder, "")


def _read(data: bytes) -> None:
    rec, message = _salvaged(data)
    assert message is None or "\n" not in message
    if rec is not None:
        assert len(rec.t_host_s) == len(rec.payloads) == len(rec.sensor_ids)


_EDITS = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4)
_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(edits=_EDITS, cut=st.integers(0, 400), gz=st.booleans())
def test_mutated_recordings_only_raise_recording_error(
    edits: list[tuple[int, int]], cut: int, gz: bool
) -> None:
    _read(_mutate(_GZ if gz else _PLAIN, edits, cut))


@_SETTINGS
@given(data=st.binary(max_size=300), gz=st.booleans())
def test_random_bytes_only_raise_recording_error(data: bytes, gz: bool) -> None:
    _read(zlib.compress(data, wbits=31) if gz else data)


_JSON_ISH = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@_SETTINGS
@given(
    records=st.lists(
        st.fixed_dictionaries(
            {"type": st.sampled_from(["packet", "marker", "calibration", "header", "x"])},
            optional={
                "t_host_s": _JSON_ISH,
                "sensor": st.sampled_from(["thigh", "shank"]) | _JSON_ISH,
                "payload_hex": st.sampled_from(["0101", "0g"]) | _JSON_ISH,
                "kind": st.sampled_from(["note", "lunch"]) | _JSON_ISH,
                "calibration": _JSON_ISH,
            },
        ),
        max_size=5,
    )
)
def test_wrong_records_after_a_valid_header_only_raise_recording_error(
    records: list[dict[str, object]],
) -> None:
    lines = [json.dumps(r) for r in records]
    _read(_PLAIN.split(b"\n", 1)[0] + b"\n" + "\n".join(lines).encode())


_T_TEXT = st.sampled_from(
    ["0.5", "12", "-0.0", "1e3", "1E400", "01.5", "1.", ".5", "nan", "2.5e-3", "1" + "0" * 400]
)
_SENSOR_TEXT = st.sampled_from(["thigh", "shank", "th\\u0069gh", "Thigh", "", 'th"igh'])
_HEX_TEXT = st.sampled_from(["0a1b", "0A1B", "0a1", "zz", "", "0a 1b", "0a\\u00301b", "0a\t1b"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_T_TEXT, _SENSOR_TEXT, _HEX_TEXT, st.booleans()), max_size=6))
def test_packet_lines_read_without_json_read_as_json_reads_them(
    fields: list[tuple[str, str, str, bool]],
) -> None:
    """Packet lines in the writer's exact layout skip the json module; any variation of it
    (numbers, escapes, unknown sensors, odd hex, extra keys) gives what json gives, errors
    (file, line, problem) included."""
    from hipsense.recording import reader

    lines = [_PLAIN.split(b"\n", 1)[0].decode()]
    for t, sensor, hex_text, extra in fields:
        tail = ',"x":1' if extra else ""
        lines.append(
            f'{{"type":"packet","t_host_s":{t},"sensor":"{sensor}","payload_hex":"{hex_text}"{tail}}}'
        )
    text = ("\n".join(lines) + "\n").encode()

    def outcome() -> tuple[object, ...]:
        rec, message = _salvaged(text)
        if rec is None:
            return ("error", message)
        return (rec.t_host_s.tolist(), rec.sensor_ids.tolist(), rec.payloads, message)

    fast = outcome()
    original, original_run = reader._add_written_packet, reader._add_written_run
    reader._add_written_packet = lambda builder, line: False
    reader._add_written_run = lambda builder, *fields: False
    try:
        assert outcome() == fast
    finally:
        reader._add_written_packet, reader._add_written_run = original, original_run


@pytest.mark.parametrize("kind", ["packet", "marker"])
def test_a_time_too_large_for_a_float_is_a_recording_error(tmp_path: Path, kind: str) -> None:
    """An integer like 10**400 has no float: the line is refused with its file and number."""
    record = (
        f'{{"type":"packet","t_host_s":{10**400},"sensor":"thigh","payload_hex":"0101"}}'
        if kind == "packet"
        else f'{{"type":"marker","t_host_s":{10**400},"kind":"note"}}'
    )
    path = tmp_path / "huge.jsonl"
    path.write_bytes(_PLAIN.split(b"\n", 1)[0] + b"\n" + record.encode() + b"\n")
    with pytest.raises(RecordingError) as raised:
        read_recording(path)
    assert raised.value.line == 2
    assert "t_host_s is 1000" in str(raised.value) and "not a number of seconds" in str(
        raised.value
    )
    assert len(str(raised.value)) < 200
    rec = read_recording(path, salvage=True)  # salvaged: that record skipped, named
    assert rec.error is None and rec.skipped_records == 1 and rec.damaged
    assert rec.warnings[0].startswith("line 2: t_host_s is 1000")


_WRITTEN = '{{"type":"packet","t_host_s":{t},"sensor":"{s}","payload_hex":"{h}"}}'
_LINES = st.sampled_from(
    [
        _WRITTEN.format(t="0.5", s="thigh", h="0a1b"),
        _WRITTEN.format(t="1.25", s="thigh", h="01132600a00e"),
        _WRITTEN.format(t="-0.0", s="thigh", h=""),
        _WRITTEN.format(t="2", s="thigh", h="0A1B"),
        _WRITTEN.format(t="3e1", s="thigh", h="ff"),
        _WRITTEN.format(t="1E400", s="thigh", h="0a1b"),  # no float: an error
        _WRITTEN.format(t="1" + "0" * 400, s="thigh", h="0a1b"),  # no float either
        _WRITTEN.format(t="0.5", s="thigh", h="0a1"),  # odd hex: an error
        _WRITTEN.format(t="0.5", s="shank", h="0a1b"),  # unknown sensor: an error
        _WRITTEN.format(t="01.5", s="thigh", h="0a1b"),  # not a JSON number
        _WRITTEN.format(t="0.5", s="th\\u0069gh", h="0a1b"),  # an escape json reads
        _WRITTEN.format(t="0.5", s="thigh", h="0a1b") + "\r",
        _WRITTEN.format(t="0.5", s="thigh", h="0a1b")[:-1] + ',"x":1}',
        ' {"type":"packet","t_host_s":0.5,"sensor":"thigh","payload_hex":"0a1b"}',
        '{"type":"marker","t_host_s":0.7,"kind":"note","text":"x"}',
        '{"type":"calibration","t_host_s":0.8,"calibration":{"a":1}}',
        '{"type":"mystery","t_host_s":0.9}',
        "",
        "not json",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_LINES, max_size=40),
    st.sampled_from([1, 3, 8, 4096]),
    st.booleans(),
    st.booleans(),
)
def test_blocks_of_packet_lines_read_as_line_by_line(
    lines: list[str], block_lines: int, gz: bool, salvage: bool
) -> None:
    """Runs of packet lines in the writer's layout are read together; a block that mixes
    them with any other line (markers, variations, damage) gives what reading it line by
    line gives: the same records, blocks, warnings and errors at the same line."""
    import gzip

    from hipsense.recording import stream
    from hipsense.recording.reader import _add_or_skip, _Builder

    header = _PLAIN.split(b"\n", 1)[0]
    text = b"\n".join([header, *(line.encode() for line in lines)]) + b"\n"

    def outcome() -> list[object]:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / ("b.jsonl.gz" if gz else "b.jsonl")
            path.write_bytes(gzip.compress(text) if gz else text)
            got: list[object] = []
            try:
                for rec in stream.stream_recording(path, salvage=salvage, block_lines=block_lines):
                    error = None if rec.error is None else str(rec.error).replace(folder, "")
                    got.append((rec.t_host_s.tolist(), rec.sensor_ids.tolist(), rec.payloads,
                                rec.markers, rec.calibrations, rec.warnings, error))  # fmt: skip
            except RecordingError as exc:
                got.append(("error", str(exc).replace(folder, "")))
            return got

    def one_by_one(builder: _Builder, lines: list[bytes], first: int) -> None:
        for k, line in enumerate(lines):
            _add_or_skip(builder, line, first + k)

    together = outcome()
    original = stream.add_lines  # type: ignore[attr-defined]
    stream.add_lines = one_by_one  # type: ignore[attr-defined]
    try:
        assert outcome() == together
    finally:
        stream.add_lines = original  # type: ignore[attr-defined]


@given(st.lists(st.booleans(), max_size=40))
def test_the_runs_of_written_lines_cover_exactly_the_true_flags(flags: list[bool]) -> None:
    from hipsense.masks import runs

    got = runs(flags)
    covered = [False] * len(flags)
    for a, b in got:
        assert a < b
        covered[a:b] = [True] * (b - a)
    assert covered == flags
    assert all(b < a for (_, b), (a, _) in itertools.pairwise(got))  # maximal runs
    assert all(type(k) is int for run in got for k in run)  # plain ints, not numpy scalars
