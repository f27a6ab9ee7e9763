"""Fuzz the recording reader: damaged files raise only RecordingError, never crash."""

from __future__ import annotations

import json
import tempfile
import zlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hipsense.errors import RecordingError
from hipsense.protocol import SensorInfo
from hipsense.recording import RecordingHeader, RecordingWriter, SensorEntry, read_recording

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


def _read(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.jsonl"
        path.write_bytes(data)
        try:
            rec = read_recording(path, salvage=True)
        except RecordingError as exc:
            assert "\n" not in str(exc)
            return
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
